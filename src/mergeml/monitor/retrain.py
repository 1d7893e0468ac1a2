"""`mergeml retrain`: record the latest window's verdict and, when the model has degraded
for the configured number of windows in a row and no cooldown applies, open or update
the one retraining pull request of the model.

State lives on the remote (``refs/mergeml/monitor/<model>``, see `loop_state`), so a
fresh runner or clone continues where the last run stopped. Without a GitHub token the
branch is still pushed and the pull request is left to a person. Nothing is ever merged
or force-pushed, and no release branch is touched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.monitor.loop_state import (
    STATE_FILE,
    LoopState,
    Window,
    breaches_in_a_row,
    cooling_until,
    due,
    parse_state,
    parse_time,
    record,
    state_ref,
    with_pr,
)
from mergeml.scm.worktree import commit_file, fetch_ref, push_ref, read_blob

if TYPE_CHECKING:
    import pandas as pd

    from mergeml.github.comment import GitHubClient

MARKER = "<!-- mergeml:retrain {model} -->"


@dataclass(frozen=True)
class LoopInput:
    """What the checks found for the latest window, and where to act."""

    model: str
    end: str  # the window's end date (UTC)
    breached: bool
    summary: str  # one line: why (or why not)
    report: str  # the drift and performance Markdown
    rows: pd.DataFrame  # the window's labelled rows (features and target)
    remote: str = "origin"
    base: str = "main"
    repo: str | None = None  # owner/name on GitHub
    dry_run: bool = False


@dataclass(frozen=True)
class Outcome:
    model: str
    window_end: str
    breached: bool
    in_a_row: int
    needed: int
    action: str  # recorded | waiting | cooldown | opened | updated | pushed | dry-run
    message: str
    branch: str
    commit: str | None = None
    pr_number: int | None = None
    pr_url: str | None = None

    def document(self) -> dict[str, Any]:
        return asdict(self)


def title(model: str, end: str) -> str:
    return f"Retrain {model}: degraded up to {end} (mergeml retrain)"


def body(model: str, report: str) -> str:
    from mergeml.review.report import MAX_BODY

    text = f"{MARKER.format(model=model)}\n{report}"
    return text if len(text) <= MAX_BODY else text[: MAX_BODY - 40] + "\n\n(report cut)\n"


def _read_state(root: Path, remote: str, model: str) -> tuple[LoopState, str | None]:
    ref = state_ref(model)
    old = fetch_ref(root, remote, ref, ref)
    text = read_blob(root, old, STATE_FILE) if old else None
    return parse_state(text, f"{ref} on {remote}"), old


def _write_state(root: Path, remote: str, model: str, state: LoopState, old: str | None) -> None:
    message = f"mergeml retrain: state of {model}"
    commit = commit_file(root, old, STATE_FILE, state.to_json(), message)
    push_ref(root, remote, commit, state_ref(model), old)


def _pr_record(pr: dict[str, Any]) -> dict[str, Any]:
    keys = ("number", "html_url", "state", "closed_at", "merged_at")
    return {k: pr.get(k) for k in keys}


def _latest_pr(client: GitHubClient | None, repo: str | None, branch: str) -> dict | None:
    """The open PR of ``branch`` if any, else the one closed last (None: none, no GitHub)."""
    if client is None or repo is None:
        return None
    from mergeml.github.pulls import find_pulls

    pulls = find_pulls(client, repo, branch)
    open_ = [p for p in pulls if p.get("state") == "open"]
    if open_:
        return _pr_record(open_[0])
    closed = sorted(pulls, key=lambda p: str(p.get("closed_at") or ""))
    return _pr_record(closed[-1]) if closed else None


def _waiting(state: LoopState, job: LoopInput, needed: int) -> str:
    if not job.breached:
        return f"no breach in the window ending {job.end}: nothing to do"
    count = breaches_in_a_row(state)
    return f"breach {count} of {needed} in a row: waiting for {needed - count} more window(s)"


def decide(
    state: LoopState, job: LoopInput, settings: Any, known: dict | None, now: datetime
) -> tuple[str, str]:
    """(action, message) before acting: recorded/waiting, cooldown, or open/update."""
    needed = int(settings.consecutive_windows)
    if not due(state, needed):
        return ("waiting" if job.breached else "recorded"), _waiting(state, job, needed)
    last = known or state.last_pr
    if last and last.get("state") == "open":
        return "update", f"pull request #{last.get('number')} is open: updating it"
    until = cooling_until(last, int(settings.cooldown_days))
    if until is not None and now < until:
        return "cooldown", (
            f"retraining pull request #{last.get('number') if last else '?'} ended less than "
            f"{settings.cooldown_days} days ago: cooldown until {until:%Y-%m-%d %H:%M} UTC"
        )
    return "open", f"{needed} window(s) in a row breached: opening a retraining pull request"


def run_loop(
    root: Path, job: LoopInput, settings: Any, client: GitHubClient | None, now: datetime
) -> Outcome:
    """Record the window, decide, act, and write the state back to the remote."""
    branch = f"{settings.branch_prefix}{job.model}"
    state, old = _read_state(root, job.remote, job.model)
    state = record(state, Window(job.end, job.breached, job.summary))
    ripe = due(state, int(settings.consecutive_windows))  # GitHub is asked only then
    known = _latest_pr(client, job.repo, branch) if ripe else None
    action, message = decide(state, job, settings, known, now)
    base = Outcome(
        job.model,
        job.end,
        job.breached,
        breaches_in_a_row(state),
        int(settings.consecutive_windows),
        action,
        message,
        branch,
    )
    if job.dry_run:
        return replace(base, action="dry-run", message=f"dry run, would {action}: {message}")
    if action in ("open", "update"):
        from mergeml.monitor.labelled import rows_after

        since = parse_time(state.data_until)
        fresh = replace(job, rows=rows_after(job.rows, since))
        base, known = _act(root, fresh, settings, client, base, known)
        state = replace(state, data_until=now.isoformat())
    if known is not None:
        state = with_pr(state, known)
    _write_state(root, job.remote, job.model, state, old)
    return base


def _act(
    root: Path,
    job: LoopInput,
    settings: Any,
    client: GitHubClient | None,
    outcome: Outcome,
    known: dict | None,
) -> tuple[Outcome, dict | None]:
    """Push the branch, then open or update the pull request when GitHub is configured."""
    from mergeml.monitor.retrain_branch import BranchRequest, build_branch

    text = body(job.model, job.report)
    request = BranchRequest(
        job.remote, outcome.branch, job.base, job.model, job.end, job.rows, text
    )
    commit, _ = build_branch(root, request)
    report = f"data/labelled/{job.model}-{job.end}.md"
    if client is None or job.repo is None:
        message = (
            f"pushed {outcome.branch} ({commit[:12]}) to {job.remote}; no GitHub token: open "
            f"the pull request by hand, title {title(job.model, job.end)!r}, body {report} "
            "on the branch"
        )
        return replace(outcome, action="pushed", message=message, commit=commit), known
    from mergeml.github.pulls import add_label, create_pull, update_body

    if known and known.get("state") == "open":
        number = int(known["number"])
        pr = update_body(client, job.repo, number, text)
        action = "updated"
    else:
        pr = create_pull(
            client,
            job.repo,
            head=outcome.branch,
            base=job.base,
            title=title(job.model, job.end),
            body=text,
        )
        number, action = int(pr["number"]), "opened"
    add_label(client, job.repo, number, str(settings.label))
    url = str(pr.get("html_url") or "")
    message = f"{action} pull request #{number} {url}".rstrip()
    done = replace(outcome, action=action, message=message, commit=commit)
    return replace(done, pr_number=number, pr_url=url or None), _pr_record(pr)
