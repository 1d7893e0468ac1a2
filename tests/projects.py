"""Copy this repository's pipeline into a scratch directory (used by tests and benchmarks).

No side effects on import: the test environment is set up in conftest.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a project needs to run the pipeline; generated files are left out on purpose.
# data/raw holds only its README in a clone: a developer's own data files stay out.
PROJECT_FILES = (
    "dvc.yaml",
    "params",
    "pipelines",
    "src",
    ".gitignore",
    "data/raw/README.md",
    "data/labelled/README.md",  # a prepare dependency too (mergeml retrain's data)
)
DVC_FILES = (".dvc/config", ".dvc/.gitignore", ".dvcignore")
Edits = Mapping[str, Sequence[tuple[str, str]]]
TINY: Edits = {
    "params/data/synthetic.yaml": [("n_rows: 50000", "n_rows: 3000")],
    "params/model/hist_gradient_boosting.yaml": [("max_iter: 200", "max_iter: 20")],
    # 3,000 rows hold ~60 positives: gate the tiny model on what such data can show.
    "params/evaluate/default.yaml": [("average_precision: 0.25", "average_precision: 0.05")],
}


def copy_project(dest: Path, edits: Edits = {}) -> Path:  # noqa: B006 - read only
    """Copy the project files into ``dest`` and apply text ``edits`` (file -> pairs)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    for rel, pairs in edits.items():
        text = (dest / rel).read_text()
        for old, new in pairs:
            if old not in text:
                raise RuntimeError(f"{rel} no longer holds {old!r}")
            text = text.replace(old, new)
        (dest / rel).write_text(text)
    return dest


def copy_dvc_config(dest: Path) -> None:
    """Give an initialised project this repository's DVC config (remote, analytics off)."""
    for rel in DVC_FILES:
        shutil.copy2(ROOT / rel, dest / rel)
