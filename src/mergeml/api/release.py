"""Release: promote, rollback, release-tags, registry, history, card, publish-release.

One function per command, each returning a typed result; `mergeml.cli.release` parses
options, calls one and prints it. ``repo`` is the repository to act in (a path inside it,
or an open `Git`; default: the current directory). Modules are imported when a function
runs: `mergeml registry` is budgeted at 0.5 s, start-up included.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mergeml.errors import ConfigError

if TYPE_CHECKING:
    from mergeml.release.check_ref import RefEvent
    from mergeml.release.plans import Bump, Request
    from mergeml.release.push import Outcome
    from mergeml.release.registry import Assignment, Registry
    from mergeml.scm import Git

log = logging.getLogger(__name__)

Say = Callable[[str], None]


def _git(repo: Path | Git | None) -> Git:
    from mergeml.scm import Git

    return repo if isinstance(repo, Git) else Git(repo or Path())


def _run(
    repo: Path | Git | None, req: Request, remote: str, dry_run: bool, say: Say | None
) -> Outcome:
    """Run a promotion request; the model is the artifact the workspace's dvc.yaml names."""
    from mergeml.project import DVC_YAML, workspace_layout
    from mergeml.release.policy import load_policy
    from mergeml.release.push import run
    from mergeml.scm import actor, check_remote

    check_remote(remote)
    git = _git(repo)
    git.remote_url(remote)  # a configured URL that git could read as an option is refused
    if not (git.root / DVC_YAML).is_file():
        raise ConfigError(f"{git.root / DVC_YAML} not found")
    return run(
        git,
        req,
        artifact=workspace_layout(git.root).model,
        remote=remote,
        policy_for=lambda: load_policy(git, remote),
        actor=actor(git),
        dry_run=dry_run,
        say=log.warning if say is None else say,
    )


def promote(
    stage: str,
    *,
    rev: str = "HEAD",
    bump: Bump = "minor",
    remote: str = "origin",
    message: str = "",
    dry_run: bool = False,
    repo: Path | Git | None = None,
    say: Say | None = None,
) -> Outcome:
    """Promote REV to STAGE: a gated merge into release/STAGE plus GTO tags, pushed atomically
    (nothing is written on a dry run, or when the model is already there)."""
    from mergeml.release.plans import Promote

    return _run(repo, Promote(stage, rev=rev, bump=bump, message=message), remote, dry_run, say)


def rollback(
    stage: str,
    *,
    to: str | None = None,
    remote: str = "origin",
    message: str = "",
    dry_run: bool = False,
    repo: Path | Git | None = None,
    say: Say | None = None,
) -> Outcome:
    """Put the previous holder of STAGE (or version ``to``) back, forward-only."""
    from mergeml.release.plans import Rollback

    return _run(repo, Rollback(stage, to=to, message=message), remote, dry_run, say)


def release_tags(
    stage: str,
    *,
    remote: str = "origin",
    repo: Path | Git | None = None,
    say: Say | None = None,
) -> Outcome:
    """Make the tags agree with release/STAGE on ``remote`` (idempotent)."""
    from mergeml.release.plans import Record

    return _run(repo, Record(stage), remote, False, say)


@contextlib.contextmanager
def _registry_repo(remote: str | None, repo: Path | Git | None) -> Iterator[Git]:
    """The repository, or a depth-1 mirror of REMOTE's tags and release branches."""
    from mergeml.scm import ScmError, check_remote, remote_mirror

    if remote is None:
        yield _git(repo)
        return
    check_remote(remote)
    try:
        git = _git(repo)
    except ScmError:  # outside any repository: REMOTE is a URL or a path
        url = remote
    else:
        url = git.remote_url(remote)  # refused too when its configured URL is an option
    with remote_mirror(url) as mirror:
        yield mirror


def registry(*, remote: str | None = None, repo: Path | Git | None = None) -> Registry:
    """Every model version (commit, model md5, metrics, stages), read from git tags; of
    ``remote`` (a name or URL) without cloning it when given."""
    from mergeml.release.registry import read_registry

    with _registry_repo(remote, repo) as git:
        return read_registry(git)


def history(
    stage: str, *, remote: str | None = None, repo: Path | Git | None = None
) -> list[Assignment]:
    """Every assignment of STAGE, oldest first."""
    from mergeml.release.registry import stage_history

    with _registry_repo(remote, repo) as git:
        return stage_history(git, stage)


def check_ref(ref: str, *, repo: Path | Git | None = None) -> RefEvent:
    """What REF records (registration, deregistration, assignment, unassignment or
    nothing), read from the repository's annotated tags as `gto check-ref` reads them."""
    from mergeml.release.check_ref import RefEvent, check_ref, registry_tag

    if registry_tag(ref) is None:  # no repository needed to say that nothing happened
        return RefEvent(ref, None)
    return check_ref(_git(repo), ref)


def card(rev: str = "HEAD", *, template: str, repo: Path | Git | None = None) -> str:
    """The Markdown model card of REV, filled into ``template`` read at REV."""
    from mergeml.release.card import render_card

    return render_card(_git(repo), rev, template=template)


@dataclass(frozen=True)
class Published:
    action: str  # "created" or "updated"
    release_id: int
    repo: str
    tag: str


def publish_release(
    github_repo: str, tag: str, notes_file: Path, *, name: str | None, api_url: str
) -> Published:
    """Create the GitHub release of TAG with the notes, or update it (token: GITHUB_TOKEN);
    every input is checked before the token is read."""
    from mergeml.errors import GitHubError
    from mergeml.github import comment as gh
    from mergeml.github import release as github_release

    gh.check_repo(github_repo)
    github_release.check_tag(tag)
    try:
        body = notes_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GitHubError(f"cannot read release notes {notes_file}: {exc}") from exc
    github_release.check_release_body(body)
    client = gh.GitHubClient(gh.token_from_env(), api_url=api_url)
    action, release_id = github_release.publish_release(client, github_repo, tag, name or tag, body)
    return Published(action, release_id, github_repo, tag)
