"""The one place that knows a repository's layout, read from its dvc.yaml.

Every other module asks here for the model artifact (name and path), the metrics file, the
params files and the gate rules, whether it reads the workspace or a git ref, so that a
project whose metrics or model live elsewhere is read, gated and promoted on its own files.
Reading dvc.yaml imports no pydantic (it is on the path of `mergeml registry`, whose whole
run is budgeted at 0.5 s): only `gate_rules` loads the schema, when it is called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from mergeml.config.dvcyaml import artifact_name, artifact_path, metrics_in
from mergeml.errors import ConfigError
from mergeml.model.schema import schema_path_for
from mergeml.scm import Git
from mergeml.yamlread import parse_yaml, problem

if TYPE_CHECKING:
    from mergeml.config.schema import GatesConfig

DVC_YAML = "dvc.yaml"
LOCK_FILE = "dvc.lock"
PARAMS_FILE = "params.yaml"
# What a dvc.yaml that declares no artifact or metrics file is taken to mean.
DEFAULT_MODEL_NAME = "model"
DEFAULT_MODEL_PATH = "models/model.skops"
DEFAULT_METRICS = "reports/metrics.json"
PROFILE_FILE = "reference_profile.json"  # beside the model (mergeml.evaluation.profile)
RELEASE_PREFIX = "release/"  # the branch whose head is the truth of a stage
MAX_INPUT = 20_000_000  # characters: a larger file is treated as absent.


@dataclass(frozen=True)
class Layout:
    """Where a project keeps its model, metrics and parameters."""

    model: str  # the artifact's name, as GTO tags use it
    model_path: str  # the artifact's output path, as dvc.lock records it
    metrics: str  # the first metrics file
    params_files: tuple[str, ...]
    artifacts: tuple[tuple[str, str], ...] = ()  # (name, path) of every declared artifact

    def path_of(self, artifact: str) -> str:
        """The output path of ``artifact``: the model's for the model or an undeclared name."""
        if artifact == self.model:
            return self.model_path
        return dict(self.artifacts).get(artifact, self.model_path)

    @property
    def schema_path(self) -> str:
        """The model's input schema (`models/input_schema.json`), tracked by git."""
        return schema_path_for(self.model_path)

    @property
    def profile_path(self) -> str:
        """The model's reference profile (`models/reference_profile.json`), tracked by git."""
        return str(PurePosixPath(self.model_path).with_name(PROFILE_FILE))


DEFAULT_LAYOUT = Layout(DEFAULT_MODEL_NAME, DEFAULT_MODEL_PATH, DEFAULT_METRICS, (PARAMS_FILE,))


def _params_files(doc: Mapping[str, Any]) -> tuple[str, ...]:
    """params.yaml plus every file named by a stage's ``params: [{file: [keys]}]`` entry."""
    files = [PARAMS_FILE]
    stages = doc.get("stages")
    for stage in stages.values() if isinstance(stages, Mapping) else []:
        entries = stage.get("params") if isinstance(stage, Mapping) else None
        for entry in entries if isinstance(entries, list) else []:
            for name in entry if isinstance(entry, Mapping) else []:
                if str(name) not in files:
                    files.append(str(name))
    return tuple(files)


