"""The `mergeml` command line: one group, thin commands, one error boundary."""

from __future__ import annotations

import itertools
import logging
import sys
from pathlib import Path

import click

from mergeml import __version__
from mergeml.cli.options import api_url_option
from mergeml.cli.release import RELEASE_COMMANDS
from mergeml.errors import ConfigError, MergemlError, UsageError, run_with_boundary

PARAMS_DIR = Path("params")
PARAMS_FILE = Path("params.yaml")


def _project_dir() -> Path:
    if not (PARAMS_DIR / "config.yaml").is_file():
        raise ConfigError(
            f"no params/config.yaml in {Path.cwd().name}/: run mergeml from the project root"
        )
    return PARAMS_DIR


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mergeml")
@click.option("--traceback", is_flag=True, help="Show the full Python traceback on errors.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress and debug details.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool, verbose: bool) -> None:
    """mergeml: Git-centric, declarative MLOps (Hydra params, DVC stages, gated merges)."""
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback
    # Quiet by default, so that an error is the only line on stderr (STYLE 8);
    # --verbose shows mergeml's own progress and debug messages, not other libraries'.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("mergeml").setLevel(logging.DEBUG if verbose else logging.WARNING)


@cli.group()
def params() -> None:
    """Compose and check parameters (params/ -> params.yaml)."""


@params.command("compose")
@click.argument("overrides", nargs=-1)
def params_compose(overrides: tuple[str, ...]) -> None:
    """Compose params/ with Hydra OVERRIDES and write params.yaml.

    Example: mergeml params compose model=random_forest model.n_estimators=300
    """
    from mergeml.config.compose import compose_to_file

    changed = compose_to_file(_project_dir(), PARAMS_FILE, overrides)
    click.echo(f"{PARAMS_FILE} {'updated' if changed else 'unchanged'}")


@params.command("check")
def params_check() -> None:
    """Fail (exit 1) with a diff when params.yaml is not what params/ composes to."""
    from mergeml.config.compose import check_params_file, require_current

    lines = check_params_file(_project_dir(), PARAMS_FILE)
    if lines:
        click.echo("\n".join(lines))
        require_current(PARAMS_DIR, PARAMS_FILE, lines)
    click.echo(f"{PARAMS_FILE} is current")


@cli.group()
def exp() -> None:
    """Run experiments from Hydra overrides (as DVC experiments)."""


@exp.command("run")
@click.argument("overrides", nargs=-1)
@click.option("--queue", is_flag=True, help="Run through DVC's queue with worker processes.")
@click.option(
    "--jobs", type=click.IntRange(1, 16), default=1, show_default=True, help="Queue workers."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=3600,
    show_default=True,
    help="Seconds to wait for queued experiments before stopping them.",
)
@click.option("--dry-run", is_flag=True, help="Validate and print the plan; run nothing.")
def exp_run(
    overrides: tuple[str, ...], queue: bool, jobs: int, timeout: float, dry_run: bool
) -> None:
    """Run one DVC experiment per combination of OVERRIDES.

    Group choices (model=random_forest), values (model.max_iter=300) and sweeps
    (model.max_iter=100,200,400) are accepted. Every combination is validated before
    anything runs. Without --queue, experiments run one after the other in temporary
    directories; the workspace is not changed. See them with `dvc exp show`.
    """
    from mergeml.data.preflight import preflight
    from mergeml.pipeline import experiments
    from mergeml.scm import tracked_by_git

    planned = experiments.plan(_project_dir(), overrides)
    preflight([e.params for e in planned], Path(), is_tracked=tracked_by_git)
    for i, item in enumerate(planned, 1):
        click.echo(f"[{i}/{len(planned)}] {' '.join(item.overrides) or '(no overrides)'}")
    if dry_run:
        return
    if queue:
        failed = experiments.run_queued(planned, jobs=jobs, timeout=timeout, progress=click.echo)
    else:
        failed = experiments.run_serial(planned, progress=click.echo)
    if failed:
        raise MergemlError(f"{len(failed)} of {len(planned)} experiment(s) failed: {failed}")
    click.echo(f"{len(planned)} experiment(s) done; see `dvc exp show`")


@cli.command("repro", context_settings={"ignore_unknown_options": True})
@click.option(
    "--numerics",
    type=click.Choice(["native", "pinned"]),
    help="native: the fastest kernels of this CPU; pinned: the same kernels and one thread "
    "on every x86-64 machine (byte-identical models, slower). Default: [tool.mergeml.build] "
    "numerics in pyproject.toml, else native.",
)
@click.argument("dvc_args", nargs=-1, type=click.UNPROCESSED)
def repro(numerics: str | None, dvc_args: tuple[str, ...]) -> None:
    """Run `dvc repro DVC_ARGS` under the project's numeric environment.

    Example: mergeml repro --numerics pinned -f
    """
    import os
    import subprocess

    from mergeml.pipeline.numerics import Mode, build_env, configured_mode

    mode: Mode = "pinned" if numerics == "pinned" else "native"
    if numerics is None:
        mode = configured_mode(Path("pyproject.toml"))
    if mode == "pinned":
        click.echo("mergeml repro: pinned numerics (baseline kernels, one thread)", err=True)
    cmd = [sys.executable, "-m", "dvc", "repro", *dvc_args]
    code = subprocess.call(cmd, env=build_env(mode, os.environ))
    if code:  # DVC has said what failed; pass its exit code on, add no second line
        click.get_current_context().exit(code)


@cli.command("gate")
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
    import json

    from mergeml.config.compose import load_yaml
    from mergeml.config.schema import GatesConfig, parse_section
    from mergeml.config.stage import declared_metrics
    from mergeml.review.gates import check_gates, format_table, parse_metrics

    if base_ref and against:
        raise UsageError("give --base or --against, not both")
    params = load_yaml(PARAMS_FILE)
    gates_conf = (params or {}).get("evaluate", {}).get("gates", {})
    rules = parse_section(GatesConfig, gates_conf, where=str(PARAMS_FILE), prefix="evaluate.gates")
    files = declared_metrics(Path("dvc.yaml"))
    if not files:
        raise ConfigError("dvc.yaml declares no metrics file")
    path = files[0]
    head_file = Path(path)
    head_text = head_file.read_text(encoding="utf-8") if head_file.is_file() else None
    head = parse_metrics(head_text, f"{path} (workspace)")
    base, no_base = None, "no --base or --against given"
    if base_ref or against:
        from mergeml.scm import Git, ScmError

        repo = Git()
        ref = base_ref
        if against:
            candidates = [f"release/{against}", f"origin/release/{against}"]
            ref = repo.first_existing(candidates)
            if ref is None:
                raise ScmError(
                    f"no release/{against} branch here or on origin; "
                    f"fetch it with `git fetch origin release/{against}`"
                )
        assert ref is not None
        base_text = repo.read_text(ref, path)
        base = None if base_text is None else parse_metrics(base_text, f"{path} at {ref}")
        no_base = f"{path} is not in git at {base_ref or against}"
    results = check_gates(rules, head, base, no_base=no_base)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2, allow_nan=False))
    else:
        click.echo(format_table(results))
    failed = [r for r in results if r.failed]
    if failed:
        names = ", ".join(f"{r.rule} {r.metric}" for r in failed)
        raise MergemlError(f"{len(failed)} of {len(results)} gate(s) failed: {names}")


