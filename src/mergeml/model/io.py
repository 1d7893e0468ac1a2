"""Save and load fitted pipelines as canonical, checked skops files.

A model file is a skops zip rewritten into a canonical form, so the same fitted
model always gives the same bytes (and the same md5 in ``dvc.lock``), plus a
small ``mergeml.json`` member that records the scikit-learn version.

Loading checks everything it can *before* any object is constructed: the file is
a zip with ``schema.json`` (pickle and joblib files are never loaded), its md5
matches the expected one, every type it needs is in :data:`TRUSTED_TYPES`, and it
was written by the running scikit-learn version.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import sklearn
import skops
import skops.io
from sklearn.exceptions import InconsistentVersionWarning

from mergeml.errors import ModelFileError
from mergeml.files import write_bytes_atomic

logger = logging.getLogger(__name__)

# Types that skops does not trust by default but our pipelines need. This is a
# constant in code, never read from an artifact. It was found with
# ``skops.io.get_untrusted_types`` on every supported pipeline (see
# tests/unit/test_model_io.py, which checks the list is complete and minimal).
# skops leaves the two tree types out of its defaults on purpose: their node
# arrays hold raw indices that scikit-learn does not bounds-check, so a crafted
# file could crash the process at predict time. We accept that only because a
# model is checked against its md5 in dvc.lock; pass ``expected_md5`` to
# ``load_model`` whenever the file comes from anywhere but your own training.
TRUSTED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)

MODEL_FORMAT = 1
METADATA_MEMBER = "mergeml.json"
SCHEMA_MEMBER = "schema.json"

_ZIP_MAGIC = b"PK\x03\x04"
# The earliest timestamp a zip can hold; any fixed value makes the bytes stable.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# A regular file, rw-r--r--, in the Unix bits of the zip "external attributes".
_ZIP_FILE_MODE = 0o100644 << 16
_UNIX = 3
_SHOWN_TYPES = 3


# ---------------------------------------------------------------------------
# canonical form


def _state_dicts(node: Any) -> Iterator[dict[str, Any]]:
    """Yield every skops state dict (a dict with a ``__loader__``), depth first."""
    if isinstance(node, list):
        for item in node:
            yield from _state_dicts(item)
    elif isinstance(node, dict):
        if isinstance(node.get("__loader__"), str):
            yield node
        for value in node.values():
            yield from _state_dicts(value)


def _member_name(index: int, original: str) -> str:
    """Sequential member name that keeps the original suffix (``.npy``, ``.bin``...)."""
    return f"{index:05d}{PurePosixPath(original).suffix}"


def _renumber(node: Any, ids: dict[int, int], files: dict[str, str]) -> Any:
    """Copy ``node`` with ``__id__`` values and member names replaced by sequential ones.

    Ids start at 1: skops skips memoising a node whose ``__id__`` is falsy, which
    would break shared references for id 0. Key order is preserved because a
    skops dict state pairs its ``key_types`` list with its keys by position.
    """
    if isinstance(node, list):
        return [_renumber(item, ids, files) for item in node]
    if not isinstance(node, dict):
        return node
    is_state = isinstance(node.get("__loader__"), str)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if is_state and key == "__id__" and type(value) is int:
            out[key] = ids.setdefault(value, len(ids) + 1)
        elif is_state and key == "file" and isinstance(value, str):
            out[key] = files.setdefault(value, _member_name(len(files) + 1, value))
        else:
            out[key] = _renumber(value, ids, files)
    return out


def _zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """Write members, in order, into a zip with fixed timestamps and modes, uncompressed.

    Uncompressed on purpose: deflate output depends on the zlib build, which
    would make the md5 differ between machines.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, payload in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = _UNIX
            info.external_attr = _ZIP_FILE_MODE
            archive.writestr(info, payload)
    return buffer.getvalue()


