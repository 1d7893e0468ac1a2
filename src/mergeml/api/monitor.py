"""Monitoring: drift and performance of a served model. One function per command, each
returning a typed report; `mergeml.cli.monitor` parses options, calls one and prints it.

Every problem is a `MonitorError` (exit 2): exit 1 is kept for "drifted" / "degraded".
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.errors import MergemlError, MonitorError

if TYPE_CHECKING:
    import pandas as pd

    from mergeml.monitor.drift_check import DriftReport
    from mergeml.monitor.performance import PerformanceReport
    from mergeml.monitor.target import MonitorTarget


@contextlib.contextmanager
def exit_two() -> Iterator[None]:
    """Any mergeml error of a monitor command as a MonitorError (exit 2), same message."""
    try:
        yield
    except MonitorError:
        raise
    except MergemlError as exc:
        raise MonitorError(str(exc)) from exc


@dataclass(frozen=True)
class DriftRun:
    report: DriftReport
    frame: pd.DataFrame  # the current data compared (for the HTML plots)


def _root(repo: Path | None) -> Path:
    from mergeml.errors import ScmError
    from mergeml.scm import Git

    try:
        return Git(repo or Path()).root
    except ScmError:
        return (repo or Path()).resolve()


def _settings(target: MonitorTarget) -> Any:
    """params/monitor as committed with the model (the workspace's for the workspace)."""
    from mergeml.config.monitor import monitor_settings
    from mergeml.project import PARAMS_FILE
    from mergeml.yamlread import parse_yaml

    where = f"{PARAMS_FILE} at {target.side.short}"
    text = target.side.read(PARAMS_FILE)
    doc = parse_yaml(text, where) if text is not None else None
    return monitor_settings(doc if isinstance(doc, dict) else {}, where)


def _log_url(log: str | None, root: Path) -> str | None:
    from mergeml.serve.logstore import log_location

    return log_location(log, root)


def drift(
    *,
    stage: str | None = None,
    rev: str | None = None,
    current: Path | None = None,
    log: str | None = None,
    since: str | None = None,
    until: str | None = None,
    days: int | None = None,
    repo: Path | None = None,
) -> DriftRun:
    """Compare the current window (the log's predictions of the model, or ``current``)
    with the reference profile of the model of ``stage``, ``rev`` or the workspace."""
    from mergeml.monitor.drift_check import check_drift, read_current
    from mergeml.monitor.target import resolve_target
    from mergeml.monitor.window import window_span

    if current is not None and log is not None:
        raise MonitorError("give --current PATH or --log URL, not both")
    with exit_two():
        root = _root(repo)
        target = resolve_target(root, stage=stage, rev=rev)
        settings = _settings(target)
        span = window_span(since, until, days or int(settings.window.days))
        url = None if current is not None else _log_url(log, root)
        frame, source = read_current(target, current=current, log_url=url, span=span)
        return DriftRun(check_drift(target, frame, source, settings.drift), frame)


def performance(
    *,
    stage: str | None = None,
    rev: str | None = None,
    log: str | None = None,
    since: str | None = None,
    until: str | None = None,
    days: int | None = None,
    repo: Path | None = None,
) -> PerformanceReport:
    """The model's metrics on the labelled predictions of the window, with bootstrap
    intervals, against its evaluation metrics and gates."""
    from mergeml.monitor.performance import join_feedback, measure
    from mergeml.monitor.target import resolve_target
    from mergeml.monitor.window import log_window, window_span
    from mergeml.serve.logread import read_log

    with exit_two():
        root = _root(repo)
        target = resolve_target(root, stage=stage, rev=rev)
        settings = _settings(target)
        span = window_span(since, until, days or int(settings.window.days))
        url = _log_url(log, root)
        if url is None:
            raise MonitorError("the prediction log is off: give --log URL")
        columns = ["request_id", "row", "prediction", "proba_*"]
        predictions = log_window(url, span, stage=target.stage, md5=target.md5, columns=columns)
        feedback = read_log(url, span.start, None, kind="feedback")
        joined = join_feedback(predictions, feedback)
        who = f"stage {target.stage}, " if target.stage else ""
        source = f"{url} ({who}{span.describe().replace(' and ', ' to ')})"
        return measure(target, joined, settings.performance, source, len(predictions))


def retrain(
    *,
    stage: str | None = "production",
    remote: str = "origin",
    repo_slug: str | None = None,
    api_url: str | None = None,
    log: str | None = None,
    until: str | None = None,
    dry_run: bool = False,
    repo: Path | None = None,
) -> Any:
    """Check the latest window of ``stage``'s model (None: the workspace's) and run the
    retraining loop once (`mergeml.monitor.retrain`); the outcome."""
    from datetime import UTC, datetime

    from mergeml.monitor.retrain_job import retrain_once

    until = until or datetime.now(UTC).isoformat(timespec="seconds")
    with exit_two():
        from mergeml.scm import check_remote

        check_remote(remote)  # before the checks: a bad option fails fast
        root = _root(repo)
        run = drift(stage=stage, log=log, until=until, repo=root)
        perf = performance(stage=stage, log=log, until=until, repo=root)
        settings = _settings(run.report.target)
        url = _log_url(log, root)
        return retrain_once(
            root,
            run.report,
            perf,
            settings,
            log_url=url,
            until=until,
            remote=remote,
            repo_slug=repo_slug,
            api_url=api_url,
            dry_run=dry_run,
        )
