"""The settings of `mergeml monitor` and `mergeml retrain` (params.yaml's ``monitor`` key,
composed from ``params/monitor/``): drift methods and thresholds, the window, the
performance check, the retraining loop.

Every key has a default, so a params.yaml without ``monitor`` (an older commit) reads as
the defaults; a bad value is one ConfigError naming ``monitor.<key>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Share = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class DriftSettings(_Section):
    """Per-feature drift methods, after Evidently's defaults (see the README's table)."""

    # Reference rows up to which KS / chi-squared / z-tests are used (beyond: distances).
    small_reference_rows: Annotated[int, Field(ge=1)] = 1000
    p_value: Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)] = 0.05
    distance_threshold: Positive = 0.1
    psi_bands: Annotated[tuple[Positive, Positive], Field(strict=False)] = (0.1, 0.25)
    dataset_share: Share = 0.5
    correction: Literal["none", "bh"] = "none"
    min_rows: Annotated[int, Field(ge=1)] = 100
    categorical_max_unique: Annotated[int, Field(ge=2)] = 5

    @model_validator(mode="after")
    def _bands_ordered(self) -> DriftSettings:
        if self.psi_bands[0] >= self.psi_bands[1]:
            raise ValueError("psi_bands must be two increasing numbers (moderate, significant)")
        return self


class WindowSettings(_Section):
    days: Annotated[int, Field(ge=1, le=366)] = 7


class PerformanceSettings(_Section):
    bootstrap: Annotated[int, Field(ge=0, le=100_000)] = 1000
    confidence: Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)] = 0.95
    min_labels: Annotated[int, Field(ge=1)] = 100
    seed: int = 0


class RetrainSettings(_Section):
    consecutive_windows: Annotated[int, Field(ge=1, le=100)] = 2
    cooldown_days: Annotated[int, Field(ge=0, le=366)] = 7
    label: Annotated[str, Field(min_length=1, max_length=50)] = "retrain"
    branch_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+/$")] = "retrain/"


class MonitorSettings(_Section):
    """The whole ``monitor`` key."""

    drift: DriftSettings = Field(default_factory=DriftSettings)
    window: WindowSettings = Field(default_factory=WindowSettings)
    performance: PerformanceSettings = Field(default_factory=PerformanceSettings)
    retrain: RetrainSettings = Field(default_factory=RetrainSettings)


def monitor_settings(params: Mapping[str, Any], where: str = "params.yaml") -> MonitorSettings:
    """The ``monitor`` key of ``params`` (the whole params.yaml mapping), validated;
    the defaults when it is absent. A bad value -> ConfigError naming ``monitor.<key>``."""
    from mergeml.config.schema import parse_section

    value = params.get("monitor") if isinstance(params, Mapping) else None
    if value is None:
        return MonitorSettings()
    return parse_section(MonitorSettings, value, where=where, prefix="monitor")
