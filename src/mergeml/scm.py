"""The git adapter: the only module that imports GitPython."""

from __future__ import annotations

from pathlib import Path

from mergeml.errors import MergemlError


class ScmError(MergemlError):
    """A git repository, ref or object is missing or unreadable."""


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
