"""The git adapter: the only package that imports GitPython (`remote`: talking to remotes)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mergeml.errors import PushInterrupted, PushRejected, ScmError
from mergeml.scm.remote import check_remote, fetch_into_bare, push, reason, remote_holds

__all__ = ["Git", "PushRejected", "ScmError", "TagInfo", "actor", "check_remote", "remote_mirror"]

_FIELDS = (
    "%(refname:strip=2)",
    "%(objecttype)",
    "%(*objectname)",
    "%(taggername)",
    "%(taggeremail:trim)",
    "%(taggerdate:unix)",
    "%(contents)",
)


@dataclass(frozen=True)
class TagInfo:
    """An annotated tag: its name, the commit it points to, who made it, when, and why."""

    name: str
    commit: str
    tagger: str
    email: str
    timestamp: int
    message: str


class Git:
    """Read-only access to one repository's refs and blobs."""

    def __init__(self, root: Path = Path()) -> None:
        import git

        try:
            self._repo = git.Repo(root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise ScmError(f"{root.resolve()} is not inside a git repository") from exc

    @property
    def root(self) -> Path:
        return Path(self._repo.working_tree_dir or ".")

    def resolve(self, ref: str) -> str:
        """The full commit SHA of ``ref``; a clear hint when it is missing (shallow clones)."""
        import git

        try:
            return str(self._repo.commit(ref).hexsha)
        except (git.BadName, ValueError, git.GitCommandError) as exc:
            raise ScmError(
                f"git ref '{ref}' not found; in a shallow CI clone fetch it first, e.g. "
                f"`git fetch --depth=1 origin {ref}`"
            ) from exc

    def first_existing(self, refs: list[str]) -> str | None:
        """The first of ``refs`` that resolves, or None."""
        for ref in refs:
            try:
                return self.resolve(ref)
            except ScmError:
                continue
        return None

    def read_text(self, ref: str, path: str) -> str | None:
        """The text of ``path`` at ``ref``, or None when the file is absent there."""
        import git

        sha = self.resolve(ref)
        try:
            blob = self._repo.commit(sha).tree / path
        except KeyError:
            return None
        if not isinstance(blob, git.Blob):
            return None
        data: bytes = blob.data_stream.read()
        return data.decode("utf-8", errors="replace")

    def changed(self, paths: list[str]) -> list[str]:
        """Files under ``paths`` that differ from HEAD (modified, deleted or untracked)."""
        out = self._repo.git.status("--porcelain", "--untracked-files=all", "--", *paths)
        return sorted(line[3:] for line in out.splitlines() if line.strip())

    def is_tracked(self, path: Path) -> bool:
        """Whether ``path`` (a symlink itself, not its target) is in git's index."""
        try:
            where = path.parent.resolve() / path.name
            rel = where.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return False
        out = self._repo.git.ls_files("-z", "--", rel, env={"GIT_LITERAL_PATHSPECS": "1"})
        return rel in out.split("\0")

    def staged_sizes(self) -> dict[str, int]:
        """Size in bytes of every file git's index holds (`git ls-files`), by path.

        The size of the blob git stores (for a Git LFS file, its pointer); submodules are
        left out. A file staged but not committed counts: it is on its way into git.
        """
        sizes = {}
        for (path, _stage), entry in self._repo.index.entries.items():
            if entry.mode >> 12 != 0o16:  # 0o160000: a submodule's commit, not a blob
                sizes[str(path)] = int(self._repo.odb.info(entry.binsha).size)
        return sizes

    def annotated_tags(self) -> list[TagInfo]:
        """Every annotated tag, read with one `git for-each-ref` call."""
        out = self._repo.git.for_each_ref(
            "refs/tags", f"--format={'%00'.join(_FIELDS)}%1e", strip_newline_in_stdout=False
        )
        tags = []
        for record in out.split(chr(30)):
            fields = record.lstrip("\n").split(chr(0))
            if len(fields) != len(_FIELDS) or fields[1] != "tag":
                continue  # lightweight tags carry no author or message
            name, _, commit, tagger, email, stamp, message = fields
            tags.append(TagInfo(name, commit, tagger, email, int(stamp or 0), message.strip()))
        return tags

    def read_many(self, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """Texts of many (commit, path) blobs from one `git cat-file --batch` process."""
        if not wanted:
            return {}
        request = "".join(f"{sha}:{path}\n" for sha, path in wanted).encode()
        proc = subprocess.run(
            ["git", "cat-file", "--batch"],
            input=request,
            capture_output=True,
            cwd=self._repo.git_dir,  # works for bare mirrors too
            check=False,
        )
        if proc.returncode != 0:
            raise ScmError(f"git cat-file failed: {proc.stderr.decode(errors='replace').strip()}")
        out, pos = proc.stdout, 0
        found: dict[tuple[str, str], str | None] = {}
        for key in wanted:
            end = out.index(b"\n", pos)
            line = out[pos:end]
            pos = end + 1
            if line.endswith((b" missing", b" ambiguous")):  # the name may hold spaces
                found[key] = None
                continue
            header = line.split()
            if len(header) != 3 or header[1] != b"blob":
                found[key] = None
                if len(header) == 3:  # a tree or another object: skip its content
                    pos += int(header[2]) + 1
                continue
            size = int(header[2])
            found[key] = out[pos : pos + size].decode("utf-8", errors="replace")
            pos += size + 1
        return found

    def tree(self, ref: str) -> str:
        """The tree SHA of ``ref``'s commit."""
        return str(self._repo.commit(self.resolve(ref)).tree.hexsha)

    def parents(self, ref: str) -> list[str]:
        """The parent commit SHAs of ``ref``, first parent first."""
        return [str(p.hexsha) for p in self._repo.commit(self.resolve(ref)).parents]

    def is_dirty(self) -> bool:
        """Uncommitted changes to tracked files."""
        return bool(self._repo.is_dirty(untracked_files=False))

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        import git

        try:
            self._repo.git.merge_base("--is-ancestor", ancestor, descendant)
        except git.GitCommandError:
            return False
        return True

    def merge_with_tree(self, first_parent: str, source: str, message: str) -> str:
        """A merge commit of ``source`` into ``first_parent`` whose tree is exactly source's."""
        import git

        tree = self.tree(source)
        try:
            out = self._repo.git.commit_tree(tree, "-p", first_parent, "-p", source, "-m", message)
        except git.GitCommandError as exc:
            raise ScmError(f"cannot create the merge commit: {_first_line(exc)}") from exc
        return str(out).strip()

    def fetch(self, remote: str, *, mirror: Sequence[str] = ()) -> dict[str, bool]:
        """Fetch branches and tags from ``remote``; tags matching a ``mirror`` pattern
        (e.g. `model@*`) become exactly the remote's. Returns the local tags that changed:
        name -> True when replaced by the remote's, False when removed (the remote has no
        such tag). Other local tags are never removed or replaced.
        """
        import git

        check_remote(remote)
        refspecs = [f"+refs/tags/{p}:refs/tags/{p}" for p in mirror]
        if refspecs and remote in self.remotes():  # explicit refspecs replace the default
            refspecs.insert(0, f"+refs/heads/*:refs/remotes/{remote}/*")
        before = self._tag_objects(mirror)
        prune = ["--prune"] if refspecs else []
        try:
            self._repo.git.fetch("--tags", "--quiet", *prune, "--", remote, *refspecs)
        except git.GitCommandError as exc:
            raise ScmError(f"cannot fetch from {remote}: {_first_line(exc)}") from exc
        after = self._tag_objects(mirror)
        return {name: name in after for name, oid in before.items() if after.get(name) != oid}

    def remotes(self) -> list[str]:
        return str(self._repo.git.remote()).split()

    def _tag_objects(self, patterns: Sequence[str]) -> dict[str, str]:
        """Tag name -> object id of the local tags matching ``patterns`` (none: none)."""
        if not patterns:
            return {}
        fmt = "--format=%(refname:strip=2)%00%(objectname)"
        out = self._repo.git.for_each_ref(fmt, "--", *[f"refs/tags/{p}" for p in patterns])
        return dict(line.split("\0", 1) for line in out.splitlines() if "\0" in line)

    def create_tag(self, name: str, commit: str, message: str, *, date: int | None = None) -> None:
        """An annotated tag (identity from git's configuration; ``date`` in Unix seconds)."""
        import git

        env = {"GIT_COMMITTER_DATE": f"{date} +0000"} if date is not None else {}
        try:
            self._repo.git.tag("-a", "-m", message, "--", name, commit, env=env)
        except git.GitCommandError as exc:
            raise ScmError(f"cannot create tag {name}: {_first_line(exc)}") from exc

    def delete_tag(self, name: str) -> None:
        import git

        with contextlib.suppress(git.GitCommandError):
            self._repo.git.tag("-d", "--", name)

    def push_atomic(
        self, remote: str, *, branch: tuple[str, str, str | None], tags: list[str]
    ) -> None:
        """Push one branch update (compare-and-swap on its old value) and tags atomically.

        When the branch does not move (new == old) the lease still guards the tags: they
        are only written if the branch is where the caller saw it. Raises PushRejected
        when the remote refuses any of it; then nothing was written.

        A signal does not abandon a push the server may be applying: PushInterrupted
        says which of the refs the remote holds after it (`scm.remote.push`).
        """
        name, new, old = branch
        lease = f"--force-with-lease=refs/heads/{name}:{old or ''}"
        try:
            push(self.root, remote, ["--atomic", "--porcelain", lease], self._refs(name, new, tags))
        except PushInterrupted as exc:
            if f"refs/heads/{name}" in (exc.held or []):
                self._track(remote, name, new)
            raise
        self._track(remote, name, new)

    def _refs(self, branch: str, new: str, tags: list[str]) -> dict[str, str]:
        """Remote ref -> object id of a push: the branch at ``new``, the local ``tags``."""
        refs = {f"refs/heads/{branch}": new}
        return refs | {f"refs/tags/{t}": oid for t, oid in self._tag_objects(tags).items()}

    def remote_holds(
        self, remote: str, *, branch: tuple[str, str], tags: list[str]
    ) -> tuple[list[str] | None, str]:
        """Which refs of a push (`push_atomic`) the remote holds; None and why when it
        cannot be asked."""
        return remote_holds(self.root, remote, self._refs(*branch, tags))

    def _track(self, remote: str, branch: str, new: str) -> None:
        """Keep the remote-tracking branch current, so the next local read sees the push."""
        if remote in self.remotes():
            self._repo.git.update_ref(f"refs/remotes/{remote}/{branch}", new)

    def remote_url(self, remote: str) -> str:
        """The URL of a configured remote, or ``remote`` itself (already a URL or path)."""
        import git

        check_remote(remote)
        try:
            url = str(self._repo.git.remote("get-url", "--", remote)).strip()
        except git.GitCommandError:
            return remote
        return check_remote(url, f"the URL of remote '{remote}'")


@contextlib.contextmanager
def remote_mirror(url: str) -> Iterator[Git]:
    """A temporary bare repository holding ``url``'s tags and release branches, depth 1.

    Enough to read a registry without cloning: every tagged commit's tree, no history.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mergeml-remote-") as tmp:
        fetch_into_bare(url, Path(tmp))
        yield Git(Path(tmp))


def tracked_by_git(path: Path) -> bool:
    """Whether git tracks the file ``path``; False when it is not inside a git repository."""
    try:
        repo = Git(path.parent if path.parent.is_dir() else Path())
    except ScmError:
        return False
    return repo.is_tracked(path)


def _first_line(exc: Exception) -> str:
    """git's own reason for a failed GitPython call."""
    text = str(getattr(exc, "stderr", "") or exc).strip()
    if text.startswith("stderr: '") and text.endswith("'"):  # how GitPython quotes it
        text = text[len("stderr: '") : -1]
    return reason(text, str(exc))


def actor(repo: Git) -> str:
    """Who is acting: git's committer identity, name and email."""
    import git

    try:
        ident = str(repo._repo.git.var("GIT_COMMITTER_IDENT"))
    except git.GitCommandError as exc:
        raise ScmError(
            "no git identity: set user.name and user.email (git config) to record who acts"
        ) from exc
    return ident.rsplit(" ", 2)[0]
