"""Promotion by merge: REV's tree into `release/<stage>`, GTO tags, one atomic push.

Every check runs before any ref is written; the branch and the tags go to the remote in
one `git push --atomic`, so a rejected push leaves nothing there, and the local tags it
made are deleted again, so nothing stale is left for later commands to read.
Three ways in: `promote` (gated), `rollback` (forward-only: a new stage tag on an earlier
holder) and `release_tags` (record, as tags, a merge that reached a release branch
another way, e.g. a pull request merged in GitHub's UI).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from mergeml.config.lockfile import md5_in_lock_text
from mergeml.config.schema import GatesConfig, parse_section
from mergeml.errors import PromotionError
from mergeml.release.policy import Policy
from mergeml.release.registry import Artifact, Version, enrich, parse_tags, semver
from mergeml.review.gates import check_gates, parse_metrics
from mergeml.scm import Git, PushRejected

log = logging.getLogger(__name__)

MODEL_OUT = "models/model.skops"
METRICS = "reports/metrics.json"
ATTEMPTS = 3
DEFAULT_WHY = {
    "promote": "promote to {stage}",
    "rollback": "roll back {stage} to {version}",
    "record": "merged into release/{stage}",
}


@dataclass(frozen=True)
class Request:
    """What the user asked for: promote REV, roll back (to VERSION), or record the branch."""

    artifact: str
    stage: str
    kind: str = "promote"  # promote | rollback | record
    rev: str = "HEAD"
    to: str | None = None  # rollback target version
    bump: str = "minor"
    remote: str = "origin"
    message: str = ""


@dataclass(frozen=True)
class Plan:
    artifact: str
    stage: str
    rev: str
    version: str
    version_commit: str
    new_version: bool
    stage_tag: str
    release_old: str | None
    release_new: str
    already: bool = False
    not_before: int = 0  # the new tags' time must be later than every assignment's

    def tags(self) -> list[tuple[str, str]]:
        """(name, headline) of each tag to write: the version if new, then the stage."""
        model = f"{self.artifact} {self.version}"
        register = (f"{self.artifact}@{self.version}", f"Registering {model}")
        assign = (self.stage_tag, f"Assigning stage {self.stage} to {model}")
        return ([register] if self.new_version else []) + [assign]


def _bump(latest: str | None, part: str) -> str:
    if latest is None:
        return "v1.0.0" if part == "major" else "v0.1.0" if part == "minor" else "v0.0.1"
    major, minor, patch = semver(latest)[:3]
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def _model_md5(repo: Git, ref: str) -> str:
    text = repo.read_text(ref, "dvc.lock")
    md5 = md5_in_lock_text(text, MODEL_OUT) if text else None
    if not md5:
        raise PromotionError(f"{ref[:12]} has no {MODEL_OUT} in dvc.lock: nothing to promote")
    return md5


def _check_gates(repo: Git, rev: str, holder: str | None, stage: str) -> None:
    import yaml

    params = yaml.safe_load(repo.read_text(rev, "params.yaml") or "{}") or {}
    rules = parse_section(
        GatesConfig, params.get("evaluate", {}).get("gates", {}), where="params.yaml"
    )
    head = parse_metrics(repo.read_text(rev, METRICS), f"{METRICS} at {rev[:12]}")
    base = None
    if holder is not None:
        text = repo.read_text(holder, METRICS)
        base = parse_metrics(text, f"{METRICS} in {stage}") if text else None
    failed = [r for r in check_gates(rules, head, base) if r.failed]
    if failed:
        names = ", ".join(f"{r.rule} {r.metric} ({r.reason})" for r in failed)
        raise PromotionError(f"{rev[:12]} fails the gates for {stage}: {names}")


def _artifact(repo: Git, name: str) -> Artifact:
    art = parse_tags(repo.annotated_tags()).get(name, Artifact(name))
    enrich(repo, {name: art}, MODEL_OUT, METRICS)  # every version's md5, one batch read
    return art


def _same_model(art: Artifact, commit: str, md5: str) -> Version | None:
    """The live version registered at ``commit``, else the one holding the same model."""
    live = [v for v in art.versions.values() if not v.deregistered]
    same = [v for v in live if v.commit == commit] or [v for v in live if v.model_md5 == md5]
    return same[0] if same else None


def _newest_tag(art: Artifact, stage: str) -> str:
    mine = [a for a in art.assignments if a.stage == stage]
    return max(mine, key=lambda a: (a.timestamp, a.number)).tag if mine else ""


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


def _tree_match(repo: Git, head: str) -> str:
    """The commit a release head came from: itself, or a merged parent with the same tree."""
    parents = repo.parents(head)
    if len(parents) == 2 and repo.tree(parents[1]) == repo.tree(head):
        return parents[1]
    return head


def plan(repo: Git, req: Request, policy: Policy) -> Plan:
    """Everything the request will write, after every check; raises before any write."""
    if req.stage not in policy.stages:
        raise PromotionError(f"unknown stage '{req.stage}' (stages: {', '.join(policy.stages)})")
    if req.kind != "record" and repo.is_dirty():
        raise PromotionError("the working tree has uncommitted changes: commit or stash first")
    art = _artifact(repo, req.artifact)
    release_old = repo.first_existing([f"{req.remote}/release/{req.stage}"])
    if req.kind == "record":
        if release_old is None:
            raise PromotionError(f"{req.remote} has no release/{req.stage} branch")
        sha = _tree_match(repo, release_old)
    elif req.kind == "rollback":
        sha = _rollback_target(art, req.stage, req.to).commit
    else:
        sha = repo.resolve(req.rev)
        main = repo.first_existing([f"{req.remote}/main"])
        if main is None or not repo.is_ancestor(sha, main):
            raise PromotionError(f"{req.rev} ({sha[:12]}) is not reachable from {req.remote}/main")
    same = _same_model(art, sha, _model_md5(repo, sha))
    if same is not None and same.commit != sha and req.kind == "promote":
        # The version is the model: promote the commit it was registered at, so that the
        # release branch and the stage tag always hold the same tree.
        log.warning(
            "%s holds the same model as %s %s: promoting its commit %s",
            sha[:12], req.artifact, same.version, same.commit[:12],
        )  # fmt: skip
        sha = same.commit
    holder_version = art.stage_holders().get(req.stage)
    holder = art.versions[holder_version] if holder_version else None
    if (
        same is not None
        and holder is same
        and release_old is not None
        and repo.tree(release_old) == repo.tree(sha)
    ):
        tag = _newest_tag(art, req.stage)
        return Plan(
            req.artifact, req.stage, sha, same.version, same.commit, False, tag,
            release_old, release_old, already=True,
        )  # fmt: skip
    if same is None:
        taken = [v.version for v in art.versions.values() if v.commit == sha]
        if taken:  # GTO allows one version per commit, even a deregistered one
            raise PromotionError(
                f"{sha[:12]} already carries {req.artifact} {taken[0]} (deregistered): "
                "commit again to register a new version"
            )
    needed = policy.requires.get(req.stage)
    if needed and req.kind != "rollback":
        staged = {a.version for a in art.assignments if a.stage == needed and not a.unassign}
        if same is None or same.version not in staged:
            broken = f"{sha[:12]} has never been in {needed}"
            if req.kind == "record":  # already merged: record the truth, say what is wrong
                log.warning("warning: %s, but release/%s holds it", broken, req.stage)
            else:
                raise PromotionError(f"{broken}: promote it to {needed} first")
    if req.kind == "promote":
        _check_gates(repo, sha, holder.commit if holder else None, req.stage)
    # Numbers are never reused: bump from the highest, deregistered versions included.
    highest = max(art.versions, key=semver, default=None)
    version = same.version if same else _bump(highest, req.bump)
    number = max((a.number for a in art.assignments), default=0) + 1
    if req.kind == "record" and release_old is not None:
        release_new = release_old  # recording never moves the branch
    elif release_old is None or repo.is_ancestor(release_old, sha):
        release_new = sha  # fast-forward
    else:
        verb = "Roll back" if req.kind == "rollback" else "Promote"
        message = f"{verb} {req.artifact} {version} to {req.stage}"
        release_new = repo.merge_with_tree(release_old, sha, message)
    newest = max((a.timestamp for a in art.assignments), default=0)
    return Plan(
        req.artifact, req.stage, sha, version, same.commit if same else sha, same is None,
        f"{req.artifact}#{req.stage}#{number}", release_old, release_new,
        not_before=newest + 1,
    )  # fmt: skip


def execute(repo: Git, p: Plan, *, remote: str, actor: str, message: str) -> list[str]:
    """Create the tags locally and push branch + tags atomically; undo the tags on failure."""
    metrics = repo.read_text(p.rev, METRICS)
    summary = json.dumps(json.loads(metrics)) if metrics else "metrics unavailable"
    why = message or DEFAULT_WHY["promote"].format(stage=p.stage)
    # Tag times have one-second resolution and GTO orders assignments by time alone: never
    # let a new assignment tie with (or, on a slow clock, precede) the newest one.
    date = max(int(time.time()), p.not_before)
    created = []
    try:
        for tag, headline in p.tags():
            body = f"{headline}\n\nby {actor}: {why}\nmetrics: {summary}"
            repo.create_tag(tag, p.version_commit, body, date=date)
            created.append(tag)
        repo.push_atomic(
            remote,
            branch=(f"release/{p.stage}", p.release_new, p.release_old),
            tags=created,
        )
    except BaseException:  # a rejected push or anything else: leave no local tags behind
        for tag in created:
            repo.delete_tag(tag)
        raise
    return created


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    tags: list[str]  # what was pushed (or would be, on a dry run); empty when already there


def run(
    repo: Git,
    req: Request,
    *,
    policy_for: Callable[[], Policy],
    actor: str,
    dry_run: bool = False,
    say: Callable[[str], None] = log.warning,
) -> Outcome:
    """Fetch, plan, push; on a rejected push fetch and check again, a few times.

    A promotion that finds, after a rejection, that another run put the same model in
    the stage first has lost the race: it fails rather than report success.
    """
    for attempt in range(1, ATTEMPTS + 1):
        repo.fetch(req.remote)
        p = plan(repo, req, policy_for())
        if p.already:
            if attempt > 1 and req.kind != "record":
                raise PromotionError(
                    f"another promotion put {req.artifact} {p.version} in {req.stage} first"
                )
            return Outcome(p, [])
        tags = [name for name, _ in p.tags()]
        if dry_run:
            return Outcome(p, tags)
        message = req.message or DEFAULT_WHY[req.kind].format(stage=req.stage, version=p.version)
        try:
            return Outcome(p, execute(repo, p, remote=req.remote, actor=actor, message=message))
        except PushRejected as exc:
            say(f"attempt {attempt}: {exc}; fetching and checking again")
    raise PromotionError(f"{req.remote} rejected the {req.kind} {ATTEMPTS} times; nothing written")
