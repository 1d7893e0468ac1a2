"""Check a user's data before any experiment runs, so a bad file fails fast."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mergeml.config.schema import FileData, PrepareParams, parse_section
from mergeml.data.prepare import load_and_validate

log = logging.getLogger(__name__)


def preflight(param_sets: Iterable[Mapping[str, Any]], root: Path) -> None:
    """Load and validate every distinct file-backed data source among ``param_sets``.

    Generated and bundled sources are checked in the `prepare` stage itself; a user's
    own file is checked here, before DVC starts, and a problem raises DataError.
    """
    seen: set[str] = set()
    for params in param_sets:
        view = {k: params[k] for k in ("seed", "data", "split")}
        prepared = parse_section(PrepareParams, view, where="params")
        key = prepared.data.model_dump_json()
        if isinstance(prepared.data, FileData) and key not in seen:
            seen.add(key)
            log.info("checking %s", prepared.data.path)
            load_and_validate(prepared, root)