@cli.command("verify-built")
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
    import json

    from mergeml.config.compose import load_yaml
    from mergeml.config.lockfile import model_out_path
    from mergeml.config.schema import VerifyTolerance, parse_section
    from mergeml.files import write_text_atomic
    from mergeml.review import verify
    from mergeml.scm import Git

    repo = Git()
    root = repo.root
    params = load_yaml(root / PARAMS_FILE) if (root / PARAMS_FILE).is_file() else {}
    section = ((params or {}).get("evaluate") or {}).get("verify") or {}
    tolerance = parse_section(
        VerifyTolerance, section, where=str(PARAMS_FILE), prefix="evaluate.verify"
    )
    try:
        model_out: str | None = model_out_path(root / "dvc.yaml")
    except MergemlError:
        model_out = None
    verdict = verify.verify_built(
        repo,
        list(paths) or ["params.yaml", "dvc.lock", "reports"],
        tolerance,
        lambda: verify.dvc_workspace(root, repo.resolve("HEAD")),
        model_out,
    )
    document = json.dumps(verdict.as_dict(), indent=2)
    if out is not None:
        write_text_atomic(out, document + "\n")
    click.echo(document if as_json else "\n".join(verify.render_text(verdict)))
    if verdict.outcome == "differs":
        raise MergemlError(verify.failure_line(verdict))
    unverified = [f.path for f in verdict.findings if f.status == "not compared"]
    if strict and unverified:
        raise MergemlError(f"--strict: not compared by content: {', '.join(unverified)}")


