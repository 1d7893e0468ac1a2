"""Unit tests for mergeml.evaluation.metrics on tiny, hand-checkable arrays."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import LinearSVC

from mergeml.errors import MergemlError
from mergeml.evaluation.catalog import METRIC_DIRECTION
from mergeml.evaluation.metrics import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    EvaluationResult,
    classification_metrics,
    confusion_counts,
    confusion_rows,
    evaluate_classifier,
    evaluate_regressor,
    pr_points,
    prediction_points,
    regression_metrics,
    residual_points,
    roc_points,
)
from mergeml.files import dumps_json, round_floats

UNIT_INTERVAL_METRICS = tuple(name for name in CLASSIFICATION_METRICS if name != "log_loss")

# Ten rows with TP=2, FN=2, FP=1, TN=5.
KNOWN_TRUE = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
KNOWN_PRED = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0])


# --- metric tables ----------------------------------------------------------------------------


def test_direction_table_covers_every_metric_and_nothing_else():
    assert set(METRIC_DIRECTION) == set(CLASSIFICATION_METRICS) | set(REGRESSION_METRICS)
    assert set(METRIC_DIRECTION.values()) <= {"higher", "lower"}
    lower = {name for name, direction in METRIC_DIRECTION.items() if direction == "lower"}
    assert lower == {"log_loss", "rmse", "mae"}


# --- classification metrics -------------------------------------------------------------------


def test_perfect_classifier_scores_one_everywhere_and_log_loss_matches_hand_value():
    y = np.array([0, 0, 1, 1])
    score = np.array([0.1, 0.2, 0.8, 0.9])

    result = classification_metrics(y, y, score, names=CLASSIFICATION_METRICS)

    for name in UNIT_INTERVAL_METRICS:
        assert result[name] == pytest.approx(1.0), name
    assert result["log_loss"] == pytest.approx(-(math.log(0.9) + math.log(0.8)) / 2)
    assert result["support"] == {"test_rows": 4, "by_class": {"0": 2, "1": 2}}


def test_known_confusion_gives_hand_computed_label_metrics():
    names = ["accuracy", "balanced_accuracy", "precision", "recall", "f1"]

    result = classification_metrics(KNOWN_TRUE, KNOWN_PRED, None, names=names)

    assert result["accuracy"] == pytest.approx(0.7)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(0.5)
    assert result["f1"] == pytest.approx(4 / 7)
    assert result["balanced_accuracy"] == pytest.approx((0.5 + 5 / 6) / 2)
    assert result["support"] == {"test_rows": 10, "by_class": {"0": 6, "1": 4}}


def test_roc_auc_counts_correctly_ordered_pairs():
    # Positive 0.35 beats negative 0.1 but not 0.4; positive 0.8 beats both: 3 of 4 pairs.
    result = classification_metrics(
        [0, 0, 1, 1], [0, 1, 0, 1], [0.1, 0.4, 0.35, 0.8], names=["roc_auc"]
    )
    assert result["roc_auc"] == pytest.approx(0.75)


def test_only_requested_metrics_are_returned_in_request_order():
    result = classification_metrics([0, 1], [0, 1], [0.2, 0.7], names=["f1", "accuracy"])
    assert list(result) == ["f1", "accuracy", "support"]


def test_positive_label_selects_the_class_for_precision_and_recall():
    y_true = ["yes", "yes", "no", "no"]
    y_pred = ["yes", "no", "no", "no"]

    as_yes = classification_metrics(
        y_true,
        y_pred,
        [0.9, 0.4, 0.3, 0.1],
        names=["precision", "recall", "roc_auc"],
        positive_label="yes",
    )
    as_no = classification_metrics(
        y_true, y_pred, None, names=["precision", "recall"], positive_label="no"
    )

    assert (as_yes["precision"], as_yes["recall"], as_yes["roc_auc"]) == (1.0, 0.5, 1.0)
    assert as_no["precision"] == pytest.approx(2 / 3)
    assert as_no["recall"] == 1.0
    assert as_yes["support"]["by_class"] == {"no": 2, "yes": 2}


def test_positive_label_that_is_not_a_class_is_an_error():
    with pytest.raises(MergemlError, match="positive_label 1"):
        classification_metrics(["a", "b"], ["a", "b"], None, names=["precision"])


def test_two_column_probability_matrix_uses_the_positive_column():
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.35, 0.65], [0.2, 0.8]])
    from_matrix = classification_metrics(
        [0, 1, 0, 1], [0, 0, 1, 1], proba, names=["roc_auc", "log_loss"]
    )
    from_column = classification_metrics(
        [0, 1, 0, 1], [0, 0, 1, 1], proba[:, 1], names=["roc_auc", "log_loss"]
    )
    assert from_matrix == from_column


def test_multiclass_uses_macro_averages_and_the_probability_matrix():
    y_true = np.array([0, 1, 2, 2])
    y_pred = np.array([0, 1, 2, 1])
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.1, 0.5, 0.4]])

    result = classification_metrics(y_true, y_pred, proba, names=CLASSIFICATION_METRICS)

    assert result["accuracy"] == pytest.approx(0.75)
    # Per-class recall 1, 1, 1/2; per-class precision 1, 1/2, 1.
    assert result["recall"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert result["precision"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert result["roc_auc"] == pytest.approx(1.0)
    expected_log_loss = -(3 * math.log(0.8) + math.log(0.4)) / 4
    assert result["log_loss"] == pytest.approx(expected_log_loss)
    assert result["support"]["by_class"] == {"0": 1, "1": 1, "2": 2}


def test_multiclass_needs_a_probability_matrix_not_a_column():
    with pytest.raises(MergemlError, match="1-D but there are 3 classes"):
        classification_metrics([0, 1, 2], [0, 1, 2], [0.1, 0.5, 0.9], names=["roc_auc"])


def test_probability_matrix_width_must_match_labels():
    with pytest.raises(MergemlError, match="3 columns but there are 2 classes"):
        classification_metrics([0, 1], [0, 1], np.full((2, 3), 1 / 3), names=["log_loss"])


def test_labels_missing_from_labels_argument_are_an_error():
    with pytest.raises(MergemlError, match=r"y_true contains labels \[7\]"):
        classification_metrics([0, 7], [0, 1], None, names=["accuracy"], labels=[0, 1])


@pytest.mark.parametrize("bad_name", ["rmse", "auc", ""])
def test_unknown_metric_name_is_an_error_listing_the_valid_names(bad_name):
    with pytest.raises(MergemlError, match="unknown classification metric") as info:
        classification_metrics([0, 1], [0, 1], [0.1, 0.9], names=["accuracy", bad_name])
    assert repr(bad_name) in str(info.value)
    assert ", ".join(CLASSIFICATION_METRICS) in str(info.value)


def test_unknown_regression_metric_name_is_an_error():
    with pytest.raises(MergemlError, match="unknown regression metric 'accuracy'; valid"):
        regression_metrics([1.0, 2.0], [1.0, 2.0], names=["accuracy"])


@pytest.mark.parametrize("name", ["roc_auc", "average_precision"])
@pytest.mark.parametrize("only_class", [0, 1])
def test_one_class_in_y_true_is_an_error_naming_the_metric_not_a_warning(name, only_class):
    y_true = [only_class] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(MergemlError, match=f"metric {name} is undefined"):
            classification_metrics(y_true, [0, 1, 1], [0.2, 0.6, 0.9], names=[name])


def test_multiclass_class_absent_from_y_true_is_an_error_naming_the_metric():
    proba = np.full((3, 3), 1 / 3)
    with pytest.raises(MergemlError, match=r"roc_auc is undefined: classes \[2\]"):
        classification_metrics([0, 1, 1], [0, 1, 1], proba, names=["roc_auc"], labels=[0, 1, 2])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_score_is_an_error(bad):
    with pytest.raises(MergemlError, match="y_score contains NaN or infinity"):
        classification_metrics([0, 1, 1], [0, 1, 1], [0.1, bad, 0.7], names=["roc_auc"])


def test_score_metric_without_scores_is_an_error():
    with pytest.raises(MergemlError, match="y_score is required"):
        classification_metrics([0, 1], [0, 1], None, names=["log_loss"])


def test_probability_outside_unit_interval_is_an_error_naming_log_loss():
    with pytest.raises(MergemlError, match="metric log_loss cannot be computed"):
        classification_metrics([0, 1], [0, 1], [0.2, 1.5], names=["log_loss"])


def test_nan_label_is_an_error():
    with pytest.raises(MergemlError, match="y_true contains NaN"):
        classification_metrics([0.0, math.nan], [0.0, 1.0], None, names=["accuracy"])


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([], [], "y_true is empty"),
        ([0, 1], [0], "different lengths: 2 and 1"),
        ([[0, 1]], [[0, 1]], "y_true must be 1-D"),
    ],
)
def test_malformed_label_arrays_are_errors(y_true, y_pred, message):
    with pytest.raises(MergemlError, match=message):
        classification_metrics(y_true, y_pred, None, names=["accuracy"])


# --- regression metrics -----------------------------------------------------------------------


def test_regression_metrics_match_hand_computation():
    # Errors 0, 0, 0, 4: MAE 1, RMSE sqrt(16 / 4) = 2; SS_tot around mean 2.5 is 5.
    result = regression_metrics([1, 2, 3, 4], [1, 2, 3, 8], names=REGRESSION_METRICS)

    assert result == {
        "rmse": pytest.approx(2.0),
        "mae": pytest.approx(1.0),
        "r2": pytest.approx(1 - 16 / 5),
        "support": {"test_rows": 4},
    }


@pytest.mark.parametrize(("y_true", "y_pred"), [([3.0, 3.0, 3.0], [1.0, 2.0, 3.0]), ([1.0], [1.0])])
def test_r2_on_constant_or_single_row_target_is_an_error(y_true, y_pred):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(MergemlError, match="metric r2 is undefined"):
            regression_metrics(y_true, y_pred, names=["r2"])


def test_rmse_and_mae_are_fine_on_a_constant_target():
    result = regression_metrics([3.0, 3.0], [3.0, 5.0], names=["rmse", "mae"])
    assert (result["rmse"], result["mae"]) == (pytest.approx(math.sqrt(2)), 1.0)


def test_overflowing_rmse_is_an_error_naming_the_metric():
    with pytest.raises(MergemlError, match="metric rmse is not finite"):
        regression_metrics([0.0, 0.0], [1e200, 1e200], names=["rmse"])


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_regression_input_is_an_error(bad):
    with pytest.raises(MergemlError, match="y_pred contains NaN or infinity"):
        regression_metrics([1.0, 2.0], [1.0, bad], names=["mae"])


def test_non_numeric_regression_input_is_an_error():
    with pytest.raises(MergemlError, match="y_true must be numeric"):
        regression_metrics(["a", "b"], [1.0, 2.0], names=["mae"])


# --- property tests ---------------------------------------------------------------------------

labelled_scores = st.lists(
    st.tuples(st.sampled_from([0, 1]), st.floats(0.0, 1.0)), min_size=2, max_size=40
).filter(lambda rows: len({label for label, _ in rows}) == 2)


@settings(max_examples=60, deadline=None)
@given(labelled_scores)
def test_classification_metrics_stay_in_their_ranges(rows):
    y_true = np.array([label for label, _ in rows])
    y_score = np.array([score for _, score in rows])
    y_pred = (y_score >= 0.5).astype(int)

    result = classification_metrics(y_true, y_pred, y_score, names=CLASSIFICATION_METRICS)

    for name in UNIT_INTERVAL_METRICS:
        assert 0.0 <= result[name] <= 1.0, name
    assert 0.0 <= result["log_loss"] < math.inf
    assert result["support"]["test_rows"] == len(rows)
    assert sum(result["support"]["by_class"].values()) == len(rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4))
@example([0.1, math.nan, 0.4, 0.9])
@example([0.1, math.inf, 0.4, 0.9])
@example([-math.inf, 0.2, 0.4, 0.9])
def test_any_non_finite_score_raises_and_valid_probabilities_never_do(scores):
    y_true = [0, 1, 0, 1]
    y_pred = [0, 1, 1, 0]
    finite = all(math.isfinite(score) for score in scores)
    probabilities = finite and all(0.0 <= score <= 1.0 for score in scores)

    if not probabilities:
        with pytest.raises(MergemlError):
            classification_metrics(y_true, y_pred, scores, names=CLASSIFICATION_METRICS)
        return
    result = classification_metrics(y_true, y_pred, scores, names=CLASSIFICATION_METRICS)
    assert all(math.isfinite(result[name]) for name in CLASSIFICATION_METRICS)


paired_values = st.lists(
    st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=1, max_size=40
)


@settings(max_examples=80, deadline=None)
@given(paired_values)
def test_rmse_is_at_least_mae_which_is_non_negative(rows):
    y_true = [actual for actual, _ in rows]
    y_pred = [predicted for _, predicted in rows]

    result = regression_metrics(y_true, y_pred, names=["rmse", "mae"])

    assert result["mae"] >= 0.0
    # Relative slack for rounding; absolute slack because squares of errors below ~1e-160 underflow.
    assert result["rmse"] >= result["mae"] * (1 - 1e-9) - 1e-12


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=2, max_size=6))
@example([1.0, math.nan])
@example([math.inf, 1.0])
@example([-math.inf, math.inf])
def test_regression_metrics_raise_on_non_finite_input_and_never_return_one(values):
    y_pred = [0.5] * len(values)

    if not all(math.isfinite(value) for value in values):
        with pytest.raises(MergemlError):
            regression_metrics(values, y_pred, names=REGRESSION_METRICS)
        return
    try:
        result = regression_metrics(values, y_pred, names=REGRESSION_METRICS)
    except MergemlError:
        return  # constant target (r2) or overflow: refused, never reported as NaN/inf
    assert all(math.isfinite(result[name]) for name in REGRESSION_METRICS)
    assert result["r2"] <= 1.0


# --- stable JSON ------------------------------------------------------------------------------


def test_round_floats_rounds_nested_values_and_makes_numpy_plain():
    obj = {"a": [0.1 + 0.2, np.float64(1 / 3)], "b": (np.int64(2), np.bool_(True)), "c": "x"}

    rounded = round_floats(obj, digits=4)

    assert rounded == {"a": [0.3, 0.3333], "b": [2, True], "c": "x"}
    assert type(rounded["a"][1]) is float
    assert type(rounded["b"][0]) is int
    assert type(rounded["b"][1]) is bool


def test_round_floats_turns_negative_zero_into_zero():
    assert math.copysign(1.0, round_floats(-1e-9)) == 1.0
    assert dumps_json({"x": -1e-9}) == '{\n  "x": 0.0\n}\n'


@pytest.mark.parametrize(
    ("obj", "where"),
    [
        ({"roc_auc": math.nan}, r"\$\.roc_auc"),
        ({"roc": [{"threshold": math.inf}]}, r"\$\.roc\[0\]\.threshold"),
        ([np.float64(-math.inf)], r"\$\[0\]"),
    ],
)
def test_dumps_json_refuses_nan_and_infinity_and_says_where(obj, where):
    with pytest.raises(MergemlError, match=where):
        dumps_json(obj)


def test_dumps_json_is_indented_sorted_and_ends_with_a_newline():
    text = dumps_json({"b": 1, "a": {"d": 2.0, "c": [1, 2]}})
    assert (
        text
        == '{\n  "a": {\n    "c": [\n      1,\n      2\n    ],\n    "d": 2.0\n  },\n  "b": 1\n}\n'
    )


def test_dumps_json_is_byte_stable_across_round_trips_and_key_order():
    metrics = classification_metrics(
        KNOWN_TRUE, KNOWN_PRED, np.linspace(0.05, 0.95, 10), names=CLASSIFICATION_METRICS
    )
    first = dumps_json(metrics)

    assert dumps_json(metrics) == first
    assert dumps_json(json.loads(first)) == first
    assert dumps_json(dict(reversed(list(metrics.items())))) == first


def test_values_that_differ_below_the_rounding_digit_serialise_identically():
    assert dumps_json({"f1": 0.571428571428}) == dumps_json({"f1": 0.5714285714286})


# --- plot tables ------------------------------------------------------------------------------


def test_roc_points_for_a_tiny_curve_replace_the_infinite_threshold():
    points = roc_points([0, 1], [0.2, 0.8])

    assert [(p["fpr"], p["tpr"]) for p in points] == [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
    assert [p["threshold"] for p in points] == pytest.approx([1.8, 0.8, 0.2])
    dumps_json(points)  # finite throughout


def test_pr_points_run_from_zero_recall_with_descending_thresholds():
    points = pr_points([0, 1], [0.2, 0.8])

    assert points == [
        {"recall": 0.0, "precision": 1.0, "threshold": pytest.approx(1.8)},
        {"recall": 1.0, "precision": 1.0, "threshold": 0.8},
        {"recall": 1.0, "precision": 0.5, "threshold": 0.2},
    ]


def _noisy_binary(n_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n_rows)
    y_score = np.clip(0.3 * y_true + rng.random(n_rows) * 0.7, 0.0, 1.0)
    return y_true, y_score


@pytest.mark.parametrize("curve", [roc_points, pr_points])
def test_curve_downsampling_keeps_endpoints_respects_max_and_is_deterministic(curve):
    y_true, y_score = _noisy_binary(500, seed=3)
    full = curve(y_true, y_score, max_points=10_000)
    assert len(full) > 30

    small = curve(y_true, y_score, max_points=30)

    assert len(small) == 30
    assert small[0] == full[0]
    assert small[-1] == full[-1]
    assert all(row in full for row in small)
    assert curve(y_true, y_score, max_points=30) == small
    thresholds = [row["threshold"] for row in small]
    assert thresholds == sorted(thresholds, reverse=True)


def test_roc_endpoints_survive_downsampling():
    y_true, y_score = _noisy_binary(500, seed=4)
    points = roc_points(y_true, y_score, max_points=2)
    assert [(p["fpr"], p["tpr"]) for p in points] == [(0.0, 0.0), (1.0, 1.0)]


def test_short_curves_are_left_untouched():
    y_true, y_score = [0, 1, 0, 1], [0.1, 0.4, 0.35, 0.8]
    assert roc_points(y_true, y_score, max_points=4) == roc_points(y_true, y_score)


@pytest.mark.parametrize("curve", [roc_points, pr_points])
def test_curve_on_one_class_is_an_error(curve):
    with pytest.raises(MergemlError, match="curve is undefined"):
        curve([1, 1], [0.2, 0.8])


def test_max_points_below_two_is_an_error():
    with pytest.raises(MergemlError, match="max_points must be at least 2"):
        prediction_points([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], max_points=1)


def test_confusion_rows_are_one_string_pair_per_test_row():
    rows = confusion_rows(KNOWN_TRUE, KNOWN_PRED)

    assert len(rows) == len(KNOWN_TRUE)
    assert rows[:3] == [
        {"actual": "1", "predicted": "1"},
        {"actual": "1", "predicted": "1"},
        {"actual": "1", "predicted": "0"},
    ]


def test_confusion_counts_match_the_known_confusion():
    assert confusion_counts(KNOWN_TRUE, KNOWN_PRED) == {
        "0": {"0": 5, "1": 1},
        "1": {"0": 2, "1": 2},
    }


def test_confusion_counts_include_labels_never_predicted_or_seen():
    counts = confusion_counts(["a", "a"], ["a", "b"], labels=["a", "b", "c"])
    assert counts == {
        "a": {"a": 1, "b": 1, "c": 0},
        "b": {"a": 0, "b": 0, "c": 0},
        "c": {"a": 0, "b": 0, "c": 0},
    }


def test_prediction_and_residual_points_on_a_short_series():
    y_true = [3.0, 1.0, 2.0]
    y_pred = [2.5, 1.5, 2.0]

    assert prediction_points(y_true, y_pred) == [
        {"actual": 1.0, "predicted": 1.5},
        {"actual": 2.0, "predicted": 2.0},
        {"actual": 3.0, "predicted": 2.5},
    ]
    assert residual_points(y_true, y_pred) == [
        {"predicted": 1.5, "residual": -0.5},
        {"predicted": 2.0, "residual": 0.0},
        {"predicted": 2.5, "residual": 0.5},
    ]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(2, 50))
def test_regression_downsampling_keeps_extremes_and_respects_max(n_rows, max_points):
    rng = np.random.default_rng(n_rows)
    y_true = rng.normal(size=n_rows)
    y_pred = y_true + rng.normal(size=n_rows)

    points = prediction_points(y_true, y_pred, max_points=max_points)
    residuals = residual_points(y_true, y_pred, max_points=max_points)

    assert len(points) == min(n_rows, max_points) == len(residuals)
    assert points[0]["actual"] == y_true.min()
    assert points[-1]["actual"] == y_true.max()
    assert [p["predicted"] for p in points] == [r["predicted"] for r in residuals]
    assert prediction_points(y_true, y_pred, max_points=max_points) == points


# --- fitted estimators ------------------------------------------------------------------------


@pytest.fixture
def separable() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    return X, y


def test_evaluate_classifier_on_a_fitted_logistic_regression(separable):
    X, y = separable
    model = LogisticRegression().fit(X, y)

    result = evaluate_classifier(model, X, y, names=["accuracy", "roc_auc", "log_loss"])

    assert isinstance(result, EvaluationResult)
    assert result.metrics["accuracy"] == 1.0
    assert result.metrics["roc_auc"] == 1.0
    expected_log_loss = -np.mean(np.log(model.predict_proba(X)[np.arange(6), y]))
    assert result.metrics["log_loss"] == pytest.approx(expected_log_loss)
    assert result.metrics["support"] == {"test_rows": 6, "by_class": {"0": 3, "1": 3}}
    assert set(result.plots) == {"roc", "precision_recall", "confusion"}
    assert result.plots["roc"][0] | {"threshold": 0} == {"fpr": 0.0, "tpr": 0.0, "threshold": 0}
    assert result.plots["roc"][-1]["fpr"] == 1.0
    assert result.plots["confusion"] == confusion_rows(y, y)
    dumps_json(result.metrics)
    dumps_json(result.plots)


def test_evaluate_classifier_with_string_labels_takes_the_second_class_as_positive(separable):
    X, y = separable
    labels = np.where(y == 1, "yes", "no")
    model = LogisticRegression().fit(X, labels)

    result = evaluate_classifier(model, X, labels, names=["precision", "roc_auc"])

    assert result.metrics["precision"] == 1.0
    assert result.metrics["support"]["by_class"] == {"no": 3, "yes": 3}
    assert {row["actual"] for row in result.plots["confusion"]} == {"no", "yes"}


def test_evaluate_classifier_on_three_classes_keeps_the_plot_schema():
    X = np.arange(9.0).reshape(-1, 1)
    y = np.repeat([0, 1, 2], 3)
    model = LogisticRegression().fit(X, y)

    result = evaluate_classifier(model, X, y, names=CLASSIFICATION_METRICS)

    assert result.metrics["support"]["by_class"] == {"0": 3, "1": 3, "2": 3}
    assert set(result.plots) == {"roc", "precision_recall", "confusion"}
    assert set(result.plots["roc"][0]) == {"fpr", "tpr", "threshold"}
    assert set(result.plots["precision_recall"][0]) == {"recall", "precision", "threshold"}


def test_evaluate_classifier_without_predict_proba_is_an_error(separable):
    X, y = separable
    model = LinearSVC().fit(X, y)
    with pytest.raises(MergemlError, match="LinearSVC has no predict_proba"):
        evaluate_classifier(model, X, y, names=["accuracy"])


def test_evaluate_regressor_on_a_fitted_linear_regression():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([1.0, 3.0, 5.0, 7.0])
    model = LinearRegression().fit(X, y)

    result = evaluate_regressor(model, X, y, names=REGRESSION_METRICS)

    assert result.metrics["rmse"] == pytest.approx(0.0, abs=1e-9)
    assert result.metrics["mae"] == pytest.approx(0.0, abs=1e-9)
    assert result.metrics["r2"] == pytest.approx(1.0)
    assert set(result.plots) == {"predictions", "residuals"}
    assert [p["actual"] for p in result.plots["predictions"]] == [1.0, 3.0, 5.0, 7.0]
    assert dumps_json(result.plots) == dumps_json(result.plots)
