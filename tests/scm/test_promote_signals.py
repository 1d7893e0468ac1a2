"""A signal at the worst moment of `mergeml promote` leaves origin and the clone truthful
(SECURITY F5; issue 10, items 5 and 6).

Origin's `pre-receive` hook holds every push: it marks that the push reached the server,
sleeps, then accepts or declines it. The test signals the `mergeml` process alone (not its
group, so the `git push` child goes on) while the hook sleeps, then checks what mergeml
said against what origin really holds, and that the next promotion and a fresh clone
agree with it.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mergeml.api import release as api
from mergeml.errors import Interrupted
from mergeml.scm import remote
from tests.helpers import git, mergeml, run
from tests.scm.repos import clone, write_model

HOOK = """#!/bin/sh
cat >/dev/null
if [ -f "{hold}" ]; then
  touch "{reached}"
  sleep {seconds}
  verdict="$(cat "{hold}")"
  touch "{finished}"
  exit "$verdict"
fi
exit 0
"""


class Server:
    """origin's pre-receive hook: while ``hold`` exists, each push waits, then gets its
    content as exit status (0 accepts, 1 declines)."""

    def __init__(self, origin: Path, seconds: float = 1) -> None:
        self.hold = origin.parent / "hold"
        self.reached = origin.parent / "reached"
        self.finished = origin.parent / "finished"
        paths = {"hold": self.hold, "reached": self.reached, "finished": self.finished}
        hook = origin / "hooks" / "pre-receive"
        hook.write_text(HOOK.format(seconds=seconds, **paths))
        hook.chmod(hook.stat().st_mode | stat.S_IXUSR)

    def holds(self, verdict: int) -> None:
        self.hold.write_text(str(verdict))

    def release(self) -> None:
        self.hold.unlink()

    def wait_for_push(self, proc: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + 60
        while not self.reached.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the push never reached origin"
            time.sleep(0.02)

    def wait_for_verdict(self) -> None:
        """Until the hook has finished (the client may be gone) and receive-pack with it."""
        deadline = time.monotonic() + 60
        while not self.finished.exists():
            assert time.monotonic() < deadline, "the hook never finished"
            time.sleep(0.02)
        time.sleep(0.3)  # receive-pack updates the refs right after the hook


def wait_for_tags(origin: Path) -> dict[str, str]:
    deadline = time.monotonic() + 30
    while not tags(origin) and time.monotonic() < deadline:
        time.sleep(0.05)
    return tags(origin)


def default_signals() -> None:
    """In the child: the signals as a login shell leaves them, whatever the runner ignores."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def start_promote(repo: Path, stage: str, *, own_group: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mergeml", "promote", stage],
        cwd=repo,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=default_signals,
        start_new_session=own_group,  # its own group, as a terminal's foreground job
    )


def tags(repo: Path) -> dict[str, str]:
    """Tag name -> tag object of ``repo`` (a clone or the bare origin)."""
    out = git(repo, "for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/tags")
    return dict(line.split(" ", 1) for line in out.splitlines())


def registry_json(repo: Path) -> dict[str, object]:
    proc = mergeml(repo, "registry", "--json")
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def assert_consistent(origin: Path, repo: Path, stages: dict[str, str]) -> None:
    """Clone and origin hold the same registry tags; every stage tag's commit carries a
    version on origin; a fresh clone, `gto` and the clone read the same stages."""
    assert tags(repo) == tags(origin)
    fresh = clone(origin, f"fresh-{time.monotonic_ns()}")
    ours = registry_json(repo)
    assert registry_json(fresh) == ours
    assert ours["artifacts"]["tabular-model"]["stages"] == stages  # type: ignore[index]
    assert ours["warnings"] == []
    gto = run([str(Path(sys.executable).parent / "gto"), "show", "--json"], fresh).stdout
    assert json.loads(gto)["tabular-model"]["stage"] == stages


SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]


def interrupted_promote(origin: Path, sig: int, *, declined: bool) -> tuple[Path, Server, str]:
    """Promote v0.1.0 to staging from a clone; send ``sig`` to mergeml during the push.

    Returns the clone, the held server and the one line mergeml printed.
    """
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.90, "model one")
    server = Server(origin)
    server.holds(1 if declined else 0)
    proc = start_promote(repo, "staging")
    server.wait_for_push(proc)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return repo, server, lines[0]


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_a_signal_during_a_push_that_lands_reports_it_landed(origin: Path, sig: int) -> None:
    repo, server, line = interrupted_promote(origin, sig, declined=False)
    assert "the push had already reached origin" in line
    assert "tabular-model v0.1.0 is in staging" in line
    assert set(tags(origin)) == {"tabular-model@v0.1.0", "tabular-model#staging#1"}
    assert_consistent(origin, repo, {"staging": "v0.1.0"})

    server.release()  # the next promotion finds it there and goes on from it
    again = mergeml(repo, "promote", "staging")
    assert again.returncode == 0, again.stderr
    assert "already in staging" in again.stdout
    assert mergeml(repo, "promote", "production").returncode == 0
    assert_consistent(origin, repo, {"staging": "v0.1.0", "production": "v0.1.0"})


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_a_signal_during_a_declined_push_leaves_no_local_tags(origin: Path, sig: int) -> None:
    repo, server, line = interrupted_promote(origin, sig, declined=True)
    assert "nothing was pushed to origin" in line
    assert tags(origin) == {}
    assert tags(repo) == {}  # nothing the local registry would count

    server.release()
    again = mergeml(repo, "promote", "staging")
    assert again.returncode == 0, again.stderr
    assert set(tags(origin)) == {"tabular-model@v0.1.0", "tabular-model#staging#1"}
    assert_consistent(origin, repo, {"staging": "v0.1.0"})


