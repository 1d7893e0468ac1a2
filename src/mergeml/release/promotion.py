"""Promotion by merge, planned: what a request will write, after every check; reads only.

One planner per request (`release.plans`): `plan_promote` (gated), `plan_rollback` and
`plan_record` (a merge made in GitHub's UI). Every refusal is raised here, before
`release.push` writes anything; planning itself writes nothing, not even the merge commit
a non-fast-forward update will need.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mergeml.config.lockfile import md5_in_lock_text
from mergeml.errors import PromotionError
from mergeml.project import LOCK_FILE, Layout, gate_rules, git_side, layout_at, release_branch
from mergeml.release.plans import (
    BranchUpdate,
    Bump,
    Context,
    Plan,
    Promote,
    Record,
    Request,
    Rollback,
)
from mergeml.release.registry import Artifact, Version, holding_version, read_artifact, semver
from mergeml.review.gates import check_gates, parse_metrics
from mergeml.scm import Git


@dataclass(frozen=True)
class _Now:
    """The stage as the remote has it: the artifact's versions, the branch, the holder."""

    art: Artifact
    stage: str
    release_old: str | None
    holder: Version | None


def _bump(latest: str | None, part: Bump) -> str:
    if latest is None:
        return "v1.0.0" if part == "major" else "v0.1.0" if part == "minor" else "v0.0.1"
    major, minor, patch = semver(latest)[:3]
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def _now(ctx: Context, stage: str) -> _Now:
    """The stage's state on the remote; refuses an unknown stage first."""
    if stage not in ctx.policy.stages:
        raise PromotionError(f"unknown stage '{stage}' (stages: {', '.join(ctx.policy.stages)})")
    art = read_artifact(ctx.repo, ctx.artifact)
    holder = art.stage_holders().get(stage)
    release_old = ctx.repo.first_existing([f"{ctx.remote}/{release_branch(stage)}"])
    return _Now(art, stage, release_old, art.versions[holder] if holder else None)


def _require_clean(repo: Git) -> None:
    if repo.is_dirty():
        raise PromotionError("the working tree has uncommitted changes: commit or stash first")


def _model_md5(repo: Git, sha: str, layout: Layout, artifact: str) -> str:
    """The md5 dvc.lock at ``sha`` records for the model, where dvc.yaml there puts it."""
    path = layout.path_of(artifact)
    text = repo.read_text(sha, LOCK_FILE)
    md5 = md5_in_lock_text(text, path) if text else None
    if not md5:
        raise PromotionError(f"{sha[:12]} has no {path} in dvc.lock: nothing to promote")
    return md5


def _metrics_summary(repo: Git, sha: str, layout: Layout) -> str:
    text = git_side(repo, sha).read(layout.metrics)
    try:
        return json.dumps(json.loads(text)) if text else "metrics unavailable"
    except (json.JSONDecodeError, RecursionError):
        return "metrics unavailable"


def _newest_tag(art: Artifact, stage: str) -> str:
    mine = [a for a in art.assignments if a.stage == stage]
    return max(mine, key=lambda a: (a.timestamp, a.number)).tag if mine else ""


def _already(ctx: Context, now: _Now, same: Version | None, sha: str) -> Plan | None:
    """The plan that writes nothing, when the stage already holds this model on its branch."""
    old = now.release_old
    if same is None or now.holder is None or now.holder.version != same.version or old is None:
        return None
    if ctx.repo.tree(old) != ctx.repo.tree(sha):
        return None
    return Plan(
        artifact=ctx.artifact,
        stage=now.stage,
        rev=sha,
        version=same.version,
        version_commit=same.commit,
        new_version=False,
        stage_tag=_newest_tag(now.art, now.stage),
        branch=BranchUpdate(release_branch(now.stage), old, old),
        already=True,
    )


