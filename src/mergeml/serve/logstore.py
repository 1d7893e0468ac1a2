"""Where the prediction log lives, and its part files.

The log is a ROOT (a local directory or any fsspec URL) holding two Hive-partitioned
Parquet datasets: ``ROOT/predictions/date=YYYY-MM-DD/part-<utc time>-<uuid>.parquet`` and
``ROOT/feedback/date=YYYY-MM-DD/part-...``. A part file is never changed once written and
never overwritten (its name is unique); no partial one is ever visible: on a local (or
any renaming) filesystem it is written under a hidden temporary name in its partition and
renamed into place, on an object store it is one upload, which appears whole on close.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.errors import ConfigError, PredictionLogError

if TYPE_CHECKING:
    import pyarrow as pa

ENV_VAR = "MERGEML_PREDICTION_LOG"
OFF = "off"
DEFAULT_DIR = "logs"
PREDICTIONS, FEEDBACK = "predictions", "feedback"
KINDS = (PREDICTIONS, FEEDBACK)
# Object stores: an object appears whole when its upload completes, and a rename is a copy.
_UPLOAD_PROTOCOLS = frozenset(
    {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oci", "r2", "memory"}
)


def _configured(root: Path) -> str | None:
    """``[tool.mergeml.serve] prediction_log`` of ``root``'s pyproject.toml (working tree)."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    try:
        doc = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{pyproject} is not valid TOML: {exc}") from exc
    value = doc.get("tool", {}).get("mergeml", {}).get("serve", {}).get("prediction_log")
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(
            f"{pyproject}: [tool.mergeml.serve] prediction_log must be a path or URL "
            f'(or "{OFF}"), got {value!r}'
        )
    return value


def _absolute(value: str, base: Path) -> str:
    """A local path made absolute against ``base``; a URL as it is."""
    from fsspec.core import split_protocol

    protocol, _ = split_protocol(value)
    if protocol is not None:
        return value
    return str((base / Path(value).expanduser()).resolve())


def log_location(cli_value: str | None, root: Path | None) -> str | None:
    """The prediction log's root URL, or None when it is off.

    The first given of: ``--log`` (``cli_value``), ``$MERGEML_PREDICTION_LOG``,
    ``[tool.mergeml.serve] prediction_log`` in the pyproject.toml of the repository at
    ``root``, else ``logs/`` in that repository (or in the working directory outside one).
    ``off`` (any of them) disables the log. Local paths come back absolute: a command-line
    or environment path against the working directory, a configured one against ``root``.
    """
    here = Path.cwd()
    given = [(cli_value, here), (os.environ.get(ENV_VAR), here)]
    if root is not None:
        given.append((_configured(root), root))
    for value, base in given:
        if value is not None and value.strip():
            value = value.strip()
            return None if value.lower() == OFF else _absolute(value, base)
    return str(((root or here) / DEFAULT_DIR).resolve())


def part_name(now: datetime | None = None) -> str:
    """A new part file's name: its UTC creation time and a random uuid (never reused)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"part-{stamp}-{uuid.uuid4().hex}.parquet"


def partition(day: date) -> str:
    return f"date={day.isoformat()}"


def parse_partition(name: str) -> date | None:
    """The date of a ``date=YYYY-MM-DD`` folder name (None for anything else)."""
    if not name.startswith("date="):
        return None
    try:
        return date.fromisoformat(name.removeprefix("date="))
    except ValueError:
        return None


@dataclass(frozen=True)
class LogStore:
    """A log root opened through fsspec: ``fs`` and the root's path in it."""

    url: str
    fs: Any
    root: str

    @classmethod
    def open(cls, url: str) -> LogStore:
        """The store at ``url``; PredictionLogError when no filesystem can serve it."""
        from fsspec.core import url_to_fs

        try:
            fs, root = url_to_fs(url)
        except ImportError as exc:  # s3fs, gcsfs, adlfs... are the user's to install
            raise PredictionLogError(f"prediction log {url}: {exc}") from exc
        except (ValueError, OSError) as exc:
            raise PredictionLogError(f"prediction log {url}: {' '.join(str(exc).split())}") from exc
        return cls(url, fs, str(root).rstrip("/"))

    def _renames(self) -> bool:
        """Whether parts are written under a temporary name and renamed (not uploaded)."""
        protocols = self.fs.protocol
        protocols = (protocols,) if isinstance(protocols, str) else tuple(protocols)
        return not _UPLOAD_PROTOCOLS.intersection(protocols)

    def display(self, path: str) -> str:
        """``path`` as a user writes it: a local path as it is, else with its protocol."""
        protocols = self.fs.protocol
        protocols = (protocols,) if isinstance(protocols, str) else tuple(protocols)
        return path if "file" in protocols else str(self.fs.unstrip_protocol(path))

    def kind_dir(self, kind: str) -> str:
        return f"{self.root}/{kind}"

    def write_part(self, kind: str, day: date, table: pa.Table) -> str:
        """Write ``table`` as a new part file of ``kind`` for ``day``; its path."""
        import pyarrow.parquet as pq

        folder = f"{self.kind_dir(kind)}/{partition(day)}"
        final = f"{folder}/{part_name()}"
        self.fs.makedirs(folder, exist_ok=True)
        if not self._renames():
            with self.fs.open(final, "wb") as handle:
                pq.write_table(table, handle)
            return final
        tmp = f"{folder}/.{final.rsplit('/', 1)[1]}.tmp"
        try:
            with self.fs.open(tmp, "wb") as handle:
                pq.write_table(table, handle)
            self.fs.mv(tmp, final)
        except BaseException:
            _remove_quietly(self.fs, tmp)
            raise
        return final

    def partitions(self, kind: str, start: date | None, end: date | None) -> list[str]:
        """The partition folders of ``kind`` whose date is in [start, end], oldest first."""
        try:
            entries = self.fs.ls(self.kind_dir(kind), detail=False)
        except FileNotFoundError:
            return []
        found = []
        for entry in entries:
            day = parse_partition(str(entry).rstrip("/").rsplit("/", 1)[-1])
            if day is not None and (start is None or day >= start) and (end is None or day <= end):
                found.append((day, str(entry).rstrip("/")))
        return [path for _, path in sorted(found)]

    def parts(self, folder: str) -> list[str]:
        """The visible part files of a partition folder, by name (creation time)."""
        names = [str(p) for p in self.fs.ls(folder, detail=False)]
        return sorted(
            p for p in names if p.endswith(".parquet") and p.rsplit("/", 1)[-1][0] not in "._"
        )


def _remove_quietly(fs: Any, path: str) -> None:
    try:
        if fs.exists(path):
            fs.rm(path)
    except Exception:
        pass
