"""Promotion by merge: REV's tree into `release/<stage>`, GTO tags, one atomic push.

Every check runs before any ref is written; the branch and the tags go to the remote in
one `git push --atomic`, so a rejected push leaves nothing there, and the local tags it
made are deleted again, so nothing stale is left for later commands to read.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from mergeml.config.schema import GatesConfig, parse_section
from mergeml.errors import MergemlError
from mergeml.gates import check_gates, parse_metrics
from mergeml.lockfile import md5_in_lock_text
from mergeml.registry import Artifact, enrich, parse_tags, semver
from mergeml.scm import Git

log = logging.getLogger(__name__)

STAGES = ("staging", "production")
REQUIRES = {"production": "staging"}  # a version reaches production only after staging
MODEL_OUT = "models/model.skops"
METRICS = "reports/metrics.json"


class PromotionError(MergemlError):
    """A promotion was refused; nothing was written."""


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


def _bump(latest: str | None, part: str) -> str:
    if latest is None:
        return "v1.0.0" if part == "major" else "v0.1.0" if part == "minor" else "v0.0.1"
    major, minor, patch = semver(latest)
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


def plan(repo: Git, artifact: str, stage: str, rev: str, *, bump: str, remote: str) -> Plan:
    """Everything the promotion will write, after every check; raises before any write."""
    if stage not in STAGES:
        raise PromotionError(f"unknown stage '{stage}' (stages: {', '.join(STAGES)})")
    if repo.is_dirty():
        raise PromotionError("the working tree has uncommitted changes: commit or stash first")
    sha = repo.resolve(rev)
    main = repo.first_existing([f"{remote}/main"])
    if main is None or not repo.is_ancestor(sha, main):
        raise PromotionError(f"{rev} ({sha[:12]}) is not reachable from {remote}/main")
    art = parse_tags(repo.annotated_tags()).get(artifact, Artifact(artifact))
    enrich(repo, {artifact: art}, MODEL_OUT, METRICS)  # every version's md5, one batch read
    md5 = _model_md5(repo, sha)
    live = [v for v in art.versions.values() if not v.deregistered]
    same = [v for v in live if v.commit == sha] or [v for v in live if v.model_md5 == md5]
    release = f"{remote}/release/{stage}"
    release_old = repo.first_existing([release])
    holder_version = art.stage_holders().get(stage)
    in_stage = bool(same) and holder_version == same[0].version and release_old is not None
    if in_stage and release_old is not None and repo.tree(release_old) == repo.tree(sha):
        held = same[0]
        return Plan(
            artifact,
            stage,
            sha,
            held.version,
            held.commit,
            False,
            "",
            release_old,
            release_old,
            already=True,
        )
    needed = REQUIRES.get(stage)
    if needed:
        staged = {a.version for a in art.assignments if a.stage == needed and not a.unassign}
        if not same or same[0].version not in staged:
            raise PromotionError(f"{rev} has never been in {needed}: promote it to {needed} first")
    holder_commit = art.versions[holder_version].commit if holder_version else None
    _check_gates(repo, sha, holder_commit, stage)
    version = same[0].version if same else _bump(art.latest(), bump)
    version_commit = same[0].commit if same else sha
    number = max((a.number for a in art.assignments), default=0) + 1
    if release_old is None or repo.is_ancestor(release_old, sha):
        release_new = sha
    else:
        release_new = repo.merge_with_tree(
            release_old, sha, f"Promote {artifact} {version} to {stage}"
        )
    return Plan(
        artifact,
        stage,
        sha,
        version,
        version_commit,
        not same,
        f"{artifact}#{stage}#{number}",
        release_old,
        release_new,
    )


def execute(repo: Git, p: Plan, *, remote: str, actor: str, message: str) -> None:
    """Create the tags locally and push branch + tags atomically; undo the tags on failure."""
    metrics = repo.read_text(p.rev, METRICS)
    summary = json.dumps(json.loads(metrics)) if metrics else "metrics unavailable"
    why = message or f"promote to {p.stage}"
    created = []
    try:
        if p.new_version:
            tag = f"{p.artifact}@{p.version}"
            repo.create_tag(
                tag,
                p.version_commit,
                f"Registering {p.artifact} {p.version}\n\nby {actor}: {why}\nmetrics: {summary}",
            )
            created.append(tag)
        repo.create_tag(
            p.stage_tag,
            p.version_commit,
            f"Assigning stage {p.stage} to {p.artifact} {p.version}\n\n"
            f"by {actor}: {why}\nmetrics: {summary}",
        )
        created.append(p.stage_tag)
        repo.push_atomic(
            remote,
            branch=(f"release/{p.stage}", p.release_new, p.release_old),
            tags=created,
        )
    except BaseException:  # a rejected push or anything else: leave no local tags behind
        for tag in created:
            repo.delete_tag(tag)
        raise