def _refuse_deregistered(ctx: Context, now: _Now, same: Version | None, sha: str) -> None:
    """GTO allows one version per commit, even a deregistered one."""
    taken = [v.version for v in now.art.versions.values() if v.commit == sha]
    if same is None and taken:
        raise PromotionError(
            f"{sha[:12]} already carries {ctx.artifact} {taken[0]} (deregistered): "
            "commit again to register a new version"
        )


def _skipped_stage(ctx: Context, now: _Now, same: Version | None, sha: str) -> str | None:
    """Why the policy's earlier stage was skipped, or None when it was not."""
    needed = ctx.policy.requires.get(now.stage)
    if not needed:
        return None
    staged = {a.version for a in now.art.assignments if a.stage == needed and not a.unassign}
    if same is not None and same.version in staged:
        return None
    return f"{sha[:12]} has never been in {needed}"


def _check_gates(ctx: Context, sha: str, layout: Layout, now: _Now) -> None:
    """The gates of ``sha``'s params.yaml on its metrics, against the stage's holder."""
    side = git_side(ctx.repo, sha)
    rules = gate_rules(side)
    head = parse_metrics(side.read(layout.metrics), f"{layout.metrics} at {sha[:12]}")
    base = None
    if now.holder is not None:
        holder = git_side(ctx.repo, now.holder.commit)
        path = layout_at(ctx.repo, now.holder.commit).metrics
        text = holder.read(path)
        base = parse_metrics(text, f"{path} in {now.stage}") if text else None
    failed = [r for r in check_gates(rules, head, base) if r.failed]
    if failed:
        names = ", ".join(f"{r.rule} {r.metric} ({r.reason})" for r in failed)
        raise PromotionError(f"{sha[:12]} fails the gates for {now.stage}: {names}")


@dataclass(frozen=True)
class _Change:
    """What a planner decided: the commit, the version holding its model, how to number."""

    sha: str
    same: Version | None
    layout: Layout
    bump: Bump = "minor"
    verb: str = "Promote"  # of the merge commit's message
    move: bool = True  # False: the branch stays where it is (recording)
    notes: tuple[str, ...] = ()


def _new_plan(ctx: Context, now: _Now, change: _Change) -> Plan:
    """The tags and branch update for a change that passed every check."""
    art, sha, same = now.art, change.sha, change.same
    # Numbers are never reused: bump from the highest, deregistered versions included.
    highest = max(art.versions, key=semver, default=None)
    version = same.version if same else _bump(highest, change.bump)
    number = max((a.number for a in art.assignments), default=0) + 1
    name, old = release_branch(now.stage), now.release_old
    if not change.move and old is not None:
        branch = BranchUpdate(name, old, old)  # recording never moves the branch
    elif old is None or ctx.repo.is_ancestor(old, sha):
        branch = BranchUpdate(name, old, sha)  # fast-forward
    else:
        message = f"{change.verb} {ctx.artifact} {version} to {now.stage}"
        branch = BranchUpdate(name, old, sha, merge_message=message)
    return Plan(
        artifact=ctx.artifact,
        stage=now.stage,
        rev=sha,
        version=version,
        version_commit=same.commit if same else sha,
        new_version=same is None,
        stage_tag=f"{ctx.artifact}#{now.stage}#{number}",
        branch=branch,
        metrics=_metrics_summary(ctx.repo, sha, change.layout),
        not_before=max((a.timestamp for a in art.assignments), default=0) + 1,
        notes=change.notes,
    )


