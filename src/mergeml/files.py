"""Atomic file writes: a reader never sees a partial output."""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mergeml.errors import MergemlError


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as handle:  # on disk before it takes the final name
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual mode
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def round_floats(obj: Any, digits: int = 6) -> Any:
    """Return ``obj`` with every float rounded to ``digits`` and numpy scalars made plain.

    Dicts keep their keys, tuples and arrays become lists, ``-0.0`` becomes ``0.0``
    and non-finite floats are left as they are (``dumps_json`` refuses them).
    """
    if isinstance(obj, dict):
        return {key: round_floats(value, digits) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [round_floats(value, digits) for value in obj]
    np = sys.modules.get("numpy")  # no numpy objects can exist before numpy is imported
    if np is not None and isinstance(obj, np.ndarray | np.generic):
        return round_floats(obj.tolist(), digits)
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, float):
        value = float(obj)
        return round(value, digits) + 0.0 if math.isfinite(value) else value
    return obj


def _non_finite_path(obj: Any, path: str = "$") -> str | None:
    """Return a JSONPath-like location of the first NaN or infinity in ``obj``."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return path
    if isinstance(obj, dict):
        children: Any = ((f"{path}.{key}", value) for key, value in obj.items())
    elif isinstance(obj, list):
        children = ((f"{path}[{index}]", value) for index, value in enumerate(obj))
    else:
        return None
    for child_path, value in children:
        found = _non_finite_path(value, child_path)
        if found is not None:
            return found
    return None


def dumps_json(obj: Any, *, digits: int = 6) -> str:
    """Serialise ``obj`` byte-stably: rounded floats, sorted keys, indent 2, final newline.

    NaN and infinity are refused with an error naming where they are.
    """
    rounded = round_floats(obj, digits)
    where = _non_finite_path(rounded)
    if where is not None:
        raise MergemlError(f"refusing to write a NaN or infinite value at {where}")
    return json.dumps(rounded, indent=2, sort_keys=True, allow_nan=False) + "\n"


def read_parquet(path: Path) -> Any:
    """Read a Parquet file into pandas with as few intermediate copies as pyarrow allows.

    Memory-mapped input, one block per column, and the Arrow table released column by
    column as it is converted: the peak stays close to the size of the frame itself.
    """
    import pyarrow.parquet as pq

    table = pq.read_table(path, memory_map=True)
    return table.to_pandas(split_blocks=True, self_destruct=True)
