"""Read output hashes from a DVC ``dvc.lock`` file."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import yaml

from mergeml.errors import MergemlError, ModelFileError


def normalise_out_path(path: str) -> str:
    """A DVC output path in one spelling: forward slashes, no ``./`` or ``a/../``."""
    return posixpath.normpath(path.replace("\\", "/"))


def _read_lock(lock_path: Path) -> dict[str, Any]:
    """Parse ``lock_path`` into its ``stages`` mapping."""
    try:
        text = lock_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ModelFileError(f"lock file not found: {lock_path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"cannot read lock file {lock_path}: {exc}") from exc
    return parse_lock_text(text, str(lock_path))


def parse_lock_text(text: str, where: str) -> dict[str, Any]:
    """The ``stages`` mapping of dvc.lock ``text``."""
    try:
        # BaseLoader builds only str/list/dict (no Python objects) and keeps every scalar a
        # string, so an all-digit md5 stays a hash instead of becoming an int.
        lock = yaml.load(text, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader))
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise ModelFileError(f"cannot parse lock file {where}: {reason}") from exc
    stages = lock.get("stages") if isinstance(lock, dict) else None
    if not isinstance(stages, dict):
        raise ModelFileError(f"{where} is not a dvc.lock file (no 'stages' mapping)")
    return stages


def output_md5(lock_path: Path, out_path: str) -> str | None:
    """The md5 that ``lock_path`` records for output ``out_path``, or None if absent."""
    return _md5_in(_read_lock(lock_path), out_path)


def md5_in_lock_text(text: str, out_path: str, where: str = "dvc.lock") -> str | None:
    """The md5 that dvc.lock ``text`` (e.g. read from a git ref) records for ``out_path``."""
    return _md5_in(parse_lock_text(text, where), out_path)


def _md5_in(stages: dict[str, Any], out_path: str) -> str | None:
    wanted = normalise_out_path(out_path)
    for stage in stages.values():
        outs = stage.get("outs") if isinstance(stage, dict) else None
        for out in outs if isinstance(outs, list) else []:
            if not isinstance(out, dict) or not isinstance(out.get("path"), str):
                continue
            if normalise_out_path(out["path"]) == wanted:
                md5 = out.get("md5")
                return md5 if isinstance(md5, str) else None
    return None


def model_out_path(dvc_yaml: Path) -> str:
    """The model artifact's output path, as ``dvc_yaml`` declares it in ``artifacts:``."""
    from mergeml.config.compose import load_yaml
    from mergeml.config.stage import artifact_path

    try:
        doc = load_yaml(dvc_yaml)
    except MergemlError as exc:
        raise ModelFileError(
            f"cannot find the model artifact: {exc} (give --out PATH, the dvc.lock output)"
        ) from exc
    path = artifact_path(doc)
    if path is None:
        raise ModelFileError(
            f"{dvc_yaml} declares no model artifact (artifacts: with a path); "
            "give --out PATH, the dvc.lock output to compare with"
        )
    return path


def expected_model_md5(lock_path: Path, out_path: str | None = None) -> tuple[str, str]:
    """``(output path, md5)`` that ``lock_path`` records for the model artifact.

    The output is ``out_path`` when given, else the model artifact of the ``dvc.yaml``
    beside the lock; a missing lock, entry or md5 is a ModelFileError.
    """
    stages = _read_lock(lock_path)  # a missing or broken lock is the first thing to report
    out = out_path or model_out_path(lock_path.with_name("dvc.yaml"))
    md5 = _md5_in(stages, out)
    if md5 is None:
        raise ModelFileError(f"{lock_path} records no md5 for output {out}")
    return out, md5
