"""Plumbing for `mergeml retrain`: a state ref on the remote and a branch built in a
temporary worktree, without touching the user's checkout.

The state ref (e.g. ``refs/mergeml/monitor/<model>``) points at a commit whose tree holds
one file; it is written with a compare-and-swap push on its old value. The branch commit
is made in a detached worktree of the same repository (so it shares the remote's
credentials) and pushed without force: it must fast-forward the remote branch.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mergeml.errors import ScmError
from mergeml.scm.remote import check_remote, push, reason

PROTECTED = ("refs/heads/main", "refs/heads/master", "refs/heads/release/")


def git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    """Run git in ``cwd``; its stdout; ScmError with git's reason when it fails."""
    proc = subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        why = reason(proc.stderr, f"git {args[0]} exited {proc.returncode}")
        raise ScmError(f"git {args[0]} failed: {why}")
    return proc.stdout


def ref_sha(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names, or None when it does not exist."""
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def fetch_ref(root: Path, remote: str, ref: str, local: str) -> str | None:
    """Fetch the remote's ``ref`` into the local ``local`` (replacing it); its commit, or
    None when the remote has no such ref (the local one is then deleted)."""
    check_remote(remote)
    listed = git(root, "ls-remote", "--", remote, ref).split()
    if not listed:
        with contextlib.suppress(ScmError):
            git(root, "update-ref", "-d", local)
        return None
    git(root, "fetch", "--quiet", "--no-tags", "--", remote, f"+{ref}:{local}")
    return ref_sha(root, local)


def read_blob(root: Path, commit: str, path: str) -> str | None:
    """The text of ``path`` at ``commit``, or None when absent."""
    try:
        return git(root, "show", f"{commit}:{path}")
    except ScmError:
        return None


def commit_file(root: Path, parent: str | None, path: str, text: str, message: str) -> str:
    """A new commit (not on any branch) whose tree is the one file ``path`` with ``text``."""
    blob = git(root, "hash-object", "-w", "--stdin", stdin=text).strip()
    tree = git(root, "mktree", stdin=f"100644 blob {blob}\t{path}\n").strip()
    parents = ["-p", parent] if parent else []
    return git(root, "commit-tree", tree, *parents, "-m", message).strip()


def _check_writable(ref: str) -> str:
    if ref.startswith(PROTECTED) or ref == "refs/heads/release":
        raise ScmError(f"refusing to write {ref}: mergeml retrain never touches it")
    return ref


def push_ref(root: Path, remote: str, commit: str, ref: str, old: str | None) -> None:
    """Point the remote's ``ref`` at ``commit`` if it is still at ``old`` (None: absent)."""
    lease = f"--force-with-lease={_check_writable(ref)}:{old or ''}"
    push(root, remote, ["--porcelain", lease], {ref: commit})


def push_branch(work: Path, remote: str, branch: str) -> str:
    """Push the worktree's HEAD to ``branch`` on ``remote`` as a fast-forward; its commit."""
    ref = _check_writable(f"refs/heads/{branch}")
    head = git(work, "rev-parse", "HEAD").strip()
    push(work, remote, ["--porcelain"], {ref: head})
    return head


@contextlib.contextmanager
def worktree(root: Path, base: str) -> Iterator[Path]:
    """A detached worktree of ``root`` at ``base`` in a temporary folder, removed after."""
    with tempfile.TemporaryDirectory(prefix="mergeml-retrain-") as tmp:
        work = Path(tmp) / "work"
        git(root, "worktree", "add", "--quiet", "--detach", str(work), base)
        try:
            yield work
        finally:
            with contextlib.suppress(ScmError):
                git(root, "worktree", "remove", "--force", str(work))
            with contextlib.suppress(ScmError):
                git(root, "worktree", "prune")


def commit_paths(work: Path, paths: list[str], message: str) -> str:
    """Stage ``paths`` in the worktree and commit them (unless nothing changed); HEAD."""
    git(work, "add", "--", *paths)
    if git(work, "diff", "--cached", "--name-only").strip():
        git(work, "commit", "--quiet", "--no-verify", "-m", message)
    return git(work, "rev-parse", "HEAD").strip()