@cli.command("report")
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
    from mergeml.review import report as rep
    from mergeml.scm import Git

    if bundle is not None and not (pr and head_sha):
        raise UsageError("--bundle needs --pr and --head-sha")
    if bundle is not None:
        from mergeml.github.comment import check_number

        check_number(pr)  # refuse before any work
    build = None
    if build_file is not None:
        from mergeml.review.verify import missing_verdict, read_verdict

        build = (
            read_verdict(build_file.read_text(encoding="utf-8"), str(build_file))
            if build_file.is_file()
            else missing_verdict(str(build_file))
        )
    repo = Git()
    built = rep.build_report(repo, base_ref, head_ref, repo.root, build)
    text = rep.render_json(built) if fmt == "json" else rep.render_markdown(built)
    if out is not None and out.exists() and not out.is_file():
        out.write_text(text, encoding="utf-8")  # a device or pipe, e.g. /dev/stdout
    elif out is not None:
        write_text_atomic(out, text)
    else:
        click.echo(text, nl=False)
    if bundle is not None:
        from mergeml.github.comment import check_number, write_bundle

        markdown = text if fmt == "md" else rep.render_markdown(built)
        number = check_number(pr)
        write_bundle(bundle, pr=number, head_sha=str(head_sha), body=markdown)


@cli.command("comment")
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
    from mergeml.errors import GitHubError
    from mergeml.github import comment as gh

    gh.check_repo(repo)
    if bundle is not None:
        if pr or body_file or not head_sha:
            raise UsageError("--bundle goes with --head-sha, not with --pr or --body-file")
        gh.read_bundle(bundle, expected_head_sha=head_sha)  # refuse before the token is read
        client = gh.GitHubClient(gh.token_from_env(), api_url=api_url)
        action, comment_id = gh.post_bundle(client, repo, bundle, head_sha)
        click.echo(f"{action} comment {comment_id} on {repo}")
        return
    if not pr or body_file is None:
        raise UsageError("give --pr and --body-file, or --bundle and --head-sha")
    gh.check_number(pr)
    if not body_file.is_file():
        raise GitHubError(f"body file {body_file} not found")
    if body_file.stat().st_size > 4 * gh.MAX_BODY:  # refuse before reading a huge file
        raise GitHubError(f"body file {body_file} is {body_file.stat().st_size} bytes: too large")
    body = body_file.read_text(encoding="utf-8", errors="replace")
    client = gh.GitHubClient(gh.token_from_env(), api_url=api_url)
    action, comment_id = gh.post_sticky_comment(client, repo, pr, body)
    click.echo(f"{action} comment {comment_id} on {repo}#{pr}")


@cli.group()
def model() -> None:
    """Inspect model files safely."""


@model.command("check")
@click.argument("path", type=click.Path(path_type=Path), default=Path("models/model.skops"))
@click.option(
    "--lock",
    type=click.Path(path_type=Path),
    default=Path("dvc.lock"),
    show_default=True,
    help="dvc.lock holding the expected md5 of the model artifact.",
)
@click.option(
    "--out",
    "out_path",
    metavar="PATH",
    help="The dvc.lock output to compare with (default: the model artifact in the dvc.yaml "
    "beside --lock).",
)
@click.option("--no-lock", is_flag=True, help="Skip the md5 comparison (a file with no record).")
def model_check(path: Path, lock: Path, out_path: str | None, no_lock: bool) -> None:
    """Verify a model file: skops format, trusted types, md5 against dvc.lock, versions.

    The md5 is compared with the dvc.lock entry of the model artifact (found through
    dvc.yaml, whatever PATH is called); a missing lock or entry is an error unless
    --no-lock is given.
    """
    from mergeml.config.lockfile import expected_model_md5
    from mergeml.model.io import load_model

    if no_lock and out_path:
        raise UsageError("--out compares with dvc.lock; it does not go with --no-lock")
    expected = None if no_lock else expected_model_md5(lock, out_path)
    model_obj = load_model(path, expected_md5=expected[1] if expected else None)
    checked = f"md5 matches {expected[0]} in {lock}" if expected else "md5 not compared"
    click.echo(f"{path}: OK ({type(model_obj).__name__}; {checked})")


for _command in RELEASE_COMMANDS:
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: click parses, the error boundary reports."""
    args = sys.argv[1:] if argv is None else argv
    # --traceback is a group option: it only counts before the first command name.
    traceback = "--traceback" in itertools.takewhile(lambda a: a.startswith("-"), args)

    def invoke() -> None:
        try:
            code = cli.main(args=args, prog_name="mergeml", standalone_mode=False)
            if isinstance(code, int) and code:  # a command's ctx.exit(code)
                sys.exit(code)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        except click.UsageError as exc:
            raise UsageError(exc.format_message()) from exc
        except click.exceptions.Abort as exc:
            raise MergemlError("aborted") from exc
        except click.exceptions.Exit as exc:
            if exc.exit_code:
                sys.exit(exc.exit_code)

    run_with_boundary(invoke, traceback=traceback)
