"""One `mergeml retrain` run from the two checks' reports: the loop's input (verdict,
report, labelled rows) and the GitHub client when a token and a repository are given."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.errors import MonitorError
from mergeml.monitor.drift_check import profile_columns
from mergeml.monitor.labelled import labelled_rows
from mergeml.monitor.retrain import LoopInput, Outcome, run_loop
from mergeml.monitor.window import window_span

if TYPE_CHECKING:
    from mergeml.github.comment import GitHubClient
    from mergeml.monitor.drift_check import DriftReport
    from mergeml.monitor.performance import PerformanceReport
    from mergeml.monitor.target import MonitorTarget

DEFAULT_API = "https://api.github.com"


def github_client(
    repo_slug: str | None, api_url: str | None, env: Mapping[str, str] = os.environ
) -> tuple[GitHubClient | None, str | None]:
    """(client, owner/name): both set only with a repository and a token."""
    from mergeml.github.comment import GitHubClient, check_repo
    from mergeml.github.pulls import pr_token

    slug = repo_slug or env.get("GITHUB_REPOSITORY") or None
    token = pr_token(env)
    if slug is None or token is None:
        return None, None
    url = api_url or env.get("GITHUB_API_URL") or DEFAULT_API
    return GitHubClient(token, url), check_repo(slug)


def target_column(target: MonitorTarget) -> str:
    """``data.target`` of params.yaml at the model's commit."""
    from mergeml.project import PARAMS_FILE
    from mergeml.yamlread import parse_yaml

    text = target.side.read(PARAMS_FILE)
    doc = parse_yaml(text, PARAMS_FILE) if text is not None else None
    data = doc.get("data") if isinstance(doc, dict) else None
    name = data.get("target") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        raise MonitorError(f"{PARAMS_FILE} at {target.side.short} names no data.target")
    return name


def verdict(drift: DriftReport, perf: PerformanceReport) -> tuple[bool, str, str]:
    """(breached, one-line summary, Markdown report) of the window."""
    from mergeml.monitor import render

    breached = drift.drifted or perf.degraded
    summary = f"{render.summary(drift)}; {render.performance_summary(perf)}"
    report = "\n\n".join(
        [
            f"## mergeml retrain: {drift.target.label}",
            render.markdown(drift).strip(),
            render.performance_markdown(perf).strip(),
        ]
    )
    return breached, summary, report + "\n"


def retrain_once(
    root: Path,
    drift: DriftReport,
    perf: PerformanceReport,
    settings: Any,
    *,
    log_url: str | None,
    until: str,
    remote: str,
    repo_slug: str | None,
    api_url: str | None,
    dry_run: bool,
) -> Outcome:
    """Build the loop's input from the reports and run the loop once."""
    if log_url is None:
        raise MonitorError("the prediction log is off: give --log URL")
    target = drift.target
    span = window_span(None, until, int(settings.window.days))
    column = target_column(target)
    rows = labelled_rows(
        log_url,
        span,
        stage=target.stage,
        md5=target.md5,
        features=list(profile_columns(target.profile)),
        target=column,
    )
    breached, summary, report = verdict(drift, perf)
    client, slug = github_client(repo_slug, api_url)
    job = LoopInput(
        model=target.layout.model,
        end=span.end.date().isoformat(),
        breached=breached,
        summary=summary,
        report=report,
        rows=rows,
        remote=remote,
        repo=slug,
        dry_run=dry_run,
    )
    return run_loop(root, job, settings.retrain, client, span.end)
