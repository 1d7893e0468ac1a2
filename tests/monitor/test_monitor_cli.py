"""`mergeml monitor drift|performance` on the command line: the stage resolved from git,
the table, the files written, and the exit codes (0 fine, 1 drifted/degraded, 2 error)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from mergeml.cli import main
from mergeml.data.synthetic import generate_transactions
from mergeml.serve.predlog import PredictionLog
from tests.helpers import git
from tests.monitor.monitor_project import NOW, Project, labels_for, make_project, write_log

WINDOW = ["--since", (NOW - timedelta(days=7)).date().isoformat(), "--until", NOW.isoformat()]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("cli") / "repo")
    git(project.root, "branch", "release/production", project.commit)
    git(project.root, "tag", "-a", "tabular-model@v1.0.0", "-m", "register", project.commit)
    return project


@pytest.fixture(scope="module")
def logs(project: Project, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("logs")
    same = generate_transactions(1000, seed=5, positive_rate=0.1)
    moved = generate_transactions(1000, seed=5, positive_rate=0.1, drift=True)
    write_log(root / "same", project, same)
    ids = write_log(root / "moved", project, moved)
    labels = labels_for(moved, ids)
    labels["label"] = 1 - labels["label"]  # the model is now wrong
    log = PredictionLog(str(root / "moved"))
    log.record_feedback(labels)
    log.close()
    return {"same": root / "same", "moved": root / "moved"}


def mergeml(
    project: Project,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
) -> tuple[int, str, str]:
    monkeypatch.chdir(project.root)
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_drift_of_a_stage_prints_the_table_writes_the_pages_and_exits_1(
    project: Project,
    logs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    html, md = tmp_path / "drift.html", tmp_path / "drift.md"
    code, out, err = mergeml(
        project,
        capsys,
        monkeypatch,
        "monitor",
        "drift",
        "--stage",
        "production",
        "--log",
        str(logs["moved"]),
        *WINDOW,
        "--html",
        str(html),
        "--markdown",
        str(md),
    )
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0].startswith("column")
    assert any(line.startswith("amount ") and " yes " in line for line in lines)
    assert lines[-1].startswith("dataset drift: ")
    assert lines[-1].split("; ")[0].endswith(": yes")
    page = html.read_text()
    assert "<svg" in page
    assert "amount" in page
    assert "tabular-model v1.0.0 (production)" in md.read_text()


def test_no_drift_exits_0_and_json_is_a_document(
    project: Project,
    logs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = mergeml(
        project,
        capsys,
        monkeypatch,
        "monitor",
        "drift",
        "--rev",
        "HEAD",
        "--log",
        str(logs["same"]),
        *WINDOW,
        "--json",
    )
    doc = json.loads(out)
    assert code == 0
    assert doc["drift"] is False
    assert doc["model"]["md5"] == project.md5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage", "qa"], "unknown stage 'qa'"),
        (["--stage", "staging"], "nothing in stage 'staging'"),
        (["--rev", "no-such-ref"], "no-such-ref"),
        (["--since", "yesterday"], "--since must be an ISO date"),
        (["--days", "0"], "--days"),
        (["--stage", "production", "--rev", "HEAD"], "give --stage or --rev, not both"),
        (["--current", "x.csv"], "give --current PATH or --log URL, not both"),
    ],
)
def test_every_error_is_one_line_and_exit_2(
    project: Project,
    logs: dict[str, Path],
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = mergeml(
        project,
        capsys,
        monkeypatch,
        "monitor",
        "drift",
        "--log",
        str(logs["same"]),
        *args,
    )
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err


def test_an_empty_window_is_exit_2_and_writes_no_page(
    project: Project,
    logs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    html = tmp_path / "drift.html"
    code, _, err = mergeml(
        project,
        capsys,
        monkeypatch,
        "monitor",
        "drift",
        "--stage",
        "production",
        "--log",
        str(logs["same"]),
        "--since",
        "2020-01-01",
        "--until",
        "2020-01-02",
        "--html",
        str(html),
    )
    assert code == 2
    assert "no predictions for stage production between 2020-01-01 00:00 UTC" in err
    assert not html.exists()


def test_performance_degraded_exits_1_and_too_few_labels_exit_0(
    project: Project,
    logs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    md = tmp_path / "perf.md"
    code, out, _ = mergeml(
        project,
        capsys,
        monkeypatch,
        "monitor",
        "performance",
        "--stage",
        "production",
        "--log",
        str(logs["moved"]),
        *WINDOW,
        "--markdown",
        str(md),
    )
    assert code == 1
    assert out.splitlines()[-1].startswith("performance: degraded (roc_auc ")
    assert "roc_auc" in md.read_text()
    code, out, _ = mergeml(
        project,
        capsys,
        monkeypatch,
        "monitor",
        "performance",
        "--stage",
        "production",
        "--log",
        str(logs["same"]),
        *WINDOW,
    )
    assert code == 0
    assert "performance: not enough labels (0 labelled of 1,000 predictions" in out


def test_every_monitor_command_and_option_has_help() -> None:
    from mergeml.cli.monitor import monitor

    for command in monitor.commands.values():
        assert command.help
        assert all(p.help for p in command.params if hasattr(p, "help"))