def _model(doc: Mapping[str, Any]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(name, path) of the model artifact and every artifact's (name, path)."""
    artifacts = doc.get("artifacts")
    entries = tuple(
        (str(k), str(a["path"]))
        for k, a in (artifacts.items() if isinstance(artifacts, Mapping) else ())
        if isinstance(a, Mapping) and a.get("path")
    )
    name = artifact_name(doc, DEFAULT_MODEL_NAME)
    return name, artifact_path(doc) or DEFAULT_MODEL_PATH, entries


def layout_from_text(text: str | None, where: str = DVC_YAML) -> Layout:
    """The layout a dvc.yaml text declares (the defaults where it is absent or silent)."""
    try:
        doc = parse_yaml(text, where) if text is not None else None
    except yaml.YAMLError:
        doc = None
    if not isinstance(doc, Mapping):
        return DEFAULT_LAYOUT
    metrics = metrics_in(doc)
    name, path, artifacts = _model(doc)
    return Layout(
        model=name,
        model_path=path,
        metrics=metrics[0] if metrics else DEFAULT_METRICS,
        params_files=_params_files(doc),
        artifacts=artifacts,
    )


def workspace_layout(root: Path = Path()) -> Layout:
    """The layout of the dvc.yaml in ``root``."""
    path = root / DVC_YAML
    return layout_from_text(path.read_text(encoding="utf-8") if path.is_file() else None)


def layout_at(repo: Git, ref: str) -> Layout:
    """The layout of the dvc.yaml committed at ``ref``."""
    return layout_from_text(repo.read_text(ref, DVC_YAML))


# --- reading one side: a commit or the workspace --------------------------------


@dataclass(frozen=True)
class Side:
    """One side of the comparison: a commit, or the workspace (``sha`` None)."""

    ref: str
    sha: str | None
    read: Callable[[str], str | None]

    @property
    def short(self) -> str:
        return self.sha[:7] if self.sha else "workspace"

    def describe(self) -> dict[str, Any]:
        return {"ref": self.ref, "sha": self.sha, "short": self.short}


def safe_path(path: object) -> str | None:
    """A relative POSIX path inside the project, or None (absolute paths and `..` refused)."""
    parts = PurePosixPath(str(path).replace("\\", "/"))
    if parts.is_absolute() or ".." in parts.parts or not parts.parts:
        return None
    return parts.as_posix()


def git_side(repo: Git, ref: str) -> Side:
    """The files of commit ``ref``; ScmError when the ref does not resolve."""
    sha = repo.resolve(ref)

    def read(path: str) -> str | None:
        safe = safe_path(path)
        text = None if safe is None else repo.read_text(sha, safe)
        return text if text is not None and len(text) <= MAX_INPUT else None

    return Side(ref, sha, read)


def workspace_side(root: Path) -> Side:
    """The files under ``root`` (symlinks leading outside it are not followed)."""
    top = root.resolve()

    def read(path: str) -> str | None:
        safe = safe_path(path)
        if safe is None:
            return None
        target = (top / safe).resolve()
        try:
            if not target.is_relative_to(top) or target.stat().st_size > MAX_INPUT:
                return None
            return target.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    return Side("workspace", None, read)


# --- the gate rules -----------------------------------------------------------------------------


def gate_rules(side: Side) -> GatesConfig:
    """``evaluate.gates`` of the side's params.yaml (no rules when the file or key is absent).

    ConfigError when params.yaml is not YAML or the rules are invalid: a file nobody can read
    must never pass as a project without gates.
    """
    from mergeml.config.schema import GatesConfig, parse_section

    where = f"{PARAMS_FILE} at {side.short}"
    text = side.read(PARAMS_FILE)
    try:
        doc = parse_yaml(text, where) if text is not None else None
    except yaml.YAMLError as exc:
        raise ConfigError(problem(exc, where, text)) from exc
    evaluate = doc.get("evaluate") if isinstance(doc, Mapping) else None
    rules = evaluate.get("gates") if isinstance(evaluate, Mapping) else None
    return parse_section(GatesConfig, rules or {}, where=where, prefix="evaluate.gates")


def release_branch(stage: str) -> str:
    """The branch of ``stage``: its head is what the stage holds."""
    return f"{RELEASE_PREFIX}{stage}"


# --- the `_target_` allow-list ------------------------------------------------------------------

REVIEWED_REF = "origin/main"  # where the allow-list is read from when the clone has it


def allowed_targets(root: Path = Path()) -> tuple[str, ...]:
    """The `_target_` prefixes params may use: the defaults plus the reviewed extension.

    ``[tool.mergeml.params] targets`` is read from the pyproject.toml committed on
    origin/main, else (a repository without that ref) at HEAD; never from the working
    tree, so an uncommitted or unmerged edit extends nothing. Outside a git repository,
    or before the first commit, only the defaults apply.
    """
    from mergeml.config.targets import DEFAULT_TARGETS, parse_targets
    from mergeml.errors import ScmError

    try:
        repo = Git(root)
        rel = root.resolve().relative_to(repo.root.resolve())
    except (ScmError, ValueError):
        return DEFAULT_TARGETS
    ref = next((r for r in (REVIEWED_REF, "HEAD") if repo.first_existing([r])), None)
    if ref is None:
        return DEFAULT_TARGETS
    path = (PurePosixPath(rel.as_posix()) / "pyproject.toml").as_posix()
    return parse_targets(repo.read_text(ref, path), f"pyproject.toml on {ref}")
