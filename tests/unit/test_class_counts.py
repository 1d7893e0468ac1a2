"""Hundreds of classes in a few hundred rows: refused before fitting, with the counts.

Issue 10, item 12: such a target trained for minutes without a word, then `evaluate`
failed with a scikit-learn message listing every label. The rule: every class needs a
row in the train split and one in the test split. Long fits say what they are doing,
and no training or evaluation message is kilobytes long.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mergeml.config.schema import FileData, PrepareParams, SplitConfig, TrainParams, parse_section
from mergeml.data.prepare import prepare
from mergeml.errors import DataError, MergemlError
from mergeml.evaluation.scores import classification_metrics
from mergeml.model import progress
from tests.helpers import git, make_project, mergeml, run

RAW = "data/raw/labels.csv"
ROOT = Path(__file__).resolve().parents[2]


def labels_frame(n_rows: int, n_classes: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x1": rng.normal(size=n_rows),
            "x2": rng.normal(size=n_rows),
            "y": [f"label_{i % n_classes:03d}" for i in range(n_rows)],
        }
    )


def prepare_params(root: Path, frame: pd.DataFrame, *, stratify: bool) -> PrepareParams:
    (root / RAW).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / RAW, index=False)
    data = FileData(source="file", path=RAW, target="y", task="classification", format="csv")
    return PrepareParams(seed=1, data=data, split=SplitConfig(test_size=0.2, stratify=stratify))


@pytest.mark.parametrize("stratify", [True, False])
def test_more_classes_than_test_rows_is_refused_with_the_counts(
    tmp_path: Path, stratify: bool
) -> None:
    params = prepare_params(tmp_path, labels_frame(400, 300), stratify=stratify)
    with pytest.raises(DataError) as caught:
        prepare(params, tmp_path)
    message = str(caught.value)
    assert message.startswith(
        "data.target 'y': 300 classes in 400 rows (the test split holds 80): every class "
        "needs at least one row in the train split and one in the test split"
    )
    assert len(message) < 400


def test_single_row_classes_are_refused_without_stratification(tmp_path: Path) -> None:
    params = prepare_params(tmp_path, labels_frame(400, 70), stratify=False)
    frame = labels_frame(400, 70)
    frame.loc[0, "y"] = "rare"
    frame.to_csv(tmp_path / RAW, index=False)
    with pytest.raises(DataError, match=r"1 of 71 classes have a single row \('rare'\)"):
        prepare(params, tmp_path)


def test_a_random_split_that_misses_classes_is_refused_before_training(tmp_path: Path) -> None:
    params = prepare_params(tmp_path, labels_frame(400, 60), stratify=False)
    with pytest.raises(DataError, match=r"without a row in the test split \('label_") as caught:
        prepare(params, tmp_path)
    assert "set split.stratify: true" in str(caught.value)
    assert "more)" in str(caught.value)  # five named, the rest counted


def test_the_stratified_split_of_the_same_data_is_accepted(tmp_path: Path) -> None:
    prepared = prepare(prepare_params(tmp_path, labels_frame(400, 60), stratify=True), tmp_path)
    assert prepared.train["y"].nunique() == prepared.test["y"].nunique() == 60


def test_evaluation_messages_name_a_few_labels_not_all(tmp_path: Path) -> None:
    labels = [f"label_{i:03d}" for i in range(300)]
    truth = np.array(labels[:150] * 2)
    scores = np.full((300, 300), 1 / 300)
    with pytest.raises(MergemlError) as caught:
        classification_metrics(truth, truth, scores, names=["roc_auc"], labels=labels)
    assert "(150 of 300)" in str(caught.value)
    assert len(str(caught.value)) < 600
    with pytest.raises(MergemlError) as caught:
        classification_metrics(
            truth, np.array(["other"] * 300), None, names=["accuracy"], labels=labels
        )
    assert len(str(caught.value)) < 600


def test_a_long_fit_logs_its_start_a_heartbeat_and_its_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.INFO, logger=progress.__name__),
        progress.fit_progress("Model on 3 rows", heartbeat=0.05),
    ):
        time.sleep(0.2)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "fitting Model on 3 rows"
    assert any(line.startswith("still fitting (") for line in lines[1:-1])
    assert lines[-1].startswith("fitted in ")
    assert progress.elapsed(185.2) == "3 min 05 s"


def train_params() -> TrainParams:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    section = {key: params[key] for key in ("threads", "preprocess", "model")}
    section["data"] = {"task": "classification", "target": "y"}
    return parse_section(TrainParams, section, where="params.yaml")


def test_a_kilobyte_scikit_learn_fit_error_becomes_one_short_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sklearn.pipeline import Pipeline

    from mergeml.model.train import train_model

    def fail(*_args: object, **_kwargs: object) -> None:  # the injected fault
        raise ValueError("y contains previously unseen labels: " + ", ".join(["'x'"] * 2000))

    monkeypatch.setattr(Pipeline, "fit", fail)
    with pytest.raises(DataError) as caught:
        train_model(labels_frame(40, 2), train_params())
    message = str(caught.value)
    assert message.startswith("fitting HistGradientBoostingClassifier failed: y contains")
    assert message.endswith("...")
    assert len(message) < 400


@pytest.mark.pipeline
def test_the_train_stage_says_when_it_starts_and_ends(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo")
    assert mergeml(repo, "params", "compose").returncode == 0
    assert run([sys.executable, "pipelines/prepare.py"], repo).returncode == 0
    proc = run([sys.executable, "pipelines/train.py"], repo)
    lines = proc.stderr.splitlines()
    assert lines[0] == (
        "train: fitting HistGradientBoostingClassifier on 2,400 rows x 10 features (2 classes)"
    ), proc.stderr
    assert lines[-1].startswith("train: fitted in "), proc.stderr


@pytest.mark.pipeline
def test_exp_run_refuses_the_target_before_dvc_starts(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo")
    labels_frame(400, 300).to_csv(repo / RAW, index=False)
    git(repo, "add", "-f", RAW)
    git(repo, "commit", "-q", "-m", "labels")
    proc = mergeml(
        repo,
        "exp",
        "run",
        "data=file",
        f"data.path={RAW}",
        "data.target=y",
        "split.stratify=false",
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (line,) = proc.stderr.splitlines()
    assert "data.target 'y': 300 classes in 400 rows (the test split holds 80)" in line
    assert not (repo / "models").exists()
