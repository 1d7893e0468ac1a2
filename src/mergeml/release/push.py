"""Promotion by merge, written: GTO tags and `release/<stage>` in one atomic push.

Every check runs in planning (`release.promotion`), before any ref or object is written;
the branch and the tags go to the remote in one `git push --atomic` whose lease is the
branch head the plan saw, so a rejected push leaves nothing there, and the local tags it
made are deleted again, so nothing stale is left for later commands to read. A rejected
push is retried from a fresh fetch and a fresh plan, a few times.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from mergeml.errors import PromotionError, PushRejected
from mergeml.release.plans import Context, Plan, Record, Request
from mergeml.release.policy import Policy
from mergeml.release.promotion import plan
from mergeml.scm import Git

log = logging.getLogger(__name__)

ATTEMPTS = 3


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    tags: list[str]  # what was pushed (or would be, on a dry run); empty when already there
    dry_run: bool = False


def execute(repo: Git, p: Plan, *, remote: str, actor: str, message: str) -> list[str]:
    """Create the merge commit (if any) and the tags locally, and push branch + tags
    atomically; undo the tags on failure."""
    # Tag times have one-second resolution and GTO orders assignments by time alone: never
    # let a new assignment tie with (or, on a slow clock, precede) the newest one.
    date = max(int(time.time()), p.not_before)
    branch = p.branch
    created = []
    try:
        new = branch.target
        if branch.merge_message is not None and branch.old is not None:
            new = repo.merge_with_tree(branch.old, branch.target, branch.merge_message)
        for tag, headline in p.tags():
            body = f"{headline}\n\nby {actor}: {message}\nmetrics: {p.metrics}"
            repo.create_tag(tag, p.version_commit, body, date=date)
            created.append(tag)
        repo.push_atomic(remote, branch=(branch.name, new, branch.old), tags=created)
    except BaseException:  # a rejected push or anything else: leave no local tags behind
        for tag in created:
            repo.delete_tag(tag)
        raise
    return created


def run(
    repo: Git,
    req: Request,
    *,
    artifact: str,
    remote: str = "origin",
    policy_for: Callable[[], Policy],
    actor: str,
    dry_run: bool = False,
    say: Callable[[str], None] = log.warning,
) -> Outcome:
    """Fetch, plan, push; on a rejected push fetch and check again, a few times.

    A promotion that finds, after a rejection, that another run put the same model in
    the stage first has lost the race: it fails rather than report success. A dry run
    fetches and plans, and writes nothing.
    """
    said: set[str] = set()
    for attempt in range(1, ATTEMPTS + 1):
        repo.fetch(remote)
        p = plan(Context(repo, artifact, remote, policy_for()), req)
        for note in p.notes:
            if note not in said:
                said.add(note)
                say(note)
        if p.already:
            if attempt > 1 and not isinstance(req, Record):
                raise PromotionError(
                    f"another promotion put {artifact} {p.version} in {req.stage} first"
                )
            return Outcome(p, [], dry_run)
        if dry_run:
            return Outcome(p, [name for name, _ in p.tags()], dry_run)
        try:
            why = req.why(p.version)
            return Outcome(p, execute(repo, p, remote=remote, actor=actor, message=why))
        except PushRejected as exc:
            say(f"attempt {attempt}: {exc}; fetching and checking again")
    raise PromotionError(f"{remote} rejected the {req.label} {ATTEMPTS} times; nothing written")
