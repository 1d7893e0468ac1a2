"""Check a user's data before any experiment runs, so a bad file fails fast."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from mergeml.config.schema import FileData, PrepareParams, parse_section
from mergeml.config.stage import declared_keys, view
from mergeml.data.prepare import load_and_validate
from mergeml.data.sources import require_tracked

log = logging.getLogger(__name__)


def preflight(
    param_sets: Iterable[Mapping[str, Any]],
    root: Path,
    *,
    is_tracked: Callable[[Path], bool],
) -> None:
    """Load and validate every distinct file-backed data source among ``param_sets``.

    Generated and bundled sources are checked in the `prepare` stage itself; a user's
    own file is checked here, before DVC starts, and a problem raises DataError. The
    file must be tracked by DVC or, as ``is_tracked`` tells, by git: experiments run in
    clean copies that hold nothing else.
    """
    keys = declared_keys(root / "dvc.yaml", "prepare")  # what the stage itself will read
    seen: set[str] = set()
    for params in param_sets:
        declared = view(params, keys, where="params")
        prepared = parse_section(PrepareParams, declared, where="params")
        key = prepared.data.model_dump_json()
        if isinstance(prepared.data, FileData) and key not in seen:
            seen.add(key)
            log.info("checking %s", prepared.data.path)
            require_tracked(root, prepared.data.path, is_tracked)
            load_and_validate(prepared, root)
