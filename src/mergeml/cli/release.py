"""`mergeml promote`, `rollback`, `release-tags`, `card`, `publish-release`, `registry`,
`history`, `check-ref`: parse the options, call one function of `mergeml.api.release`, print it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mergeml.api import release as api
from mergeml.cli.options import api_url_option

if TYPE_CHECKING:
    from mergeml.release.plans import Bump
    from mergeml.release.push import Outcome
    from mergeml.release.registry import Registry

REMOTE_HELP = "Where to push (a configured remote)."
REMOTE_READ_HELP = "Read this remote (name or URL) without cloning it."
DRY_RUN_HELP = "Check everything and show the plan; write nothing."


def _say(line: str) -> None:
    click.echo(line, err=True)


def _report(outcome: Outcome, done: str) -> None:
    plan = outcome.plan
    if plan.already:
        click.echo(f"{plan.artifact} {plan.version} is already in {plan.stage}; nothing written")
    elif outcome.dry_run:
        click.echo(f"would push {plan.branch.describe()} and {outcome.tags}")
    else:
        click.echo(f"{done}: {', '.join(outcome.tags)}")


@click.command("promote")
@click.argument("stage")
@click.option("--rev", default="HEAD", show_default=True, help="The commit to promote.")
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    default="minor",
    show_default=True,
    help="How to number a model that has no version yet.",
)
@click.option("--remote", default="origin", show_default=True, help=REMOTE_HELP)
@click.option("--dry-run", is_flag=True, help=DRY_RUN_HELP)
@click.option("--message", default="", help="Why: recorded in the tags.")
def promote(stage: str, rev: str, bump: Bump, remote: str, dry_run: bool, message: str) -> None:
    """Promote REV to STAGE: gated merge into release/STAGE plus GTO tags, pushed atomically.

    Refused before any ref is written when the tree is dirty, the stage is unknown, REV is
    not on REMOTE's main, it skips a required earlier stage, or it fails the gates
    (absolute, and against the model now in STAGE) of the metrics file its dvc.yaml
    declares. Stages and their order come from `[tool.mergeml.promotion]` in
    pyproject.toml on REMOTE's main. Promoting what is already there writes nothing and
    exits 0.
    """
    outcome = api.promote(
        stage, rev=rev, bump=bump, remote=remote, message=message, dry_run=dry_run, say=_say
    )
    _report(outcome, f"promoted {outcome.plan.artifact} {outcome.plan.version} to {stage}")


@click.command("rollback")
@click.argument("stage")
@click.option("--to", metavar="VERSION", help="Put back this version (default: the previous one).")
@click.option("--remote", default="origin", show_default=True, help=REMOTE_HELP)
@click.option("--dry-run", is_flag=True, help=DRY_RUN_HELP)
@click.option("--message", default="", help="Why: recorded in the tag.")
def rollback(stage: str, to: str | None, remote: str, dry_run: bool, message: str) -> None:
    """Put the previous holder of STAGE (or VERSION) back, forward-only.

    A new stage tag on that version's commit and a merge of its tree into release/STAGE;
    no tag is deleted or moved, so the history keeps every assignment. VERSION must have
    been in STAGE before. Gates are not re-checked: it passed them when it first entered.
    """
    outcome = api.rollback(stage, to=to, remote=remote, message=message, dry_run=dry_run, say=_say)
    _report(outcome, f"rolled {stage} back to {outcome.plan.version}")


@click.command("release-tags")
@click.argument("stage")
@click.option("--remote", default="origin", show_default=True, help=REMOTE_HELP)
def release_tags(stage: str, remote: str) -> None:
    """Make the tags agree with release/STAGE on REMOTE, then print the newest STAGE tag.

    For merges that reached the branch without `mergeml promote` (a pull request merged
    in GitHub's UI): registers the model if it is new and assigns STAGE. Idempotent; the
    only line on stdout is the tag name, for scripts.
    """
    outcome = api.release_tags(stage, remote=remote, say=_say)
    if outcome.tags:
        _say(f"tagged {', '.join(outcome.tags)}")
    click.echo(outcome.plan.stage_tag)


@click.command("card")
@click.option("--rev", default="HEAD", show_default=True, help="The commit or tag to describe.")
@click.option(
    "--template",
    default="docs/model_card.md",
    show_default=True,
    help="The template (read at REV) holding intended use and limitations.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Write here instead of stdout.")
def card(rev: str, template: str, out: Path | None) -> None:
    """The model card of REV: version, data, params, metrics, gates, promotion history."""
    from mergeml.files import write_text_atomic

    text = api.card(rev, template=template)
    if out is None:
        click.echo(text, nl=False)
        return
    write_text_atomic(out, text)
    _say(f"wrote {out}")


@click.command("publish-release")
@click.option("--repo", required=True, metavar="OWNER/NAME", help="The GitHub repository.")
@click.option("--tag", required=True, help="An existing tag (e.g. the new stage tag).")
@click.option(
    "--notes-file",
    required=True,
    type=click.Path(path_type=Path),
    help="Markdown release notes (the model card).",
)
@click.option("--name", help="Release title (default: the tag).")
@api_url_option
def publish_release(repo: str, tag: str, notes_file: Path, name: str | None, api_url: str) -> None:
    """Create the GitHub release of TAG with the notes, or update it (token: GITHUB_TOKEN)."""
    done = api.publish_release(repo, tag, notes_file, name=name, api_url=api_url)
    click.echo(f"{done.action} release {done.release_id} for {done.tag} on {done.repo}")


def _print_registry(data: Registry) -> None:
    for name, art in sorted(data.artifacts.items()):
        stages = ", ".join(f"{s}: {v}" for s, v in art.stage_holders().items()) or "no stage"
        click.echo(f"{name}  latest {art.latest() or '-'}  ({stages})")
        for v in art.as_dict()["versions"]:
            metrics = ", ".join(
                f"{k} {val:.4g}" for k, val in list((v["metrics"] or {}).items())[:3]
            )
            md5 = (v["model_md5"] or "unavailable")[:12]
            flags = " [deregistered]" if v["deregistered"] else ""
            click.echo(
                f"  {v['version']}  {v['commit'][:7]}  md5 {md5}  "
                f"{metrics or 'metrics unavailable'}  {' '.join(v['stages'])}{flags}"
            )


@click.command("registry")
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON.")
@click.option("--remote", help=REMOTE_READ_HELP)
def registry_cmd(as_json: bool, remote: str | None) -> None:
    """Every model version: commit, model md5, key metrics, current stages (from git tags)."""
    data = api.registry(remote=remote)
    if as_json:
        text = json.dumps(data.as_dict(), indent=2, allow_nan=False, check_circular=False)
        click.echo(text)  # a tree of fresh dicts: no cycle to look for
        return
    _print_registry(data)
    for warning in data.warnings:
        _say(f"warning: {warning}")


def _why(message: str) -> str:
    """The reason in a tag message: mergeml's `by WHO: WHY` line, else the first line."""
    lines = message.splitlines()
    for line in lines:
        if line.startswith("by ") and ": " in line:
            return line.split(": ", 1)[1]
    return lines[0] if lines else ""


@click.command("history")
@click.argument("stage")
@click.option("--json", "as_json", is_flag=True, help="Print the assignments as JSON.")
@click.option("--remote", help=REMOTE_READ_HELP)
def history_cmd(stage: str, as_json: bool, remote: str | None) -> None:
    """Every assignment of STAGE, oldest first: version, commit, time, actor, message."""
    items = api.history(stage, remote=remote)
    if as_json:
        click.echo(json.dumps([a.as_dict() for a in items], indent=2))
        return
    if not items:
        click.echo(f"no assignments of stage '{stage}'")
    for a in items:
        when = datetime.fromtimestamp(a.timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        action = "unassigned" if a.unassign else "assigned"
        click.echo(
            f"{when}  {a.artifact} {a.version or a.commit[:7]}  {action} by "
            f"{a.actor}  ({a.tag}): {_why(a.message)}"
        )


@click.command("check-ref")
@click.argument("ref")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the event as one line of JSON (kind, name, version, stage, commit, current).",
)
def check_ref_cmd(ref: str, as_json: bool) -> None:
    """What REF (a tag name or refs/tags/...) did to a model: registration, deregistration,
    assignment or unassignment of a stage, or nothing (kind null) for any other ref.

    Read from the annotated tags, like `gto check-ref`; the deploy workflow builds an image
    only for an assignment. A registry tag that is missing, or an assignment of a commit
    with no registered version, is an error.
    """
    event = api.check_ref(ref)
    if as_json:
        click.echo(json.dumps(event.as_dict(), separators=(",", ":")))
        return
    click.echo(event.describe())


RELEASE_COMMANDS = (
    promote,
    rollback,
    release_tags,
    card,
    publish_release,
    registry_cmd,
    history_cmd,
    check_ref_cmd,
)