def test_tags_left_by_a_killed_promotion_never_count(origin: Path) -> None:
    """SIGKILL leaves local tags no handler could remove: the next promotion plans from
    origin's tags, replaces the leftovers and pushes the version tag too."""
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.90, "model one")
    server = Server(origin)
    server.holds(1)
    proc = start_promote(repo, "staging")
    server.wait_for_push(proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=120)
    server.wait_for_verdict()  # the orphaned `git push` is declined
    assert tags(origin) == {}
    assert set(tags(repo)) == {"tabular-model@v0.1.0", "tabular-model#staging#1"}  # leftovers

    server.release()
    again = mergeml(repo, "promote", "staging")
    assert again.returncode == 0, again.stderr
    assert "removed local tag tabular-model@v0.1.0" in again.stderr
    assert set(tags(origin)) == {"tabular-model@v0.1.0", "tabular-model#staging#1"}
    assert_consistent(origin, repo, {"staging": "v0.1.0"})


def test_a_local_only_registry_tag_is_not_registry_state(origin: Path) -> None:
    repo = clone(origin, "a")
    sha = write_model(repo, "1" * 32, 0.90, "model one")
    git(repo, "tag", "-a", "tabular-model@v0.1.0", sha, "-m", "never pushed")
    git(repo, "tag", "-a", "unrelated", sha, "-m", "a user's own tag")
    outcome = api.promote("staging", repo=repo)
    assert outcome.tags == ["tabular-model@v0.1.0", "tabular-model#staging#1"]
    assert "tabular-model@v0.1.0" in tags(origin)
    assert "unrelated" in tags(repo)  # only the model's registry tags follow origin


def test_ctrl_c_at_a_terminal_stops_the_push_and_says_it_may_still_land(origin: Path) -> None:
    """The whole process group gets SIGINT, `git push` and the server side too (a local
    origin): git did not finish by itself, so mergeml cannot promise nothing landed."""
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.90, "model one")
    server = Server(origin)
    server.holds(0)
    proc = start_promote(repo, "staging", own_group=True)
    server.wait_for_push(proc)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    time.sleep(1.5)  # whatever the server was still doing is done now
    if tags(origin):  # the server applied it after all: mergeml must not have denied it
        assert "may still apply it" in lines[0] or "already reached origin" in lines[0]
    else:
        assert "origin did not hold the push when asked, but may still apply it" in lines[0]
        assert tags(repo) == {}
    server.release()
    assert mergeml(repo, "promote", "staging").returncode == 0
    assert_consistent(origin, repo, {"staging": "v0.1.0"})


def test_a_push_that_outlasts_the_grace_is_stopped_and_found_later(
    origin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process (the API): SIGINT during a push the server holds longer than the grace.
    git is stopped, the remote does not hold the push yet, mergeml says it may still land;
    it does, and the next promotion finds it there."""
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.90, "model one")
    server = Server(origin, seconds=2)
    server.holds(0)
    monkeypatch.setattr(remote, "PUSH_GRACE", 0.2)

    def interrupt_when_the_push_waits() -> None:
        deadline = time.monotonic() + 60
        while not server.reached.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_the_push_waits, daemon=True).start()
    with pytest.raises(Interrupted) as stopped:
        api.promote("staging", repo=repo)
    assert stopped.value.signum == signal.SIGINT
    assert "origin did not hold the push when asked, but may still apply it" in str(stopped.value)
    assert tags(repo) == {}
    # The server side goes on without the client and applies it.
    assert set(wait_for_tags(origin)) == {"tabular-model@v0.1.0", "tabular-model#staging#1"}
    server.release()
    outcome = api.promote("staging", repo=repo)
    assert outcome.plan.already
    assert_consistent(origin, repo, {"staging": "v0.1.0"})


BOUNDARY = """
import os, signal, time
from mergeml.errors import run_with_boundary

def main():
    print("during", signal.getsignal(signal.{name}) not in (signal.SIG_DFL, signal.SIG_IGN))
    os.kill(os.getpid(), signal.{name})
    time.sleep(5)

try:
    run_with_boundary(main)
except SystemExit as done:
    kinds = {{signal.SIG_DFL: "default", signal.SIG_IGN: "ignored"}}
    print("after", kinds.get(signal.getsignal(signal.{name}), "other"), "exit", done.code)
"""


def boundary(name: str, *, ignored: bool = False) -> subprocess.CompletedProcess[str]:
    def child_signals() -> None:
        default_signals()
        if ignored:  # as under `nohup`
            signal.signal(getattr(signal, name), signal.SIG_IGN)

    return subprocess.run(
        [sys.executable, "-c", BOUNDARY.format(name=name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=child_signals,
    )


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_the_boundary_turns_a_signal_into_one_line_and_restores_the_handler(name: str) -> None:
    proc = boundary(name)
    number = int(getattr(signal, name))
    assert proc.stdout.split() == [
        "during",
        "True",
        "after",
        "default",
        "exit",
        str(128 + number),
    ]
    assert proc.stderr == f"mergeml: interrupted ({name})\n"


def test_a_hangup_the_parent_ignores_stays_ignored() -> None:
    """`nohup mergeml promote …` must not be stopped by the hangup it asked to ignore."""
    proc = boundary("SIGHUP", ignored=True)
    assert proc.stdout.split() == ["during", "False", "after", "ignored", "exit", "0"]
    assert proc.stderr == ""
