"""`mergeml exp run`: real DVC experiments in a copy of the built tiny project."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mergeml.config.compose import compose_params
from mergeml.pipeline import exp_queue, experiments
from tests.helpers import dvc, git, mergeml

pytestmark = pytest.mark.pipeline

LOGISTIC = "sklearn.linear_model.LogisticRegression"


def exp_params(repo: Path) -> dict[str, dict[str, Any]]:
    """params.yaml of every experiment `dvc exp show --json` lists, by experiment name."""
    rows = json.loads(dvc(repo, "exp", "show", "--json").stdout)
    found = {}
    for row in rows:
        for exp in row.get("experiments") or []:
            for rev in exp["revs"]:
                data = rev.get("data") or {}
                found[rev["name"]] = data.get("params", {}).get("params.yaml", {}).get("data")
    return found


def snapshot(repo: Path) -> dict[str, str]:
    """sha256 of what an experiment must not touch: params/, params.yaml, dvc.lock, outputs."""
    files = [
        *sorted((repo / "params").rglob("*.yaml")),
        repo / "params.yaml",
        repo / "dvc.lock",
        repo / "models" / "model.skops",
        repo / "reports" / "metrics.json",
    ]
    return {
        p.relative_to(repo).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }


def cache_objects(repo: Path) -> set[str]:
    """Every object in the project's DVC cache (a trained model would add one)."""
    cache = repo / ".dvc" / "cache"
    return {p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()}


def assert_workspace_unchanged(repo: Path, before: dict[str, str]) -> None:
    assert git(repo, "status", "--porcelain") == ""
    assert snapshot(repo) == before


@pytest.fixture
def baseline(project: Path) -> dict[str, Any]:
    """params.yaml of the committed project, before any experiment."""
    assert exp_params(project) == {}
    return compose_params(project / "params")


def test_sweep_runs_one_experiment_per_point_and_leaves_the_workspace_alone(
    project: Path, baseline: dict[str, Any]
) -> None:
    before = snapshot(project)
    proc = mergeml(project, "exp", "run", "model.max_iter=5,10")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:2] == ["[1/2] model.max_iter=5", "[2/2] model.max_iter=10"]
    assert "2 experiment(s) done" in proc.stdout

    found = exp_params(project)
    assert len(found) == 2
    assert sorted(p["model"]["max_iter"] for p in found.values()) == [5, 10]
    for params in found.values():  # only the swept key differs from the baseline
        swept = {**baseline["model"], "max_iter": params["model"]["max_iter"]}
        assert params == {**baseline, "model": swept}
    assert_workspace_unchanged(project, before)


@pytest.mark.parametrize(
    ("override", "named"), [("model=nope", "'nope'"), ("model.foo=1", "'model.foo'")]
)
def test_bad_override_fails_before_anything_runs(
    project: Path, baseline: dict[str, Any], override: str, named: str
) -> None:
    before, cache = snapshot(project), cache_objects(project)
    proc = mergeml(project, "exp", "run", override)
    assert proc.returncode == 1
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("mergeml: error:")
    assert named in line
    assert exp_params(project) == {}
    assert cache_objects(project) == cache
    assert_workspace_unchanged(project, before)


def test_csv_without_the_target_column_fails_before_training(
    project: Path, baseline: dict[str, Any]
) -> None:
    """The issue's acceptance case: a user's file lacks `label`; nothing may be trained."""
    csv = project / "data" / "raw" / "no_label.csv"
    csv.write_text("amount,channel,is_fraud\n" + "".join(f"{i}.5,pos,{i % 2}\n" for i in range(40)))
    git(project, "add", "data/raw")
    git(project, "commit", "-q", "-m", "user data without a label column")
    before, cache = snapshot(project), cache_objects(project)

    proc = mergeml(
        project,
        "exp",
        "run",
        "data=file",
        "data.path=data/raw/no_label.csv",
        "data.target=label",
        "data.task=classification",
    )
    assert proc.returncode != 0
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("mergeml: error:")
    assert "'label'" in line
    assert exp_params(project) == {}
    assert cache_objects(project) == cache  # no new model, no prepared data
    assert_workspace_unchanged(project, before)


def test_dry_run_prints_the_plan_and_runs_nothing(project: Path, baseline: dict[str, Any]) -> None:
    before, cache = snapshot(project), cache_objects(project)
    proc = mergeml(project, "exp", "run", "--dry-run", "model=logistic_regression", "model.C=0.5,2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "[1/2] model=logistic_regression model.C=0.5",
        "[2/2] model=logistic_regression model.C=2",
    ]
    assert proc.stderr == ""
    assert exp_params(project) == {}
    assert cache_objects(project) == cache
    assert "No experiment tasks in the queue." in dvc(project, "queue", "status").stdout
    assert_workspace_unchanged(project, before)


