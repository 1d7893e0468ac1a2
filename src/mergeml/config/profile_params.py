"""What the `profile` stage reads from params.yaml: threads, data.task, data.target and
the two drift keys that shape the profile (small_reference_rows, categorical_max_unique)."""

from __future__ import annotations

from pydantic import Field

from mergeml.config.monitor import DriftSettings, _Section
from mergeml.config.schema import TargetSpec, Threads


class ProfileMonitor(_Section):
    drift: DriftSettings = Field(default_factory=DriftSettings)


class ProfileParams(_Section):
    threads: Threads
    data: TargetSpec
    monitor: ProfileMonitor = Field(default_factory=ProfileMonitor)
