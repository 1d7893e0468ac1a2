"""Talking to a remote: what may name one, git's own reasons, and a push that a signal
cannot turn into a lie.

A remote given by a user is a name, a URL or a path, never an option: one that starts
with `-` is refused, and git is always called with `--` before it. A signal while
`git push` runs does not abandon the push (the server may be applying it): git is let
finish, at most PUSH_GRACE seconds, and the remote is asked which of the refs it holds.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from mergeml.errors import PushInterrupted, PushRejected, ScmError, signals_held, signum_of

PUSH_GRACE = 30.0  # seconds an interrupted push is let run before it is stopped
ASK_TIMEOUT = 60  # seconds to wait for a remote's list of refs


def check_remote(remote: str, what: str = "remote") -> str:
    """``remote`` if it can be a remote name, URL or path: never what git reads as an option."""
    if not remote or remote.startswith("-"):
        raise ScmError(
            f"{what} '{' '.join(remote.split())}' starts with '-' or is empty: "
            "give a remote name, URL or path"
        )
    return remote


def reason(text: str, default: str) -> str:
    """git's own reason in its output: its first `fatal:` or `error:` message without the
    prefix, else its last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if prefix in line:
                return line.split(prefix, 1)[1].strip()
    return lines[-1] if lines else default


def rejections(text: str) -> list[str]:
    """A push's per-ref `[rejected] (why)` lines, as `ref [rejected] (why)`."""
    found = []
    for line in text.splitlines():
        if "rejected]" in line or "[remote failure]" in line:
            ref = next((p for p in line.split() if "refs/" in p), "")
            why = line[line.index("[") :].strip()
            found.append(f"{ref.split(':')[-1]} {why}".strip())
    return found


def push(root: Path, remote: str, options: list[str], expected: dict[str, str]) -> None:
    """`git push OPTIONS -- REMOTE` the refs of ``expected`` (remote ref -> object id).

    Raises PushRejected when git fails, PushInterrupted when a signal came (after git
    finished or was stopped, with what the remote then holds).
    """
    check_remote(remote)
    refspecs = [f"{oid}:{ref}" for ref, oid in expected.items()]
    args = ["git", "push", *options, "--", remote, *refspecs]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(args, cwd=root, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            code = proc.wait()
        except KeyboardInterrupt as exc:
            raise _after_signal(root, remote, proc, log, expected, signum_of(exc)) from None
        text = _read(log)
    if code == 0 and _confirmed(text, expected):
        return
    why = "; ".join(rejections(text)) or reason(text, f"git push exited {code}")
    if code == 0:  # git may exit 0 when the remote end died: ask the remote itself
        held, unknown = remote_holds(root, remote, expected)
        if held == sorted(expected):
            return
        why = unknown or f"{remote} holds {len(held or [])} of the {len(expected)} refs"
    raise PushRejected(f"{remote} rejected the push: {why}")


def _confirmed(text: str, expected: dict[str, str]) -> bool:
    """Whether `git push --porcelain` reported every ref of ``expected`` as written or
    already there (flags ` `, `+`, `*`, `=`)."""
    done = set()
    for line in text.splitlines():
        flag, _, rest = line.partition("\t")
        if flag in (" ", "+", "*", "=") and "\t" in rest:
            done.add(rest.split("\t", 1)[0].rsplit(":", 1)[-1])
    return done >= set(expected)


def _after_signal(
    root: Path,
    remote: str,
    proc: subprocess.Popen[bytes],
    log: IO[bytes],
    expected: dict[str, str],
    signum: int,
) -> PushInterrupted:
    """Let an interrupted push finish (bounded), then find what the remote holds."""
    with signals_held() as later:
        code = _finish(proc, PUSH_GRACE, later)
        text = _read(log)
        if code == 0 and _confirmed(text, expected):
            return PushInterrupted(signum, held=sorted(expected), settled=True)
        settled = code is not None and bool(rejections(text))  # git finished: refused
        held, why = remote_holds(root, remote, expected)
    return PushInterrupted(signum, held=held, settled=settled, reason=why)


def _finish(proc: subprocess.Popen[bytes], grace: float, later: list[int]) -> int | None:
    """Wait for ``proc`` up to ``grace`` seconds, or until ``later`` records another signal;
    then stop it. Its exit status, or None when it had to be stopped."""
    deadline = time.monotonic() + grace
    while not later and time.monotonic() < deadline:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return proc.wait(timeout=0.05)
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return None


def _read(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode("utf-8", errors="replace")


def remote_holds(root: Path, remote: str, expected: dict[str, str]) -> tuple[list[str] | None, str]:
    """Which refs of ``expected`` (ref -> object id) the remote holds with those ids; None
    and why when it cannot be asked."""
    args = ["git", "ls-remote", "--", check_remote(remote), *expected]
    try:
        proc = subprocess.run(
            args, cwd=root, capture_output=True, text=True, timeout=ASK_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return None, f"{remote} did not answer in {ASK_TIMEOUT} s"
    if proc.returncode != 0:
        return None, reason(proc.stderr, f"git ls-remote exited {proc.returncode}")
    found = {}
    for line in proc.stdout.splitlines():
        oid, _, ref = line.partition("\t")
        found[ref] = oid
    return sorted(ref for ref, oid in expected.items() if found.get(ref) == oid), ""


def fetch_into_bare(url: str, bare: Path) -> None:
    """A new bare repository at ``bare`` holding ``url``'s tags and release branches at
    depth 1; ScmError with git's reason when ``url`` cannot be read."""
    check_remote(url)
    steps = [
        ["git", "init", "--quiet", "--bare", "--", str(bare)],
        ["git", "-C", str(bare), "fetch", "--quiet", "--depth=1", "--no-tags", "--", url],
    ]
    steps[1] += ["+refs/tags/*:refs/tags/*", "+refs/heads/release/*:refs/heads/release/*"]
    for args in steps:
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            why = reason(proc.stderr, f"git exited {proc.returncode}")
            raise ScmError(f"cannot read the registry of {url}: {why}")
