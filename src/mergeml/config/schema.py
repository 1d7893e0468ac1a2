"""Typed, frozen schemas for every section of params.yaml.

Validation happens once, at the boundary: `parse_section` turns a plain mapping into
one of these models or raises ConfigError naming the key path.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from mergeml.errors import ConfigError

Task = Literal["classification", "regression"]
# YAML gives lists; store them as tuples (frozen) without loosening the element types.
Steps = Annotated[tuple["StepConfig", ...], Field(strict=False)]
Names = Annotated[tuple[str, ...], Field(strict=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class SyntheticData(_Frozen):
    source: Literal["synthetic"]
    task: Literal["classification"]
    target: str
    n_rows: Annotated[int, Field(ge=10)]
    positive_rate: Annotated[float, Field(gt=0.0, lt=0.5)]
    n_noise_features: Annotated[int, Field(ge=0)]
    drift: bool
    seed: int


class BreastCancerData(_Frozen):
    source: Literal["breast_cancer"]
    task: Literal["classification"]
    target: str


class DiabetesData(_Frozen):
    source: Literal["diabetes"]
    task: Literal["regression"]
    target: str


RAW_DATA_DIR = "data/raw"  # the user data directory: a declared dependency of `prepare`


def check_data_path(path: str) -> str:
    """``path`` unchanged when it names a file under data/raw/ inside the repository.

    Absolute paths and paths through `..` are refused: another machine cannot reproduce
    them. Anything outside data/raw/ is refused: DVC would not see it change.
    """
    parts = PurePosixPath(path).parts
    if PurePosixPath(path).is_absolute() or ".." in parts:
        raise PydanticCustomError(
            "outside_repository",
            "outside the repository: it cannot be reproduced; put the file under "
            f"{RAW_DATA_DIR}/ and use a relative path",
        )
    if parts[:2] != tuple(RAW_DATA_DIR.split("/")) or len(parts) < 3:
        raise PydanticCustomError(
            "outside_raw_data",
            f"data files must live under {RAW_DATA_DIR}/ (the directory the prepare stage "
            "depends on)",
        )
    return path


class FileData(_Frozen):
    source: Literal["file"]
    path: Annotated[str, Field(min_length=1), AfterValidator(check_data_path)]
    target: Annotated[str, Field(min_length=1)]
    task: Task
    format: Literal["auto", "csv", "parquet"]
    columns: dict[str, dict[str, Any]] | None = None


DataConfig = Annotated[
    SyntheticData | BreastCancerData | DiabetesData | FileData, Field(discriminator="source")
]


class SplitConfig(_Frozen):
    test_size: Annotated[float, Field(gt=0.0, lt=1.0)]
    stratify: bool


class StepConfig(BaseModel):
    """One `_target_` step; its other keys are the estimator's arguments."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)
    target: Annotated[str, Field(alias="_target_", min_length=1)]


class PreprocessConfig(_Frozen):
    numeric: Steps
    categorical: Steps


class Tolerance(_Frozen):
    absolute: Annotated[float, Field(ge=0.0)] | None = None
    relative: Annotated[float, Field(ge=0.0)] | None = None


class GatesConfig(_Frozen):
    min: dict[str, float] = Field(default_factory=dict)
    max: dict[str, float] = Field(default_factory=dict)
    vs_base: dict[str, Tolerance] = Field(default_factory=dict)


class VerifyTolerance(_Frozen):
    """How far a rebuild on other hardware may be from what was committed (both must hold:
    ``|rebuilt - committed| <= absolute + relative * max(|rebuilt|, |committed|)``)."""

    absolute: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 1e-6
    relative: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 1e-6


class EvaluateConfig(_Frozen):
    classification_metrics: Names
    regression_metrics: Names
    gates: GatesConfig
    verify: VerifyTolerance = Field(default_factory=VerifyTolerance)


Threads = Annotated[int, Field(ge=1, le=256)]


class Params(_Frozen):
    """The whole of params.yaml."""

    seed: int
    threads: Threads
    data: DataConfig
    preprocess: PreprocessConfig
    model: StepConfig
    split: SplitConfig
    evaluate: EvaluateConfig


M = TypeVar("M", bound=BaseModel)


def _location(loc: tuple[int | str, ...], prefix: str) -> str:
    tags = {"synthetic", "breast_cancer", "diabetes", "file"}
    parts = [str(p) for p in loc if str(p) not in tags]
    return ".".join([prefix, *parts] if prefix else parts) or "(root)"


def parse_section(model: type[M], value: object, *, where: str, prefix: str = "") -> M:
    """Validate ``value`` into ``model``; one ConfigError line naming the key path."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = _location(tuple(err["loc"]), prefix)
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        extra = f"; {len(exc.errors()) - 1} more problem(s)" if len(exc.errors()) > 1 else ""
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"{where}: unknown key '{key}'{extra}") from exc
        if err["type"] == "missing":
            raise ConfigError(f"{where}: missing key '{key}'{extra}") from exc
        raise ConfigError(f"{where}: {key}: {err['msg']}{shown}{extra}") from exc


def parse_params(data: object, *, where: str = "params.yaml") -> Params:
    """Validate a whole composed parameter mapping."""
    return parse_section(Params, data, where=where)


class TargetSpec(_Frozen):
    """The two data keys that training and evaluation read."""

    task: Task
    target: str


class PrepareParams(_Frozen):
    """What the `prepare` stage reads: seed, data, split."""

    seed: int
    data: DataConfig
    split: SplitConfig


class TrainParams(_Frozen):
    """What the `train` stage reads: threads, data.task, data.target, preprocess, model."""

    threads: Threads
    data: TargetSpec
    preprocess: PreprocessConfig
    model: StepConfig


class MetricNames(_Frozen):
    classification_metrics: Names
    regression_metrics: Names


class EvaluateParams(_Frozen):
    """What the `evaluate` stage reads: threads, data.task, data.target, the metric lists."""

    threads: Threads
    data: TargetSpec
    evaluate: MetricNames
