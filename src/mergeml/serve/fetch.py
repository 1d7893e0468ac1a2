"""Fetch a committed model through DVC's own API (the local cache, else the remote), check
it against its dvc.lock md5 and its trusted types, and write it with a manifest, atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from mergeml.errors import ModelFileError, PullError
from mergeml.model.io import load_model_bytes
from mergeml.serve.resolve import Target

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PER_CLONE = (
    "the default remote `local` (.dvc/storage) is per clone, so other clones cannot read "
    "it: configure a shared remote (`dvc remote add -d NAME URL`) and `dvc push` to it"
)


def _remote(root: Path, name: str | None) -> str:
    """``'NAME' (URL)`` of the remote DVC reads (the default one when ``name`` is None)."""
    from dvc.repo import Repo

    try:
        with Repo(str(root)) as repo:
            config = repo.config
            chosen = name or config["core"].get("remote")
            url = config["remote"].get(chosen, {}).get("url") if chosen else None
    except Exception as exc:  # any DVC or config failure: the remote stays unnamed
        log.debug("cannot read the DVC config: %s", exc)
        return f"'{name}'" if name else "the default DVC remote"
    if chosen is None:
        return "no DVC remote (none is configured)"
    return f"'{chosen}' ({url})"


def read_model(root: Path, target: Target, remote: str | None) -> bytes:
    """The committed bytes of the model, from the DVC cache or ``remote`` (default remote)."""
    import dvc.api
    from dvc.config import RemoteNotFoundError
    from dvc.exceptions import DvcException

    try:
        with dvc.api.open(
            target.model_path, repo=str(root), rev=target.commit, mode="rb", remote=remote
        ) as handle:
            data: bytes = handle.read()
            return data
    except RemoteNotFoundError as exc:
        raise PullError(f"DVC remote '{remote}' is not configured (see `dvc remote list`)") from exc
    except ImportError as exc:  # an s3://, gs://... remote without its DVC plugin
        raise PullError(f"cannot read DVC remote {_remote(root, remote)}: {exc}") from exc
    except (DvcException, OSError, KeyError, ValueError) as exc:
        log.debug("DVC could not read %s: %s", target.model_path, exc)
        raise PullError(
            f"{target.model_path} of {target.label} (md5 {target.md5[:8]}) is neither in the "
            f"DVC cache nor readable from remote {_remote(root, remote)}: the object is "
            f"missing or the remote unreachable; {PER_CLONE}"
        ) from exc


def verify(target: Target, data: bytes) -> None:
    """md5 against dvc.lock first (nothing unvouched is parsed), then types and versions."""
    actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if actual != target.md5:
        raise PullError(
            f"md5 mismatch: {target.model_path} of {target.label} from DVC is {actual[:8]} but "
            f"dvc.lock at {target.short} records {target.md5[:8]}; the stored copy is corrupted "
            "or was tampered with, nothing written"
        )
    try:
        load_model_bytes(data, f"{target.model_path} at {target.short}")
    except ModelFileError as exc:
        raise PullError(str(exc)) from exc


def manifest(target: Target, file_name: str) -> dict[str, Any]:
    """What `manifest.json` records: which model this is and what input it expects."""
    import sklearn

    return {
        "name": target.name,
        "version": target.version,
        "stage": target.stage,
        "commit": target.commit,
        "model_path": target.model_path,
        "file": file_name,
        "md5": target.md5,
        "sklearn_version": sklearn.__version__,  # the version `verify` loaded it with
        "input_schema": target.schema,
    }


def _replaceable(out: Path) -> bool:
    """Whether ``out`` may be replaced: absent, an empty directory, or an earlier pull."""
    if not out.exists() and not out.is_symlink():
        return True
    return (
        out.is_dir()
        and not out.is_symlink()
        and ((out / MANIFEST).is_file() or not any(out.iterdir()))
    )


def write_pulled(out: Path, target: Target, data: bytes) -> dict[str, Any]:
    """Write the model and ``manifest.json`` into ``out``: a temporary directory beside it,
    renamed into place; an earlier pull there is replaced, anything else refused."""
    if not _replaceable(out):
        raise PullError(f"{out} exists and is not an earlier `mergeml pull` output; choose --out")
    name = PurePosixPath(target.model_path).name
    doc = manifest(target, name)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    old: Path | None = None
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700: a server user must read the model
        (tmp / name).write_bytes(data)
        (tmp / MANIFEST).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            old = tmp.with_suffix(".old")
            out.rename(old)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            old.rename(out)  # the earlier pull stays as it was
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return doc
