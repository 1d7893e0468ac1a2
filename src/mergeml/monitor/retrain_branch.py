"""The retraining branch's commit: the window's labelled rows as a new DVC-tracked file
under data/labelled/, listed in the data config's ``extra_files`` so the prepare stage
appends them to the training source, with the report beside it.

Built in a temporary worktree of the repository (the user's checkout is never touched)
on top of the remote branch when it exists, else of the remote's base branch; pushed as a
fast-forward, never forced.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mergeml.errors import MonitorError
from mergeml.monitor.labelled import write_rows
from mergeml.scm.worktree import commit_paths, fetch_ref, push_branch, worktree
from mergeml.yamlread import parse_yaml

if TYPE_CHECKING:
    import pandas as pd

LABELLED_DIR = "data/labelled"
_DATA_CHOICE = re.compile(r"^\s*-\s*data:\s*([A-Za-z0-9_.-]+)", re.MULTILINE)
_EXTRA_LINE = re.compile(r"^extra_files:.*$", re.MULTILINE)


@dataclass(frozen=True)
class BranchRequest:
    remote: str
    branch: str
    base: str
    model: str
    end: str  # the window's end date
    rows: pd.DataFrame
    report: str  # Markdown, committed beside the data


def dvc(work: Path, *args: str) -> str:
    """Run DVC in ``work``; its stdout; MonitorError with DVC's last message on failure."""
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=work, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        why = lines[-1] if lines else f"exit {proc.returncode}"
        raise MonitorError(f"dvc {args[0]} failed in the retraining worktree: {why}")
    return proc.stdout


def _same_dvc_remote(root: Path, work: Path) -> None:
    """Make the worktree push to the checkout's default DVC remote (a relative directory
    remote would otherwise resolve inside the temporary worktree)."""
    local = root / ".dvc" / "config.local"
    if local.is_file():
        shutil.copyfile(local, work / ".dvc" / "config.local")
    settings = dict(
        line.split("=", 1) for line in dvc(root, "config", "--list").splitlines() if "=" in line
    )
    name = settings.get("core.remote")
    url = settings.get(f"remote.{name}.url")  # relative directory remotes come resolved
    if not name or not url:
        raise MonitorError("no default DVC remote: `dvc remote add -d NAME URL` first")
    dvc(work, "remote", "modify", "--local", name, "url", url)


def data_params_file(work: Path) -> str:
    """params/data/<choice>.yaml: the data config params/config.yaml selects."""
    config = work / "params" / "config.yaml"
    found = _DATA_CHOICE.search(config.read_text(encoding="utf-8")) if config.is_file() else None
    if found is None:
        raise MonitorError("params/config.yaml selects no data config (`- data: NAME`)")
    return f"params/data/{found.group(1)}.yaml"


def add_extra_file(work: Path, data_file: str) -> str:
    """Append ``data_file`` to ``extra_files`` of the selected data config; its path."""
    rel = data_params_file(work)
    path = work / rel
    text = path.read_text(encoding="utf-8")
    doc = parse_yaml(text, rel)
    current = doc.get("extra_files") if isinstance(doc, dict) else None
    files = [str(f) for f in current or []]
    if data_file not in files:
        files.append(data_file)
    line = f"extra_files: {json.dumps(files)}"
    if _EXTRA_LINE.search(text):
        text = _EXTRA_LINE.sub(line.replace("\\", "\\\\"), text, count=1)
    else:
        text = text.rstrip("\n") + "\n" + line + "\n"
    path.write_text(text, encoding="utf-8")
    return rel


def _compose(work: Path) -> list[str]:
    """Regenerate params.yaml from params/ when the project has the compose stage."""
    if not (work / "params.yaml").is_file() or not (work / "pipelines/compose.py").is_file():
        return []
    from mergeml.config.compose import compose_to_file

    compose_to_file(work / "params", work / "params.yaml", check_estimators=False)
    return ["params.yaml"]


def _fill(work: Path, request: BranchRequest) -> list[str]:
    """Write the data, its .dvc file, the params and the report; the paths to commit."""
    stem = f"{LABELLED_DIR}/{request.model}-{request.end}"
    data_rel = f"{stem}.parquet"
    write_rows(request.rows, work / data_rel)
    dvc(work, "add", "--quiet", data_rel)
    params_rel = add_extra_file(work, data_rel)
    (work / f"{stem}.md").write_text(request.report, encoding="utf-8")
    dvc(work, "push", "--quiet", f"{data_rel}.dvc")
    ignore = f"{LABELLED_DIR}/.gitignore"
    return [f"{data_rel}.dvc", f"{stem}.md", params_rel, *_compose(work), ignore]


def build_branch(root: Path, request: BranchRequest) -> tuple[str, bool]:
    """Commit the labelled data on the retraining branch and push it; (commit, whether the
    branch existed on the remote before)."""
    remote, branch = request.remote, request.branch
    existing = fetch_ref(root, remote, f"refs/heads/{branch}", f"refs/remotes/{remote}/{branch}")
    base = fetch_ref(
        root, remote, f"refs/heads/{request.base}", f"refs/remotes/{remote}/{request.base}"
    )
    start = existing or base
    if start is None:
        raise MonitorError(f"{remote} has no branch {request.base} to start {branch} from")
    with worktree(root, start) as work:
        _same_dvc_remote(root, work)
        paths = _fill(work, request)
        message = (
            f"Retrain {request.model}: labelled data of the window ending {request.end}\n\n"
            f"Opened by `mergeml retrain`; the report is {paths[1]}."
        )
        commit_paths(work, paths, message)
        return push_branch(work, remote, branch), existing is not None
