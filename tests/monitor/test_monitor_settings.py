"""`params/monitor/`: the drift, window, performance and retraining settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from mergeml.config.compose import compose_params
from mergeml.config.monitor import MonitorSettings, monitor_settings
from mergeml.errors import ConfigError
from tests.projects import ROOT


def test_absent_monitor_key_reads_as_the_documented_defaults() -> None:
    settings = monitor_settings({"seed": 1})

    assert settings == MonitorSettings()
    assert settings.drift.small_reference_rows == 1000
    assert settings.drift.p_value == 0.05
    assert settings.drift.distance_threshold == 0.1
    assert settings.drift.psi_bands == (0.1, 0.25)
    assert settings.drift.dataset_share == 0.5
    assert settings.drift.correction == "none"
    assert settings.drift.min_rows == 100
    assert settings.drift.categorical_max_unique == 5
    assert settings.window.days == 7
    assert (settings.performance.bootstrap, settings.performance.confidence) == (1000, 0.95)
    assert (settings.performance.min_labels, settings.performance.seed) == (100, 0)
    assert settings.retrain.consecutive_windows == 2
    assert settings.retrain.cooldown_days == 7
    assert (settings.retrain.label, settings.retrain.branch_prefix) == ("retrain", "retrain/")


def test_default_yaml_writes_every_default_with_a_comment() -> None:
    path = ROOT / "params/monitor/default.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))

    assert monitor_settings({"monitor": doc}) == MonitorSettings()
    assert doc == MonitorSettings().model_dump(mode="json") | {
        "drift": {**MonitorSettings().drift.model_dump(mode="json"), "psi_bands": [0.1, 0.25]}
    }
    leaves = [line for line in path.read_text().splitlines() if line.startswith("  ")]
    assert leaves
    assert all("#" in line for line in leaves)


def test_the_composed_params_hold_the_monitor_key() -> None:
    composed = compose_params(ROOT / "params", check_estimators=False)

    assert monitor_settings(composed) == MonitorSettings()
    changed = compose_params(
        ROOT / "params", ["monitor.drift.correction=bh"], check_estimators=False
    )
    assert monitor_settings(changed).drift.correction == "bh"


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ({"drift": {"p_value": 1.5}}, "monitor.drift.p_value"),
        ({"drift": {"correction": "bonferroni"}}, "monitor.drift.correction"),
        ({"drift": {"psi_bands": [0.3, 0.1]}}, "monitor.drift"),
        ({"drift": {"min_rows": 0}}, "monitor.drift.min_rows"),
        ({"drift": {"pvalue": 0.1}}, "monitor.drift.pvalue"),
        ({"window": {"days": "7"}}, "monitor.window.days"),
        ({"performance": {"confidence": 1.0}}, "monitor.performance.confidence"),
        ({"retrain": {"branch_prefix": "retrain"}}, "monitor.retrain.branch_prefix"),
        ({"retrain": {"consecutive_windows": 0}}, "monitor.retrain.consecutive_windows"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(value: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        monitor_settings({"monitor": value})

    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_settings_are_frozen() -> None:
    settings = monitor_settings({})

    with pytest.raises(Exception, match="frozen"):
        settings.drift.p_value = 0.1  # type: ignore[misc]


def test_a_bad_params_file_fails_composition(tmp_path: Path) -> None:
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    (params / "monitor/default.yaml").write_text("drift:\n  p_value: 7\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"monitor\.drift\.p_value"):
        compose_params(params, check_estimators=False)