def _metadata_bytes() -> bytes:
    """The ``mergeml.json`` member: format number and library versions."""
    meta = {
        "format": MODEL_FORMAT,
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
    }
    return json.dumps(meta, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _unresolvable_names(schema: dict[str, Any]) -> list[str]:
    """Names in ``schema`` that cannot be imported back as ``module.name``.

    skops happily writes a lambda, a nested function or a ``__main__`` class, but
    records only its module and ``__name__``, so loading it later fails.
    """
    bad: list[str] = []
    for state in _state_dicts(schema):
        module_name, name = state.get("__module__"), state.get("__class__")
        if not isinstance(module_name, str) or not isinstance(name, str):
            continue
        qualified = f"{module_name}.{name}"
        if qualified in bad:
            continue
        try:
            found = module_name not in {"__main__", "__mp_main__"} and hasattr(
                importlib.import_module(module_name), name
            )
        except Exception:  # any import failure means "cannot be found by name"
            found = False
        if not found:
            bad.append(qualified)
    return bad


def _raw_skops_bytes(model: Any) -> bytes:
    """``skops.io.dumps`` with its failures turned into ModelFileError."""
    try:
        return skops.io.dumps(model)
    except Exception as exc:  # skops raises TypeError, RecursionError, ...
        reason = " ".join(str(exc).split())[:300]
        raise ModelFileError(
            f"skops cannot serialise this model ({type(exc).__name__}: {reason}); "
            "user functions and classes must live in an importable module"
        ) from exc


def dumps_canonical(model: Any) -> bytes:
    """Serialise ``model`` with skops into canonical bytes (same model, same bytes)."""
    with zipfile.ZipFile(io.BytesIO(_raw_skops_bytes(model))) as raw:
        schema = json.loads(raw.read(SCHEMA_MEMBER))
        payloads = {name: raw.read(name) for name in raw.namelist() if name != SCHEMA_MEMBER}

    bad = _unresolvable_names(schema)
    if bad:
        raise ModelFileError(
            f"model refers to {', '.join(bad[:_SHOWN_TYPES])}, which cannot be imported by name; "
            "user functions and classes must live in an importable module "
            "(not __main__, a lambda or a nested function)"
        )

    files: dict[str, str] = {}
    canonical = _renumber(schema, {}, files)
    if set(files) != set(payloads):
        # A guard against a skops format change that this canonical form misses.
        raise ModelFileError(
            f"skops {skops.__version__} wrote zip members that schema.json does not "
            "reference (or the reverse); mergeml's canonical form needs updating"
        )
    schema_bytes = json.dumps(canonical, separators=(",", ":")).encode("utf-8")
    members = [(METADATA_MEMBER, _metadata_bytes()), (SCHEMA_MEMBER, schema_bytes)]
    members += [(new, payloads[old]) for old, new in files.items()]
    return _zip_bytes(members)


# ---------------------------------------------------------------------------
# save


def save_model(model: Any, path: Path) -> str:
    """Write ``model`` to ``path`` in canonical skops form; return the file's md5."""
    try:
        data = dumps_canonical(model)
    except ModelFileError as exc:
        raise ModelFileError(f"cannot save model to {path}: {exc}") from exc
    try:
        write_bytes_atomic(path, data)
    except OSError as exc:
        raise ModelFileError(f"cannot write model file {path}: {exc.strerror or exc}") from exc
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    logger.info("saved model to %s (md5 %s)", path, md5)
    return md5


# ---------------------------------------------------------------------------
# load


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, or ModelFileError if it is missing or unreadable."""
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc.strerror or exc}") from exc


def _check_skops_zip(path: Path, data: bytes) -> None:
    """Refuse anything but an intact zip holding ``schema.json``."""
    if not data:
        raise ModelFileError(f"{path} is empty, not a skops file")
    if not data.startswith(_ZIP_MAGIC):
        raise ModelFileError(
            f"{path} is not a skops file (no zip header); "
            "pickle and joblib files are never loaded, re-save the model with mergeml"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            broken = archive.testzip()
    except Exception as exc:  # BadZipFile, EOFError, NotImplementedError, ...
        raise ModelFileError(f"{path} is not a valid skops file (corrupted zip: {exc})") from exc
    if broken is not None:
        raise ModelFileError(f"{path} is corrupted: zip member {broken!r} fails its CRC check")
    if SCHEMA_MEMBER not in names:
        raise ModelFileError(
            f"{path} is not a skops file (zip without {SCHEMA_MEMBER}); "
            "pickle and joblib files are never loaded"
        )


def _check_md5(path: Path, data: bytes, expected_md5: str) -> None:
    """Refuse a file whose md5 differs from the one recorded in dvc.lock."""
    actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
    expected = expected_md5.strip().lower()
    if actual != expected:
        raise ModelFileError(
            f"{path} does not match dvc.lock: md5 {actual[:8]} but the lock records "
            f"{expected[:8]}; run `dvc pull` or `dvc repro`"
        )


def _check_trusted(path: Path, data: bytes) -> None:
    """Refuse a file needing any type outside :data:`TRUSTED_TYPES`."""
    try:
        found = skops.io.get_untrusted_types(data=data)
    except Exception as exc:  # a malformed schema.json raises many kinds
        reason = " ".join(str(exc).split())[:200]
        raise ModelFileError(
            f"{path} has an invalid skops schema ({type(exc).__name__}: {reason})"
        ) from exc
    untrusted = [name for name in found if name not in TRUSTED_TYPES]
    if untrusted:
        shown = ", ".join(untrusted[:_SHOWN_TYPES])
        more = f" and {len(untrusted) - _SHOWN_TYPES} more" if len(untrusted) > _SHOWN_TYPES else ""
        raise ModelFileError(f"{path} holds types mergeml does not trust: {shown}{more}")


def _recorded_sklearn_version(path: Path, data: bytes) -> str:
    """The scikit-learn version in the ``mergeml.json`` member."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            meta = json.loads(archive.read(METADATA_MEMBER))
    except KeyError as exc:
        raise ModelFileError(
            f"{path} records no scikit-learn version (no {METADATA_MEMBER}); "
            "re-save it with mergeml"
        ) from exc
    except ValueError as exc:
        raise ModelFileError(f"{path} has an unreadable {METADATA_MEMBER}: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelFileError(
            f"{path} has an unknown {METADATA_MEMBER} format (expected {MODEL_FORMAT})"
        )
    version = meta.get("sklearn_version")
    if not isinstance(version, str) or not version:
        raise ModelFileError(f"{path} records no scikit-learn version in {METADATA_MEMBER}")
    return version


def _check_sklearn_version(path: Path, data: bytes) -> None:
    """Refuse a file written by another scikit-learn version."""
    recorded = _recorded_sklearn_version(path, data)
    if recorded != sklearn.__version__:
        raise ModelFileError(
            f"{path} was saved with scikit-learn {recorded} but {sklearn.__version__} "
            f"is installed; install scikit-learn=={recorded} or retrain the model"
        )


def load_model(path: Path, *, expected_md5: str | None = None) -> Any:
    """Load a model saved by :func:`save_model`, after checking it is safe to construct."""
    return load_model_bytes(_read_bytes(path), path, expected_md5=expected_md5)


def load_model_bytes(data: bytes, path: Path | str, *, expected_md5: str | None = None) -> Any:
    """:func:`load_model` on bytes already read; ``path`` names them in errors."""
    path = Path(path)
    if expected_md5 is not None:  # first: a file dvc.lock does not vouch for is never parsed
        _check_md5(path, data, expected_md5)
    _check_skops_zip(path, data)
    _check_trusted(path, data)
    _check_sklearn_version(path, data)
    try:
        with warnings.catch_warnings():
            # Estimator states carry their own version: a mismatch is an error too.
            warnings.simplefilter("error", InconsistentVersionWarning)
            model = skops.io.loads(data, trusted=list(TRUSTED_TYPES))
    except Exception as exc:
        reason = " ".join(str(exc).split())[:300]
        raise ModelFileError(f"cannot load {path} ({type(exc).__name__}: {reason})") from exc
    logger.info("loaded model from %s", path)
    return model
