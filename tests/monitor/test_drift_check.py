"""`monitor drift` through the api: the synthetic generator's drift switch is detected on
the log and on files, same-distribution data is not, and bad inputs are one clear error."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from mergeml.api import monitor as api
from mergeml.data.synthetic import generate_transactions
from mergeml.errors import MonitorError
from tests.helpers import git
from tests.monitor.monitor_project import NOW, Project, make_project, write_log

SINCE, UNTIL = (NOW - timedelta(days=7)).isoformat(), NOW.isoformat()
MOVED = {"amount", "distance_from_home_km", "account_age_days"}  # what drift=True shifts


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("drift") / "repo")


@pytest.fixture(scope="module")
def logs(project: Project, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("logs")
    same, moved = root / "same", root / "moved"
    write_log(same, project, generate_transactions(2000, seed=5, positive_rate=0.1))
    write_log(moved, project, generate_transactions(2000, seed=5, positive_rate=0.1, drift=True))
    return {"same": same, "moved": moved}


def run(project: Project, **options: object) -> api.DriftRun:
    return api.drift(repo=project.root, since=SINCE, until=UNTIL, **options)  # type: ignore[arg-type]


def test_the_drift_switch_is_detected_in_the_log(project: Project, logs: dict[str, Path]) -> None:
    report = run(project, log=str(logs["moved"])).report
    assert report.drifted
    drifted = {f.column for f in report.result.features if f.drifted}
    assert drifted >= MOVED
    assert report.result.n_current == 2000
    assert report.target.md5 == project.md5


def test_same_distribution_data_does_not_drift(project: Project, logs: dict[str, Path]) -> None:
    report = run(project, log=str(logs["same"])).report
    assert not report.drifted
    assert not report.result.dataset_drift
    assert report.result.score is not None
    assert report.result.score.drifted is False


def test_a_current_file_is_compared_and_its_extra_columns_ignored(
    project: Project, tmp_path: Path
) -> None:
    frame = generate_transactions(1500, seed=9, drift=True)  # holds the target column too
    frame.to_parquet(tmp_path / "now.parquet")
    report = run(project, current=tmp_path / "now.parquet").report
    assert report.result.dataset_drift
    assert "is_fraud" not in {f.column for f in report.result.features}
    assert report.result.score is None  # a file holds no scores


def test_a_tiny_window_is_not_enough_data_never_drift(project: Project, tmp_path: Path) -> None:
    generate_transactions(20, seed=1, drift=True).to_csv(tmp_path / "few.csv", index=False)
    report = run(project, current=tmp_path / "few.csv").report
    assert {f.drifted for f in report.result.features} == {None}
    assert not report.drifted


def test_a_numeric_column_holding_text_is_named_with_its_row(
    project: Project, tmp_path: Path
) -> None:
    frame = generate_transactions(200, seed=1)
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[7, "amount"] = "lots"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(MonitorError, match=r"column amount must hold numbers.*'lots' at row 7"):
        run(project, current=tmp_path / "bad.csv")


def test_a_profile_of_another_model_is_refused(project: Project, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    git(tmp_path, "clone", "-q", str(project.root), str(copy))
    path = copy / "models/reference_profile.json"
    profile = json.loads(path.read_text())
    profile["model_md5"] = "a" * 32
    path.write_text(json.dumps(profile))
    generate_transactions(200, seed=1).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(MonitorError, match=r"made for model md5 aaaaaaaaaaaa, not for"):
        api.drift(repo=copy, current=tmp_path / "x.csv")


def test_predictions_of_another_model_in_the_log_are_refused(
    project: Project, tmp_path: Path
) -> None:
    log = tmp_path / "logs"
    write_log(log, project, generate_transactions(200, seed=2), md5="b" * 32)
    with pytest.raises(MonitorError, match=r"made by model md5 bbbbbbbbbbbb, not by"):
        run(project, log=str(log))


def test_a_missing_current_file_is_named(project: Project, tmp_path: Path) -> None:
    with pytest.raises(MonitorError, match=r"missing\.csv: no such file or directory"):
        run(project, current=tmp_path / "missing.csv")


def test_an_empty_window_and_a_missing_profile_are_errors(
    project: Project, logs: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(MonitorError, match="no predictions for any stage between"):
        api.drift(repo=project.root, log=str(logs["same"]), since="2020-01-01", until="2020-01-08")
    bare = tmp_path / "bare"
    bare.mkdir()
    git(bare, "init", "-q")
    with pytest.raises(MonitorError, match=r"no reference profile models/reference_profile\.json"):
        api.drift(repo=bare, current=tmp_path)


def test_a_log_without_a_model_input_is_refused(project: Project, tmp_path: Path) -> None:
    log = tmp_path / "logs"
    write_log(log, project, generate_transactions(200, seed=2), unlogged=("channel",))
    with pytest.raises(MonitorError, match=r"logged predictions lack column\(s\) channel"):
        run(project, log=str(log))
