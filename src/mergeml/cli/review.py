"""`mergeml gate`, `verify-built`, `report` and `comment`: parse, call the API, print."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mergeml.api import review as api_review
from mergeml.cli.options import api_url_option
from mergeml.errors import MergemlError, UsageError


@click.command("gate")
@click.option("--base", "base_ref", metavar="REF", help="Compare with the metrics at this ref.")
@click.option(
    "--against",
    metavar="STAGE",
    help="Compare with the model now in release/STAGE (local or origin).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def gate(base_ref: str | None, against: str | None, as_json: bool) -> None:
    """Check the workspace metrics against the gates in params/evaluate/ (exit 1 on failure).

    Absolute thresholds (min/max) always apply; vs_base rules need --base or --against.
    A NaN, infinite or missing metric, or an unreadable metrics file, fails.
    """
    from mergeml.review.gates import format_table

    outcome = api_review.gate(base_ref, against)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in outcome.results], indent=2, allow_nan=False))
    else:
        click.echo(format_table(outcome.results))
    if outcome.failed:
        names = ", ".join(f"{r.rule} {r.metric}" for r in outcome.failed)
        raise MergemlError(
            f"{len(outcome.failed)} of {len(outcome.results)} gate(s) failed: {names}"
        )


@click.command("verify-built")
@click.argument("paths", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Also write the verdict as JSON here (for `mergeml report --build`), pass or fail.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Fail when a changed output cannot be compared (its committed object is in "
    "neither the DVC cache nor the remote).",
)
def verify_built(paths: tuple[str, ...], as_json: bool, out: Path | None, strict: bool) -> None:
    """Check that `dvc repro` rebuilt what was committed: what is reviewed is what is built.

    Identical bytes pass at once. Otherwise params.yaml and every source hash in dvc.lock
    (code, params, data files) must match exactly, and outputs are compared by content
    within the tolerance in params.yaml `evaluate.verify`: metrics and plot data, prepared
    tables, and the model's predictions on the test split. PATHS default to params.yaml,
    dvc.lock and reports/. Exit 1 when anything differs beyond tolerance.
    """
    from mergeml.review.verify import render_text

    verdict = api_review.verify_built(list(paths), out)
    document = json.dumps(verdict.as_dict(), indent=2)
    click.echo(document if as_json else "\n".join(render_text(verdict)))
    api_review.require_verified(verdict, strict=strict)


@click.command("report")
@click.option("--base", "base_ref", required=True, metavar="REF", help="The ref to compare with.")
@click.option("--head", "head_ref", metavar="REF", help="Head ref (default: the workspace).")
@click.option("--out", type=click.Path(path_type=Path), help="Write here instead of stdout.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json"]),
    default="md",
    show_default=True,
    help="Markdown for people, JSON for machines.",
)
@click.option(
    "--bundle",
    type=click.Path(path_type=Path),
    help="Also write the comment artifact (body.md + meta.json) to this folder.",
)
@click.option("--pr", "pr", metavar="N", help="Pull request number for --bundle.")
@click.option("--head-sha", metavar="SHA", help="Pull request head commit for --bundle.")
@click.option(
    "--build",
    "build_file",
    type=click.Path(path_type=Path),
    help="A `mergeml verify-built --out` verdict to show as the Build section.",
)
def report(
    base_ref: str,
    head_ref: str | None,
    out: Path | None,
    fmt: str,
    bundle: Path | None,
    pr: str | None,
    head_sha: str | None,
    build_file: Path | None,
) -> None:
    """Compare two refs: params changed, metrics, gates, data and curves, in one document.

    Works on any DVC project: the params and metrics files are the ones dvc.yaml
    declares. A ref whose metrics are not in git is reported as such; exit 0.
    """
    from mergeml.files import write_text_atomic
    from mergeml.github.artifact import write_bundle
    from mergeml.github.comment import check_number
    from mergeml.review import report as rep

    if bundle is not None and not (pr and head_sha):
        raise UsageError("--bundle needs --pr and --head-sha")
    number = check_number(pr) if bundle is not None else None  # refuse before any work
    built = api_review.report(base_ref, head_ref, build_file)
    text = rep.render_json(built) if fmt == "json" else rep.render_markdown(built)
    if out is not None and out.exists() and not out.is_file():
        out.write_text(text, encoding="utf-8")  # a device or pipe, e.g. /dev/stdout
    elif out is not None:
        write_text_atomic(out, text)
    else:
        click.echo(text, nl=False)
    if bundle is not None and number is not None:
        markdown = text if fmt == "md" else rep.render_markdown(built)
        write_bundle(bundle, pr=number, head_sha=str(head_sha), body=markdown)


@click.command("comment")
@click.option("--repo", required=True, metavar="OWNER/NAME", help="Repository of the PR.")
@click.option("--pr", "pr", metavar="N", help="Pull request number (digits).")
@click.option(
    "--body-file", type=click.Path(path_type=Path), help="Markdown body to post (with --pr)."
)
@click.option(
    "--bundle",
    type=click.Path(path_type=Path),
    help="An artifact from `mergeml report --bundle` (untrusted; needs --head-sha).",
)
@click.option("--head-sha", metavar="SHA", help="The triggering run's head commit (with --bundle).")
@api_url_option
def comment(
    repo: str,
    pr: str | None,
    body_file: Path | None,
    bundle: Path | None,
    head_sha: str | None,
    api_url: str,
) -> None:
    """Create or update the one sticky mergeml comment on a pull request.

    Either --pr with --body-file, or --bundle with --head-sha: the bundle's PR number must
    be digits and that PR's head must be the triggering commit. Everything is checked
    before any request; the token comes from GITHUB_TOKEN; the body is data, never run.
    """
    from mergeml.github.comment import check_repo

    check_repo(repo)
    if bundle is not None:
        if pr or body_file or not head_sha:
            raise UsageError("--bundle goes with --head-sha, not with --pr or --body-file")
        action, comment_id = api_review.comment_bundle(repo, bundle, head_sha, api_url)
        click.echo(f"{action} comment {comment_id} on {repo}")
        return
    if not pr or body_file is None:
        raise UsageError("give --pr and --body-file, or --bundle and --head-sha")
    action, comment_id = api_review.comment_body(repo, pr, body_file, api_url)
    click.echo(f"{action} comment {comment_id} on {repo}#{pr}")


@click.command("check-large-files")
@click.option(
    "--max-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=50.0,
    show_default=True,
    help="Largest file allowed in git, in MB (2**20 bytes, as GitHub counts).",
)
def check_large_files(max_mb: float) -> None:
    """Fail when a file in git (`git ls-files`) is over --max-mb: data and models go to DVC.

    Run by `make lint` and CI. The one-line error names the largest file and the
    `git rm --cached` + `dvc add` that moves it to DVC.
    """
    count = api_review.check_large_files(max_mb)
    click.echo(f"{count} files in git, none over {max_mb:g} MB")


REVIEW_COMMANDS = (gate, verify_built, report, comment, check_large_files)
