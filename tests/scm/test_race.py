"""Two clones promote at the same moment (SECURITY D1): exactly one wins.

A `pre-push` hook in each clone waits until both promotions have planned and are about
to push, so the race is real every time rather than left to scheduling luck. The two
promotions are `mergeml promote` processes; the setup drives the API.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mergeml.api import release as api
from tests.helpers import git
from tests.scm.repos import clone, remote_refs, write_model

HOOK = """#!/bin/sh
# Arrive at the barrier, then wait (at most ~10 s) for the other clone to arrive too.
touch "{barrier}/{name}"
i=0
while [ "$(ls "{barrier}" | wc -l)" -lt 2 ] && [ "$i" -lt 200 ]; do
  sleep 0.05
  i=$((i + 1))
done
exit 0
"""


def arm(repo: Path, barrier: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.write_text(HOOK.format(barrier=barrier, name=repo.name))
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize("same_commit", [True, False])
def test_two_clones_promoting_at_once_leave_one_new_tag(origin: Path, same_commit: bool) -> None:
    a = clone(origin, "a")
    write_model(a, "1" * 32, 0.90, "model one")
    api.promote("staging", repo=a)
    if not same_commit:  # b promotes a different model that is also in staging
        write_model(a, "2" * 32, 0.91, "model two")
        api.promote("staging", repo=a)
        git(a, "checkout", "-q", "HEAD~1")
    b = clone(origin, "b")
    before = set(remote_refs(origin))
    barrier = origin.parent / "barrier"
    barrier.mkdir()
    for repo in (a, b):
        arm(repo, barrier)
    env = {**os.environ}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mergeml", "promote", "production"],
            cwd=repo,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for repo in (a, b)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert len(list(barrier.iterdir())) == 2  # both really reached the push
    new = sorted(set(remote_refs(origin)) - before)
    stage_tags = [r for r in new if "#production#" in r]
    if same_commit:
        # One wins; the loser sees the winner's tag on its retry and fails clearly.
        assert len(stage_tags) == 1, (new, results)
        assert codes == [0, 1], results
        loser = next(err for code, _, err in results if code != 0)
        assert "another promotion put tabular-model v0.1.0 in production first" in loser
        assert len(loser.strip().splitlines()) == 2  # the retry notice, then the error
    else:
        # Different models: the loser re-plans against the winner; it goes ahead only if
        # it passes the gates against the new holder. Each success is exactly one tag.
        assert codes[0] == 0
        assert len(stage_tags) == codes.count(0), (new, results)
        for code, _, err in results:
            assert code == 0 or "fails the gates for production" in err
    assert api.registry(repo=b).warnings == []  # the branch and the newest tag agree
    # No orphans anywhere: every local tag of both clones exists on origin.
    remote_tags = set(git(origin, "tag").splitlines())
    for repo in (a, b):
        assert set(git(repo, "tag").splitlines()) <= remote_tags
