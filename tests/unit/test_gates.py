"""Gates never pass a NaN, an infinity, a missing key or an unreadable metrics file."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mergeml.config.schema import GatesConfig
from mergeml.review.gates import MetricsFileError, check_gates, format_table, parse_metrics

RULES = GatesConfig.model_validate(
    {
        "min": {"roc_auc": 0.8, "r2": 0.2},
        "max": {"log_loss": 0.5},
        "vs_base": {
            "roc_auc": {"absolute": 0.01},
            "log_loss": {"relative": 0.1},
            "average_precision": {"absolute": 0.02, "relative": 0.05},
        },
    }
)
GOOD = {"roc_auc": 0.9, "log_loss": 0.2, "average_precision": 0.4, "accuracy": 0.95}


def by_key(results: list) -> dict[tuple[str, str], object]:
    return {(r.rule, r.metric): r for r in results}


def test_good_metrics_pass_against_themselves() -> None:
    results = check_gates(RULES, GOOD, dict(GOOD))
    assert not [r for r in results if r.failed]
    assert by_key(results)[("min", "r2")].status == "skip"  # a regression metric
    assert by_key(results)[("vs_base", "roc_auc")].status == "pass"


def test_absolute_thresholds_fail_in_both_directions() -> None:
    results = by_key(check_gates(RULES, {**GOOD, "roc_auc": 0.7, "log_loss": 0.6}, None))
    assert results[("min", "roc_auc")].failed
    assert results[("max", "log_loss")].failed


def test_non_regression_is_direction_aware() -> None:
    worse = {**GOOD, "roc_auc": 0.88, "log_loss": 0.25}  # -0.02 AUC, +25% log loss
    results = by_key(check_gates(RULES, worse, GOOD))
    assert results[("vs_base", "roc_auc")].failed
    assert results[("vs_base", "log_loss")].failed
    better = {**GOOD, "roc_auc": 0.95, "log_loss": 0.1}
    assert not [r for r in check_gates(RULES, better, GOOD) if r.failed]


def test_both_tolerances_must_hold() -> None:
    # base 0.4: absolute allows 0.02, relative 5% allows 0.02 -> a drop of 0.015 passes
    ok = by_key(check_gates(RULES, {**GOOD, "average_precision": 0.385}, GOOD))
    assert ok[("vs_base", "average_precision")].status == "pass"
    base = {**GOOD, "average_precision": 0.2}  # relative now allows only 0.01
    bad = by_key(check_gates(RULES, {**GOOD, "average_precision": 0.185}, base))
    assert bad[("vs_base", "average_precision")].failed


def test_a_first_pull_request_skips_the_comparison_but_not_the_thresholds() -> None:
    results = by_key(check_gates(RULES, {**GOOD, "roc_auc": 0.5}, None))
    assert results[("vs_base", "roc_auc")].status == "skip"
    assert results[("min", "roc_auc")].failed


def test_a_missing_head_metric_fails() -> None:
    head = {k: v for k, v in GOOD.items() if k != "roc_auc"}
    results = by_key(check_gates(RULES, head, GOOD))
    assert results[("min", "roc_auc")].failed
    assert "missing" in results[("min", "roc_auc")].reason


@given(
    bad=st.sampled_from([math.nan, math.inf, -math.inf])
    | st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not math.isfinite(v)),
    metric=st.sampled_from(["roc_auc", "log_loss", "average_precision"]),
    where=st.sampled_from(["head", "base"]),
)
@example(bad=math.nan, metric="roc_auc", where="head")
@example(bad=math.inf, metric="log_loss", where="head")
@example(bad=-math.inf, metric="roc_auc", where="base")
def test_a_non_finite_metric_never_passes(bad: float, metric: str, where: str) -> None:
    head, base = dict(GOOD), dict(GOOD)
    (head if where == "head" else base)[metric] = bad
    results = [r for r in check_gates(RULES, head, base) if r.metric == metric]
    assert results
    assert all(r.failed for r in results if r.rule == "vs_base" or where == "head")
    assert "nan" in format_table(results) or "inf" in format_table(results)


@given(value=st.floats(min_value=0.0, max_value=1.0), base=st.floats(min_value=0.0, max_value=1.0))
def test_vs_base_passes_exactly_when_the_drop_is_within_tolerance(
    value: float, base: float
) -> None:
    rules = GatesConfig.model_validate({"vs_base": {"roc_auc": {"absolute": 0.01}}})
    (result,) = check_gates(rules, {"roc_auc": value}, {"roc_auc": base})
    assert result.failed == (base - value > 0.01)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (None, "not found"),
        ('{"roc_auc": 0.9', "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_unusable_metrics_files_are_one_clear_error(text: str | None, pattern: str) -> None:
    with pytest.raises(MetricsFileError, match=pattern):
        parse_metrics(text, "reports/metrics.json")


def test_nan_in_json_is_parsed_and_then_fails_the_gate() -> None:
    head = parse_metrics('{"roc_auc": NaN, "log_loss": 0.2}', "x")
    results = by_key(check_gates(RULES, head, None))
    assert results[("min", "roc_auc")].failed
    assert results[("min", "roc_auc")].as_dict()["head"] == "nan"