def plan_promote(ctx: Context, req: Promote) -> Plan:
    """Refused unless REV is on the remote's main, its model passes the gates and the
    policy's earlier stage held it; raises before anything is written."""
    now = _now(ctx, req.stage)
    _require_clean(ctx.repo)
    sha = ctx.repo.resolve(req.rev)
    main = ctx.repo.first_existing([f"{ctx.remote}/main"])
    if main is None or not ctx.repo.is_ancestor(sha, main):
        raise PromotionError(f"{req.rev} ({sha[:12]}) is not reachable from {ctx.remote}/main")
    layout = layout_at(ctx.repo, sha)
    same = holding_version(now.art, sha, _model_md5(ctx.repo, sha, layout, ctx.artifact))
    notes: tuple[str, ...] = ()
    if same is not None and same.commit != sha:
        # The version is the model: promote the commit it was registered at, so that the
        # release branch and the stage tag always hold the same tree.
        notes = (
            f"{sha[:12]} holds the same model as {ctx.artifact} {same.version}: "
            f"promoting its commit {same.commit[:12]}",
        )
        sha, layout = same.commit, layout_at(ctx.repo, same.commit)
    already = _already(ctx, now, same, sha)
    if already is not None:
        return already
    _refuse_deregistered(ctx, now, same, sha)
    skipped = _skipped_stage(ctx, now, same, sha)
    if skipped:
        needed = ctx.policy.requires[req.stage]
        raise PromotionError(f"{skipped}: promote it to {needed} first")
    _check_gates(ctx, sha, layout, now)
    return _new_plan(ctx, now, _Change(sha, same, layout, bump=req.bump, notes=notes))


def _rollback_target(art: Artifact, stage: str, to: str | None) -> Version:
    """The version to put back: VERSION when given, else the holder before the current one."""
    holder = art.stage_holders().get(stage)
    been = [
        a
        for a in art.assignments
        if a.stage == stage
        and not a.unassign
        and a.version
        and not art.versions[a.version].deregistered
    ]
    if to is not None:
        version = art.versions.get(to)
        if version is None or version.deregistered:
            raise PromotionError(f"{art.name} {to} is not a registered version")
        if to not in {a.version for a in been}:
            raise PromotionError(f"{to} was never in {stage}: use `mergeml promote` instead")
        return version
    for item in sorted(been, key=lambda a: (a.timestamp, a.number), reverse=True):
        if item.version != holder and item.version is not None:
            return art.versions[item.version]
    now = holder or "nothing"
    raise PromotionError(f"{stage} has no earlier holder than {now} to roll back to")


def plan_rollback(ctx: Context, req: Rollback) -> Plan:
    """A version that was in STAGE before goes back; no gates (it passed them then)."""
    now = _now(ctx, req.stage)
    _require_clean(ctx.repo)
    target = _rollback_target(now.art, req.stage, req.to)
    layout = layout_at(ctx.repo, target.commit)
    _model_md5(ctx.repo, target.commit, layout, ctx.artifact)
    already = _already(ctx, now, target, target.commit)
    if already is not None:
        return already
    return _new_plan(ctx, now, _Change(target.commit, target, layout, verb="Roll back"))


def _tree_match(repo: Git, head: str) -> str:
    """The commit a release head came from: itself, or a merged parent with the same tree."""
    parents = repo.parents(head)
    if len(parents) == 2 and repo.tree(parents[1]) == repo.tree(head):
        return parents[1]
    return head


def plan_record(ctx: Context, req: Record) -> Plan:
    """Tags for what release/STAGE holds; a skipped earlier stage is a note, not a refusal:
    the merge happened, the tags record the truth."""
    now = _now(ctx, req.stage)
    if now.release_old is None:
        raise PromotionError(f"{ctx.remote} has no release/{req.stage} branch")
    sha = _tree_match(ctx.repo, now.release_old)
    layout = layout_at(ctx.repo, sha)
    same = holding_version(now.art, sha, _model_md5(ctx.repo, sha, layout, ctx.artifact))
    already = _already(ctx, now, same, sha)
    if already is not None:
        return already
    _refuse_deregistered(ctx, now, same, sha)
    skipped = _skipped_stage(ctx, now, same, sha)
    notes = (f"warning: {skipped}, but release/{req.stage} holds it",) if skipped else ()
    return _new_plan(ctx, now, _Change(sha, same, layout, move=False, notes=notes))


def plan(ctx: Context, req: Request) -> Plan:
    """Everything ``req`` will write, after every check; raises before any write."""
    match req:
        case Promote():
            return plan_promote(ctx, req)
        case Rollback():
            return plan_rollback(ctx, req)
        case Record():
            return plan_record(ctx, req)
