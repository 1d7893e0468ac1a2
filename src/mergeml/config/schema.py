"""Typed, frozen schemas for every section of params.yaml.

Validation happens once, at the boundary: `parse_section` turns a plain mapping into
one of these models or raises ConfigError naming the key path.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


class FileData(_Frozen):
    source: Literal["file"]
    path: Annotated[str, Field(min_length=1)]
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


class EvaluateConfig(_Frozen):
    classification_metrics: Names
    regression_metrics: Names
    gates: GatesConfig


class Params(_Frozen):
    """The whole of params.yaml."""

    seed: int
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
    """What the `train` stage reads: data.task, data.target, preprocess, model."""

    data: TargetSpec
    preprocess: PreprocessConfig
    model: StepConfig


class MetricNames(_Frozen):
    classification_metrics: Names
    regression_metrics: Names


class EvaluateParams(_Frozen):
    """What the `evaluate` stage reads: data.task, data.target, the metric lists."""

    data: TargetSpec
    evaluate: MetricNames
