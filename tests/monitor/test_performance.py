"""`monitor performance`: feedback joined to logged predictions, metrics with seeded
bootstrap intervals, judged by the gates committed with the model."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mergeml.api import monitor as api
from mergeml.data.synthetic import generate_transactions
from mergeml.errors import MonitorError
from mergeml.monitor.performance import join_feedback
from mergeml.serve.predlog import PredictionLog
from tests.monitor.monitor_project import NOW, Project, labels_for, make_project, write_log

SINCE, UNTIL = (NOW - timedelta(days=7)).isoformat(), NOW.isoformat()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_project(tmp_path_factory.mktemp("perf") / "repo")


def labelled_log(project: Project, root: Path, *, flip: bool, rows: int = 1000) -> Path:
    frame = generate_transactions(rows, seed=21, positive_rate=0.1)
    ids = write_log(root, project, frame)
    labels = labels_for(frame, ids)
    if flip:  # a world in which the model is now wrong
        labels["label"] = 1 - labels["label"]
    log = PredictionLog(str(root))
    log.record_feedback(labels)
    log.close()
    return root


def measure(project: Project, log: Path) -> api.PerformanceReport:
    return api.performance(repo=project.root, log=str(log), since=SINCE, until=UNTIL)


def test_a_model_as_good_as_evaluated_is_not_degraded(project: Project, tmp_path: Path) -> None:
    report = measure(project, labelled_log(project, tmp_path / "log", flip=False))
    assert report.labelled == report.predictions == 1000
    [auc] = [m for m in report.metrics if m.name == "roc_auc"]
    assert auc.low is not None
    assert auc.high is not None
    assert auc.low < auc.value < auc.high
    assert not report.degraded, report.gates


def test_a_model_that_got_worse_is_degraded_by_its_gates(project: Project, tmp_path: Path) -> None:
    report = measure(project, labelled_log(project, tmp_path / "log", flip=True))
    assert report.degraded
    failed = {(g.rule, g.metric) for g in report.gates if g.failed}
    assert failed == {("min", "roc_auc"), ("vs_base", "roc_auc")}
    from mergeml.monitor.render import performance_markdown, worse_than_evaluated

    worse = worse_than_evaluated(report)
    assert any(w.startswith("roc_auc ") and "at evaluation)" in w for w in worse)
    assert "Worse than at evaluation: " in performance_markdown(report)


def test_the_bootstrap_is_seeded(project: Project, tmp_path: Path) -> None:
    log = labelled_log(project, tmp_path / "log", flip=False, rows=500)
    first, second = measure(project, log), measure(project, log)
    assert first.metrics == second.metrics


def test_too_few_labels_are_not_judged(project: Project, tmp_path: Path) -> None:
    root = tmp_path / "log"
    frame = generate_transactions(500, seed=4, positive_rate=0.1)
    ids = write_log(root, project, frame)
    log = PredictionLog(str(root))
    log.record_feedback(labels_for(frame, ids).head(40))
    log.close()
    report = measure(project, root)
    assert (report.labelled, report.enough, report.degraded) == (40, False, False)
    assert report.metrics == ()


def test_the_last_label_given_for_a_row_wins() -> None:
    predictions = pd.DataFrame(
        {"request_id": ["a", "a", "b"], "row": [0, 1, 0], "prediction": [1, 0, 1]}
    )
    feedback = pd.DataFrame(
        {
            "request_id": ["a", "a", "b", "zzz"],
            "row": [0, 0, 0, 0],
            "label": [0, 1, None, 1],
            "time": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-01", "2026-01-01"]),
        }
    )
    joined = join_feedback(predictions, feedback)
    assert joined[["request_id", "row", "label"]].to_dict("records") == [
        {"request_id": "a", "row": 0, "label": 1.0}
    ]
    assert np.isnan(feedback["label"].iloc[2])
    with pytest.raises(MonitorError, match="lack column"):
        join_feedback(predictions.drop(columns=["prediction"]), feedback)


def test_vs_base_judges_the_intervals_better_bound_not_a_noisy_point_estimate() -> None:
    """A window's point estimate on a few hundred labels moves by more than a tolerance
    made for a full test split: vs_base compares the bound on the metric's better side."""
    from mergeml.monitor.performance import MetricEstimate, _best_bound

    noisy = MetricEstimate("average_precision", 0.346, 0.232, 0.482, evaluated=0.4025)
    assert _best_bound(noisy) == 0.482  # within 0.02 of 0.4025: not degraded on noise
    assert _best_bound(MetricEstimate("log_loss", 0.13, 0.09, 0.2, evaluated=0.06)) == 0.09
    assert _best_bound(MetricEstimate("roc_auc", 0.7, None, None, evaluated=0.9)) == 0.7