def queue_run(repo: Path, *args: str) -> subprocess.Popen[str]:
    """`mergeml exp run --queue ARGS` in the background."""
    command = [sys.executable, "-m", "mergeml", "exp", "run", "--queue", "--timeout", "500"]
    return subprocess.Popen(
        [*command, *args], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def counted(stdout: str) -> list[int]:
    """How many tasks each `queue: ...` progress line counts."""
    lines = [line for line in stdout.splitlines() if line.startswith("queue: ")]
    return [sum(int(n) for n in re.findall(r"(\d+) \w+", line)) for line in lines]


def test_two_queued_runs_at_once_a_sweep_with_a_group_override_each_report_only_their_own(
    queue_stopped: Path, baseline: dict[str, Any]
) -> None:
    """One real queue (DVC workers are slow to start) checks a queued sweep with a group
    override (another model) and, started beside it, a second run: each waits for, counts
    and reports only its own tasks."""
    project = queue_stopped
    before = snapshot(project)
    sweep = queue_run(project, "--jobs", "1", "model=logistic_regression", "model.C=0.5,2")
    single = queue_run(project, "model.max_iter=5")
    results = [run.communicate(timeout=600) for run in (sweep, single)]

    for run, (out, err), own in zip((sweep, single), results, (2, 1), strict=True):
        assert run.returncode == 0, out + err
        assert counted(out), out
        assert set(counted(out)) == {own}, out  # never the other run's tasks
        assert [line for line in out.splitlines() if line.startswith("queue: ")][-1] == (
            f"queue: {own} success"
        )
        assert f"{own} experiment(s) done" in out
    found = list(exp_params(project).values())
    swept = [p for p in found if p["model"]["_target_"] == LOGISTIC]
    assert sorted(p["model"]["C"] for p in swept) == [0.5, 2.0]
    for params in swept:
        chosen = ["model=logistic_regression", f"model.C={params['model']['C']}"]
        assert params == compose_params(project / "params", chosen)
        assert params["data"] == baseline["data"]
    (other,) = [p for p in found if p not in swept]
    assert other == compose_params(project / "params", ["model.max_iter=5"])
    status = dvc(project, "queue", "status").stdout
    assert [line.split()[-1] for line in status.splitlines()[1:4]] == ["Success"] * 3
    deadline = time.monotonic() + 60  # `dvc queue stop` lets a worker finish exiting on its own
    while "Worker status: 0 active, 0 idle" not in status and time.monotonic() < deadline:
        time.sleep(1)
        status = dvc(project, "queue", "status").stdout
    assert "Worker status: 0 active, 0 idle" in status
    assert_workspace_unchanged(project, before)


# --- the queue's bookkeeping, with a failure injected into a fake `dvc` ----------------------

QUEUE_HEADER = "Task     Name        Created        Status"


class FakeDvc:
    """Plays `dvc` for run_queued: a queue holding an earlier run's failed task, then ours."""

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome
        self.rows = ["b937c99  fazed-molt  Nov 21, 2026  Failed"]
        self.calls: list[list[str]] = []

    def __call__(self, args: list[str], *, capture: bool = False) -> subprocess.CompletedProcess:
        self.calls.append(list(args))
        out = ""
        if args[:3] == ["exp", "run", "--queue"]:
            n = len(self.rows)
            self.rows.append(f"{n:07x}  new-{n}  02:44 PM  {self.outcome}")
            out = f"Queued experiment 'new-{n}' for future execution."
        elif args[:2] == ["queue", "status"]:
            out = "\n".join([QUEUE_HEADER, *self.rows, "", "Worker status: 0 active, 0 idle"])
        return subprocess.CompletedProcess(args, 0, out, "")


@pytest.mark.parametrize(("outcome", "expected"), [("Success", []), ("Failed", ["new-1", "new-2"])])
def test_queued_run_reports_only_its_own_tasks(outcome: str, expected: list[str]) -> None:
    planned = [
        experiments.Experiment((f"model.max_iter={n}",), (f"p:++model.max_iter={n}",), {})
        for n in (5, 10)
    ]
    fake = FakeDvc(outcome)
    assert exp_queue.run_queued(planned, jobs=1, timeout=5, poll=0, runner=fake) == expected
    assert ["queue", "start", "--jobs", "1"] in fake.calls


def test_queue_status_reads_names_dates_and_unnamed_tasks() -> None:
    out = "\n".join(
        [
            QUEUE_HEADER,
            "06db0ab  lucky-tole  02:42 PM       Success",
            "466bac5  dumpy-sike  Nov 21, 2026   Failed",
            "1234567              Nov 21, 2026   Queued",
            "89abcde              02:42 PM       Running",
            "",
            "Worker status: 1 active, 0 idle",
        ]
    )

    def runner(args: list[str], *, capture: bool = False) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(args, 0, out, "")

    assert exp_queue.queue_status(runner) == [
        ("06db0ab", "lucky-tole", "Success"),
        ("466bac5", "dumpy-sike", "Failed"),
        ("1234567", "1234567", "Queued"),
        ("89abcde", "89abcde", "Running"),
    ]
