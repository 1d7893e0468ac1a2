"""The retraining loop's memory: which windows breached, and the last retraining PR.

It is state.json in the tree of the commit that ``refs/mergeml/monitor/<model>`` names on
the remote, so it survives runners and fresh clones. A window is keyed by its end date:
running twice on the same day replaces that day's entry, it never counts twice.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from mergeml.errors import MonitorError

STATE_FILE = "state.json"
REF_PREFIX = "refs/mergeml/monitor/"
KEEP = 100  # windows remembered


@dataclass(frozen=True)
class Window:
    end: str  # ISO date (UTC) the window ends on
    breached: bool
    summary: str


@dataclass(frozen=True)
class LoopState:
    windows: tuple[Window, ...] = ()
    last_pr: dict[str, Any] | None = field(default=None)
    # Labelled rows up to this moment (ISO, UTC) went into a retraining branch: windows
    # overlap (7 days, run daily), so the next commit adds only the rows logged after it.
    data_until: str | None = None

    def to_json(self) -> str:
        data = {
            "windows": [asdict(w) for w in self.windows],
            "last_pr": self.last_pr,
            "data_until": self.data_until,
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def state_ref(model: str) -> str:
    return f"{REF_PREFIX}{model}"


def parse_state(text: str | None, where: str) -> LoopState:
    """The state in ``text`` (None: the empty state); MonitorError naming ``where``."""
    if text is None:
        return LoopState()
    try:
        data = json.loads(text)
        windows = tuple(
            Window(str(w["end"]), bool(w["breached"]), str(w.get("summary", "")))
            for w in data.get("windows", [])
        )
        last = data.get("last_pr")
        until = data.get("data_until")
        parsed_until = None if until is None else parse_time(until)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise MonitorError(f"{where}: unreadable retraining state ({exc})") from exc
    if last is not None and not isinstance(last, dict):
        raise MonitorError(f"{where}: last_pr must be an object")
    if until is not None and parsed_until is None:
        raise MonitorError(f"{where}: data_until {until!r} is not a date-time")
    return LoopState(windows, last, None if until is None else str(until))


def record(state: LoopState, window: Window) -> LoopState:
    """``state`` with ``window`` added (replacing one with the same end), ordered by end."""
    kept = [w for w in state.windows if w.end != window.end]
    windows = sorted([*kept, window], key=lambda w: w.end)[-KEEP:]
    return replace(state, windows=tuple(windows))


def with_pr(state: LoopState, pr: dict[str, Any] | None) -> LoopState:
    return replace(state, last_pr=pr)


def due(state: LoopState, consecutive: int) -> bool:
    """Whether the last ``consecutive`` windows all breached."""
    last = state.windows[-consecutive:]
    return len(last) == consecutive and all(w.breached for w in last)


def breaches_in_a_row(state: LoopState) -> int:
    count = 0
    for window in reversed(state.windows):
        if not window.breached:
            break
        count += 1
    return count


def parse_time(value: object) -> datetime | None:
    """An ISO time as GitHub writes it (``...Z``), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def ended_at(pr: dict[str, Any] | None) -> datetime | None:
    """When a pull request was merged or closed (None: still open, or unknown)."""
    if not pr:
        return None
    return parse_time(pr.get("merged_at")) or parse_time(pr.get("closed_at"))


def cooling_until(pr: dict[str, Any] | None, days: int) -> datetime | None:
    """The end of the cooldown after ``pr`` was merged or closed (None: no cooldown)."""
    ended = ended_at(pr)
    return None if ended is None else ended + timedelta(days=days)
