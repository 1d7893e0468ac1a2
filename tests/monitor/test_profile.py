"""The reference profile: built from the training frame and the model's scores, read back
and checked."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from mergeml.config.monitor import DriftSettings
from mergeml.errors import DataError, ModelFileError
from mergeml.evaluation.profile import (
    build_profile,
    model_scores,
    profile_path_for,
    profile_text,
    read_profile,
)
from mergeml.model.schema import training_schema
from mergeml.project import DEFAULT_LAYOUT, layout_from_text

SETTINGS = DriftSettings()


def _frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(3.0, 1.0, rows)
    amount[::10] = np.nan
    return pd.DataFrame(
        {
            "amount": amount,
            "visits": rng.integers(0, 3, rows),  # a numeric column with 3 values
            "flag": rng.random(rows) < 0.3,
            "channel": pd.Categorical(rng.choice(["web", "app", "shop"], rows)),
            "city": rng.choice(["Oslo", "Lima"], rows),
            "y": rng.integers(0, 2, rows),
        }
    )


def _profile(frame: pd.DataFrame, scores: np.ndarray | None = None) -> dict[str, object]:
    schema = training_schema(frame, "y", "classification")
    return build_profile(frame, schema, scores, model_md5="0" * 32, settings=SETTINGS)


def test_numeric_columns_hold_exact_summaries_of_their_values() -> None:
    frame = _frame(5000)
    entry = _profile(frame)["columns"]["amount"]  # type: ignore[index]
    values = frame["amount"].dropna().to_numpy()

    assert entry["kind"] == "numeric"
    assert entry["dtype"] == "float"
    assert entry["count"] == len(values)
    assert entry["missing_rate"] == pytest.approx(0.1)
    summary = entry["numeric"]
    assert summary["min"] == values.min()
    assert summary["max"] == values.max()
    assert summary["mean"] == pytest.approx(values.mean())
    assert summary["std"] == pytest.approx(values.std())  # population std, as Evidently
    assert np.allclose(summary["quantiles"], np.quantile(values, np.linspace(0, 1, 1001)))
    assert len(summary["psi_edges"]) == 9
    assert sum(summary["psi_fractions"]) == pytest.approx(1)
    assert np.allclose(summary["psi_fractions"], 0.1, atol=0.001)
    # a large reference keeps a fixed-seed sample of 1000 for plots
    assert len(summary["sample"]) == 1000
    assert set(summary["sample"]) <= set(values)
    assert _profile(frame)["columns"]["amount"]["numeric"]["sample"] == summary["sample"]  # type: ignore[index]


def test_a_small_reference_keeps_the_whole_column_as_its_sample() -> None:
    frame = _frame(800)
    summary = _profile(frame)["columns"]["amount"]["numeric"]  # type: ignore[index]

    assert sorted(summary["sample"]) == sorted(frame["amount"].dropna().tolist())


def test_categorical_and_few_valued_columns_hold_value_counts() -> None:
    frame = _frame(2000)
    columns = _profile(frame)["columns"]

    visits = columns["visits"]  # type: ignore[index]
    assert visits["kind"] == "categorical"
    assert visits["dtype"] == "int"
    assert visits["frequencies"] == {
        str(k): int(v) for k, v in frame["visits"].value_counts().items()
    }
    assert "numeric" in visits  # its range still counts out-of-range values
    flag = columns["flag"]  # type: ignore[index]
    assert flag["kind"] == "categorical"
    assert set(flag["frequencies"]) == {"True", "False"}
    channel = columns["channel"]  # type: ignore[index]
    assert sum(channel["frequencies"].values()) == 2000
    assert channel["unique"] == 3
    assert set(columns) == {"amount", "visits", "flag", "channel", "city"}  # type: ignore[arg-type]


def test_only_the_schema_columns_are_profiled_and_a_missing_one_is_one_line() -> None:
    frame = _frame(300)
    schema = training_schema(frame, "y", "classification")
    schema["columns"] = schema["columns"][:2]
    profile = build_profile(frame, schema, None, model_md5="x", settings=SETTINGS)
    assert list(profile["columns"]) == ["amount", "visits"]
    assert profile["target"] == "y"
    assert profile["rows"] == 300
    assert profile["score"] is None

    with pytest.raises(DataError, match="no column 'city'"):
        build_profile(
            frame.drop(columns=["city"]),
            training_schema(frame, "y", "x"),
            None,
            model_md5="x",
            settings=SETTINGS,
        )


def test_the_score_is_summarised_like_a_numeric_column() -> None:
    scores = np.random.default_rng(1).random(400)
    frame = _frame(400)
    schema = training_schema(frame, "y", "classification")
    profile = build_profile(
        frame, schema, scores, model_md5="x", settings=SETTINGS, score_name="proba_1"
    )

    score = profile["score"]
    assert score["name"] == "proba_1"
    assert score["kind"] == "numeric"
    assert score["count"] == 400
    assert score["numeric"]["max"] == scores.max()


def test_model_scores_name_their_prediction_log_column() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    binary = LogisticRegression().fit(x, np.where(x["a"] > 0, "yes", "no"))
    multi = LogisticRegression().fit(x, rng.integers(0, 3, 200))
    regressor = LinearRegression().fit(x, x["a"] * 2)

    name, scores = model_scores(binary, x)
    assert name == "proba_yes"
    assert np.allclose(scores, binary.predict_proba(x)[:, 1])
    name, scores = model_scores(multi, x)
    assert name == "max_proba"
    assert np.allclose(scores, multi.predict_proba(x).max(axis=1))
    name, scores = model_scores(regressor, x)
    assert name == "prediction"
    assert np.allclose(scores, regressor.predict(x))


def test_the_file_reads_back_as_the_same_profile() -> None:
    profile = _profile(_frame(1500), np.linspace(0, 1, 300))
    text = profile_text(profile)

    assert text.endswith("}\n")
    assert text.count("\n") == len(profile["columns"]) + 2
    assert read_profile(text, "models/reference_profile.json") == json.loads(json.dumps(profile))


def _broken(change: str) -> str:
    doc = json.loads(profile_text(_profile(_frame(300))))
    if change == "format":
        doc["format"] = 2
    elif change == "quantiles":
        doc["columns"]["amount"]["numeric"]["quantiles"] = [1.0, 2.0]
    elif change == "kind":
        doc["columns"]["city"]["kind"] = "text"
    elif change == "frequencies":
        doc["columns"]["city"]["frequencies"] = {"Oslo": "many"}
    elif change == "rows":
        doc["rows"] = -1
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("format", "format is 2"),
        ("quantiles", "columns.amount.numeric.quantiles"),
        ("kind", "columns.city.kind"),
        ("frequencies", "columns.city.frequencies"),
        ("rows", "rows"),
    ],
)
def test_a_bad_profile_is_one_line_naming_the_file(change: str, named: str) -> None:
    with pytest.raises(ModelFileError) as caught:
        read_profile(_broken(change), "models/reference_profile.json at abc1234")

    message = str(caught.value)
    assert message.startswith("models/reference_profile.json at abc1234")
    assert named in message
    assert "\n" not in message


@pytest.mark.parametrize("text", ["", "{", "[]", "null", '{"format": 1}'])
def test_a_file_that_is_no_profile_at_all_is_one_line(text: str) -> None:
    with pytest.raises(ModelFileError, match=r"^p\.json is not a reference profile"):
        read_profile(text, "p.json")


def test_a_numeric_column_of_words_is_one_line() -> None:
    frame = _frame(300)
    schema = training_schema(frame, "y", "classification")
    frame["amount"] = "lots"

    with pytest.raises(DataError, match="column 'amount': expected numbers, got 'lots'"):
        build_profile(frame, schema, None, model_md5="x", settings=SETTINGS)


def test_the_profile_lives_beside_the_model() -> None:
    assert DEFAULT_LAYOUT.profile_path == "models/reference_profile.json"
    assert profile_path_for(DEFAULT_LAYOUT.model_path) == DEFAULT_LAYOUT.profile_path
    moved = "artifacts:\n  m:\n    path: out/deep/m.skops\n    type: model\n"
    assert layout_from_text(moved).profile_path == "out/deep/reference_profile.json"
