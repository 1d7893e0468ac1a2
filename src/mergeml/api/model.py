"""Model files: check one against its record before anyone loads it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mergeml.errors import UsageError


@dataclass(frozen=True)
class CheckedModel:
    path: Path
    model: Any
    compared_with: str | None  # the dvc.lock output whose md5 matched, or None (--no-lock)


def check_model(
    path: Path | None, lock: Path, out_path: str | None, *, no_lock: bool
) -> CheckedModel:
    """Load ``path`` (default: the workspace's model artifact) through every check: skops
    format, trusted types, md5 against the lock, scikit-learn version."""
    from mergeml.config.lockfile import expected_model_md5
    from mergeml.model.io import load_model
    from mergeml.project import workspace_layout

    path = path or Path(workspace_layout().model_path)

    if no_lock and out_path:
        raise UsageError("--out compares with dvc.lock; it does not go with --no-lock")
    expected = None if no_lock else expected_model_md5(lock, out_path)
    model = load_model(path, expected_md5=expected[1] if expected else None)
    return CheckedModel(path, model, expected[0] if expected else None)
