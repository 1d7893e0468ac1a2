"""Promotion by merge, written: GTO tags and `release/<stage>` in one atomic push.

Every check runs in planning (`release.promotion`), before any ref or object is written;
the branch and the tags go to the remote in one `git push --atomic` whose lease is the
branch head the plan saw, so a rejected push leaves nothing there, and the local tags it
made are deleted again, so nothing stale is left for later commands to read. A rejected
push is retried from a fresh fetch and a fresh plan, a few times.

The registry a plan reads is the remote's: the fetch makes the model's registry tags in
the clone exactly the remote's, so a tag left by a killed promotion never counts. A signal
(SIGINT, SIGTERM, SIGHUP) during the push lets it finish (bounded), then keeps the local
tags the remote holds and deletes the others, and says which it was.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from mergeml.errors import (
    Interrupted,
    PromotionError,
    PushInterrupted,
    PushRejected,
    signals_held,
    signum_of,
)
from mergeml.release.plans import Context, Plan, Record, Request
from mergeml.release.policy import Policy
from mergeml.release.promotion import plan
from mergeml.release.registry import NAME
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
    atomically; undo the tags on failure, keep those the remote holds after a signal."""
    new, created = _make(repo, p, remote=remote, actor=actor, message=message)
    branch = (p.branch.name, new)
    try:
        repo.push_atomic(remote, branch=(*branch, p.branch.old), tags=created)
    except PushInterrupted as exc:
        raise _after_interrupt(repo, p, created, remote, exc) from None
    except KeyboardInterrupt as exc:  # just before git started or just after it ended
        held, why = repo.remote_holds(remote, branch=branch, tags=created)
        stop = PushInterrupted(signum_of(exc), held=held, settled=True, reason=why)
        raise _after_interrupt(repo, p, created, remote, stop) from None
    except BaseException:  # a rejected push or anything else: leave no local tags behind
        _forget(repo, created)
        raise
    return created


def _make(repo: Git, p: Plan, *, remote: str, actor: str, message: str) -> tuple[str, list[str]]:
    """The commit the branch moves to (a merge commit when needed) and the new local tags."""
    # Tag times have one-second resolution and GTO orders assignments by time alone: never
    # let a new assignment tie with (or, on a slow clock, precede) the newest one.
    date = max(int(time.time()), p.not_before)
    branch = p.branch
    created: list[str] = []
    try:
        new = branch.target
        if branch.merge_message is not None and branch.old is not None:
            new = repo.merge_with_tree(branch.old, branch.target, branch.merge_message)
        for tag, headline in p.tags():
            body = f"{headline}\n\nby {actor}: {message}\nmetrics: {p.metrics}"
            repo.create_tag(tag, p.version_commit, body, date=date)
            created.append(tag)
    except BaseException as exc:
        _forget(repo, created)
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted(signum_of(exc), f"nothing was pushed to {remote}") from None
        raise
    return new, created


def _forget(repo: Git, tags: list[str]) -> None:
    """Delete local tags, to the end even when another signal comes."""
    with signals_held():
        for tag in tags:
            repo.delete_tag(tag)


def _after_interrupt(
    repo: Git, p: Plan, created: list[str], remote: str, exc: PushInterrupted
) -> Interrupted:
    """Keep the local tags the remote holds, delete the others; say what really happened."""
    held = exc.held or []
    _forget(repo, [tag for tag in created if f"refs/tags/{tag}" not in held])
    landed = [t for t in created if f"refs/tags/{t}" in held]
    check = f"see `mergeml registry --remote {remote}`"
    if exc.held is None:
        outcome = f"cannot tell whether the push reached {remote} ({exc.outcome}): {check}"
    elif landed == created and f"refs/heads/{p.branch.name}" in held:
        model = f"{p.artifact} {p.version} is in {p.stage}"
        outcome = f"the push had already reached {remote}: {model} ({', '.join(created)})"
    elif landed:
        outcome = f"{remote} holds only {', '.join(landed)} of the push: {check}"
    elif exc.settled:
        outcome = f"nothing was pushed to {remote}"
    else:
        outcome = f"{remote} did not hold the push when asked, but may still apply it: {check}"
    return Interrupted(exc.signum, outcome)


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
    if not re.fullmatch(NAME, artifact):
        raise PromotionError(f"artifact name '{artifact}' is not a GTO name ({NAME})")
    for attempt in range(1, ATTEMPTS + 1):
        changed = repo.fetch(remote, mirror=[f"{artifact}@*", f"{artifact}#*"])
        for tag, replaced in sorted(changed.items()):
            done = f"replaced by {remote}'s" if replaced else f"{remote} has no such tag"
            say(
                f"{'replaced' if replaced else 'removed'} local tag {tag}: {done} (left by an "
                "interrupted promotion?)"
            )
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
