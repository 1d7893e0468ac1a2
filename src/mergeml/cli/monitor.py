"""`mergeml monitor drift` and `mergeml monitor performance`: parse the options, call one
function of `mergeml.api.monitor`, print what it returns, exit 0 / 1 (drifted, degraded)."""

from __future__ import annotations

from pathlib import Path

import click

from mergeml.api import monitor as api

_stage = click.option("--stage", help="Check the model of this stage (head of release/STAGE).")
_rev = click.option("--rev", help="Check the model committed at this revision.")
_log = click.option(
    "--log",
    "log_url",
    metavar="URL",
    help="The prediction log's root (default: $MERGEML_PREDICTION_LOG, else "
    "[tool.mergeml.serve] prediction_log, else logs/).",
)
_since = click.option("--since", help="Window start, an ISO date or datetime (UTC).")
_until = click.option("--until", help="Window end, an ISO date or datetime (UTC; default now).")
_days = click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Window length in days when --since is not given (default: params monitor.window.days).",
)
_json = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
_markdown = click.option(
    "--markdown",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the report as Markdown to this file.",
)


def _write(path: Path, text: str) -> None:
    from mergeml.errors import MonitorError
    from mergeml.files import write_text_atomic

    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise MonitorError(f"{path}: cannot write ({exc.strerror or exc})") from exc


@click.group("monitor")
def monitor() -> None:
    """Watch a served model: data drift and performance from the prediction log."""


@monitor.command("drift")
@_stage
@_rev
@click.option(
    "--current",
    type=click.Path(path_type=Path),
    help="Compare this CSV/Parquet file (or directory of them) instead of the log.",
)
@_log
@_since
@_until
@_days
@_json
@_markdown
@click.option(
    "--html",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write a self-contained HTML page with a plot per drifted feature.",
)
@click.pass_context
def drift(
    ctx: click.Context,
    stage: str | None,
    rev: str | None,
    current: Path | None,
    log_url: str | None,
    since: str | None,
    until: str | None,
    days: int | None,
    as_json: bool,
    markdown: Path | None,
    html: Path | None,
) -> None:
    """Compare a window of current data with the model's reference profile.

    Per feature: the test and threshold of params/monitor, PSI band, missing and
    out-of-range rates; "not enough data" below the minimum sample. Exit 0 when nothing
    drifted, 1 on dataset drift (the configured share of features drifted) or prediction
    drift, 2 on an error.
    """
    from mergeml.monitor import render

    done = api.drift(
        stage=stage, rev=rev, current=current, log=log_url, since=since, until=until, days=days
    )
    report = done.report
    if markdown is not None:
        _write(markdown, render.markdown(report))
    if html is not None:
        from mergeml.monitor.render_html import html_page

        _write(html, html_page(report, done.frame))
    click.echo(render.as_json(report).rstrip() if as_json else render.table(report))
    if report.drifted:
        ctx.exit(1)


@monitor.command("performance")
@_stage
@_rev
@_log
@_since
@_until
@_days
@_json
@_markdown
@click.pass_context
def performance(
    ctx: click.Context,
    stage: str | None,
    rev: str | None,
    log_url: str | None,
    since: str | None,
    until: str | None,
    days: int | None,
    as_json: bool,
    markdown: Path | None,
) -> None:
    """Score the window's labelled predictions (feedback joined by request id and row),
    with bootstrap confidence intervals, against the evaluation metrics and gates.

    Exit 1 when degraded: a min (max) gate failed by the whole interval, or a drop below
    the evaluation metric beyond the vs_base tolerance; 0 otherwise, also when there are
    too few labels to judge (said on stdout); 2 on an error.
    """
    from mergeml.monitor import render

    report = api.performance(stage=stage, rev=rev, log=log_url, since=since, until=until, days=days)
    if markdown is not None:
        _write(markdown, render.performance_markdown(report))
    text = render.performance_json(report).rstrip() if as_json else render.performance_table(report)
    click.echo(text)
    if report.degraded:
        ctx.exit(1)


@click.command("retrain")
@click.option("--stage", default="production", show_default=True, help="The served stage.")
@click.option(
    "--remote", default="origin", show_default=True, help="Git remote for state and branch."
)
@click.option(
    "--repo",
    "repo_slug",
    metavar="OWNER/NAME",
    help="GitHub repository (default: $GITHUB_REPOSITORY).",
)
@click.option(
    "--api-url",
    metavar="URL",
    help="GitHub API URL (default: $GITHUB_API_URL, else api.github.com).",
)
@_log
@_until
@click.option("--dry-run", is_flag=True, help="Check and decide; push nothing, open nothing.")
@_json
def retrain(
    stage: str,
    remote: str,
    repo_slug: str | None,
    api_url: str | None,
    log_url: str | None,
    until: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Check the latest window and open or update the one retraining pull request.

    Runs drift and performance on the window (params monitor.window.days ending now);
    after monitor.retrain.consecutive_windows breaches in a row, and outside the cooldown,
    pushes retrain/<model> with the window's labelled data and opens or updates its pull
    request (token: $MERGEML_GITHUB_TOKEN, else $GITHUB_TOKEN; none: the branch only).
    """
    import json

    done = api.retrain(
        stage=stage,
        remote=remote,
        repo_slug=repo_slug,
        api_url=api_url,
        log=log_url,
        until=until,
        dry_run=dry_run,
    )
    click.echo(
        json.dumps(done.document(), indent=2) if as_json else f"{done.action}: {done.message}"
    )


MONITOR_COMMANDS = (monitor, retrain)
