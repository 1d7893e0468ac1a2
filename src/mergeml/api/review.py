"""Review: the gate, "what is reviewed is what is built", the report and its comment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mergeml.errors import ConfigError, MergemlError, UsageError

if TYPE_CHECKING:
    from mergeml.review.gates import GateResult
    from mergeml.review.report import Report
    from mergeml.review.verify import Verdict

PARAMS_FILE = "params.yaml"  # as mergeml.project names it (imported lazily: startup time)
DEFAULT_VERIFY_TARGETS = ("params.yaml", "dvc.lock", "reports")


@dataclass(frozen=True)
class GateOutcome:
    results: list[GateResult]

    @property
    def failed(self) -> list[GateResult]:
        return [r for r in self.results if r.failed]


def gate(base_ref: str | None, against: str | None) -> GateOutcome:
    """Check the workspace metrics against the gates (and a base ref or a stage's model)."""
    from mergeml.config.paramfiles import load_yaml
    from mergeml.config.schema import GatesConfig, parse_section
    from mergeml.review.gates import check_gates, parse_metrics

    if base_ref and against:
        raise UsageError("give --base or --against, not both")
    _require_reproduced(Path(), "gate")
    params = load_yaml(Path(PARAMS_FILE))
    gates_conf = (params or {}).get("evaluate", {}).get("gates", {})
    rules = parse_section(GatesConfig, gates_conf, where=PARAMS_FILE, prefix="evaluate.gates")
    path = _metrics_file()
    head_file = Path(path)
    head_text = head_file.read_text(encoding="utf-8") if head_file.is_file() else None
    head = parse_metrics(head_text, f"{path} (workspace)")
    base, no_base = None, "no --base or --against given"
    if base_ref or against:
        ref = _base_ref(base_ref, against)
        from mergeml.scm import Git

        base_text = Git().read_text(ref, path)
        base = None if base_text is None else parse_metrics(base_text, f"{path} at {ref}")
        no_base = f"{path} is not in git at {base_ref or against}"
    return GateOutcome(check_gates(rules, head, base, no_base=no_base))


def _require_reproduced(root: Path, command: str) -> None:
    """Refuse stale workspace results: params.yaml and dvc.lock must be current."""
    from mergeml.review.reproduced import require_reproduced

    require_reproduced(root, command)


def _metrics_file() -> str:
    from mergeml.config.stage import declared_metrics

    files = declared_metrics(Path("dvc.yaml"))
    if not files:
        raise ConfigError("dvc.yaml declares no metrics file")
    return files[0]


def _base_ref(base_ref: str | None, against: str | None) -> str:
    """``base_ref``, or the head of release/AGAINST here or on origin."""
    from mergeml.project import release_branch
    from mergeml.scm import Git, ScmError

    if not against:
        assert base_ref is not None
        return base_ref
    ref = Git().first_existing([release_branch(against), f"origin/{release_branch(against)}"])
    if ref is None:
        raise ScmError(
            f"no release/{against} branch here or on origin; "
            f"fetch it with `git fetch origin release/{against}`"
        )
    return ref


def verify_built(paths: list[str], out: Path | None) -> Verdict:
    """Compare the workspace after `dvc repro` with HEAD; write the verdict to ``out``."""
    import json

    from mergeml.config.lockfile import model_out_path
    from mergeml.config.paramfiles import load_yaml
    from mergeml.config.schema import VerifyTolerance, parse_section
    from mergeml.files import write_text_atomic
    from mergeml.review import verify
    from mergeml.scm import Git

    repo = Git()
    root = repo.root
    _require_reproduced(root, "verify-built")
    params = load_yaml(root / PARAMS_FILE) if (root / PARAMS_FILE).is_file() else {}
    section = ((params or {}).get("evaluate") or {}).get("verify") or {}
    tolerance = parse_section(VerifyTolerance, section, where=PARAMS_FILE, prefix="evaluate.verify")
    try:
        model_out: str | None = model_out_path(root / "dvc.yaml")
    except MergemlError:
        model_out = None
    verdict = verify.verify_built(
        repo,
        paths or list(DEFAULT_VERIFY_TARGETS),
        tolerance,
        lambda: verify.dvc_workspace(root, repo.resolve("HEAD")),
        model_out,
    )
    if out is not None:
        write_text_atomic(out, json.dumps(verdict.as_dict(), indent=2) + "\n")
    return verdict


def require_verified(verdict: Verdict, *, strict: bool) -> None:
    """MergemlError when the rebuild differs (or, with ``strict``, was not compared)."""
    from mergeml.review import verify

    if verdict.outcome == "differs":
        raise MergemlError(verify.failure_line(verdict))
    unverified = [f.path for f in verdict.findings if f.status == "not compared"]
    if strict and unverified:
        raise MergemlError(f"--strict: not compared by content: {', '.join(unverified)}")


def report(base_ref: str, head_ref: str | None, build_file: Path | None) -> Report:
    """The report comparing ``base_ref`` with ``head_ref`` (None: the workspace)."""
    from mergeml.review import report as rep
    from mergeml.scm import Git

    build = None
    if build_file is not None:
        from mergeml.review.verify import missing_verdict, read_verdict

        build = (
            read_verdict(build_file.read_text(encoding="utf-8"), str(build_file))
            if build_file.is_file()
            else missing_verdict(str(build_file))
        )
    repo = Git()
    if head_ref is None:  # the workspace is the head: it must be what dvc.lock records
        _require_reproduced(repo.root, "report")
    return rep.build_report(repo, base_ref, head_ref, repo.root, build)


def comment_bundle(repo: str, bundle: Path, head_sha: str, api_url: str) -> tuple[str, int]:
    """Post an untrusted `report --bundle` artifact as the sticky comment of its PR."""
    from mergeml.github import artifact
    from mergeml.github import comment as gh

    gh.check_repo(repo)
    artifact.read_bundle(bundle, expected_head_sha=head_sha)  # refuse before the token is read
    client = gh.GitHubClient(gh.token_from_env(), api_url=api_url)
    return artifact.post_bundle(client, repo, bundle, head_sha)


def comment_body(repo: str, pr: str, body_file: Path, api_url: str) -> tuple[str, int]:
    """Create or update the sticky comment on ``repo``#``pr`` with ``body_file``."""
    from mergeml.github import comment as gh
    from mergeml.github.artifact import read_limited

    gh.check_repo(repo)
    gh.check_number(pr)
    # A regular file (a symlink to one is the caller's choice), read within a bound, and
    # the body as it will be sent checked, all before the token is read.
    raw = read_limited(body_file, 4 * gh.MAX_BODY, follow_symlinks=True)
    body, _ = gh.validate_request(repo, pr, raw.decode("utf-8", errors="replace"))
    client = gh.GitHubClient(gh.token_from_env(), api_url=api_url)
    return gh.post_sticky_comment(client, repo, pr, body)


def check_large_files(max_mb: float) -> int:
    """Refuse files over ``max_mb`` in git's index (they belong in DVC); the count checked."""
    from mergeml.review.large_files import check_git_file_sizes
    from mergeml.scm import Git

    return check_git_file_sizes(Git(), max_mb)
