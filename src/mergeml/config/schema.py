"""Typed, frozen schemas for every section of params.yaml.

Validation happens once, at the boundary: `parse_section` turns a plain mapping into
one of these models or raises ConfigError naming the key path.
"""

from __future__ import annotations

import math
from pathlib import PurePosixPath
from typing import Annotated, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from mergeml.config.metric_names import CLASSIFICATION_METRICS, REGRESSION_METRICS
from mergeml.config.monitor import MonitorSettings
from mergeml.errors import ConfigError

Task = Literal["classification", "regression"]
# YAML gives lists; store them as tuples (frozen) without loosening the element types.
Steps = Annotated[tuple["StepConfig", ...], Field(strict=False)]
Names = Annotated[tuple[str, ...], Field(strict=False)]


def _known_metrics(known: tuple[str, ...], task: str) -> AfterValidator:
    """Refuse a metric name the evaluate stage cannot compute (listing the valid ones)."""

    def check(names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if name not in known:
                raise PydanticCustomError(
                    "unknown_metric",
                    f"unknown {task} metric {name!r} (valid: {', '.join(known)})",
                )
        return names

    return AfterValidator(check)


ClassificationMetricNames = Annotated[
    Names, _known_metrics(CLASSIFICATION_METRICS, "classification")
]
RegressionMetricNames = Annotated[Names, _known_metrics(REGRESSION_METRICS, "regression")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


EXTRA_DATA_DIRS = ("data/raw", "data/labelled")  # dependencies of the prepare stage


def check_extra_file(path: str) -> str:
    """``path`` unchanged when it is a relative file path under data/raw/ or data/labelled/."""
    parts = PurePosixPath(path).parts
    inside = any(parts[:2] == tuple(d.split("/")) for d in EXTRA_DATA_DIRS) and len(parts) > 2
    if PurePosixPath(path).is_absolute() or ".." in parts or not inside:
        raise PydanticCustomError(
            "outside_data_dirs",
            "extra data files must be relative paths under data/raw/ or data/labelled/",
        )
    return path


ExtraFile = Annotated[str, Field(min_length=1), AfterValidator(check_extra_file)]


class _Source(_Frozen):
    # Files (CSV/Parquet) whose rows prepare appends to the source before the split,
    # e.g. the labelled data a retraining pull request adds.
    extra_files: Annotated[tuple[ExtraFile, ...], Field(strict=False)] = ()


class SyntheticData(_Source):
    source: Literal["synthetic"]
    task: Literal["classification"]
    target: str
    n_rows: Annotated[int, Field(ge=10)]
    positive_rate: Annotated[float, Field(gt=0.0, lt=0.5)]
    n_noise_features: Annotated[int, Field(ge=0)]
    drift: bool
    seed: int


class BreastCancerData(_Source):
    source: Literal["breast_cancer"]
    task: Literal["classification"]
    target: str


class DiabetesData(_Source):
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


ColumnDtype = Literal["float", "int", "bool", "category", "str"]
COLUMN_DTYPES: tuple[str, ...] = get_args(ColumnDtype)
NUMERIC_DTYPES: frozenset[str] = frozenset({"float", "int"})
LABEL_DTYPES: frozenset[str] = frozenset({"category", "str"})


def _known_dtype(value: object) -> object:
    if not isinstance(value, str) or value not in COLUMN_DTYPES:
        expected = ", ".join(COLUMN_DTYPES)
        raise PydanticCustomError(
            "unknown_dtype", f"unknown dtype {value!r} (expected one of {expected})"
        )
    return value


def _true_or_false(value: object) -> object:
    if not isinstance(value, bool):
        raise PydanticCustomError("not_a_bool", f"'nullable' must be true or false, got {value!r}")
    return value


def _number(key: str) -> BeforeValidator:
    def check(value: object) -> object:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PydanticCustomError("not_a_number", f"'{key}' must be a number, got {value!r}")
        if math.isnan(value):
            raise PydanticCustomError("nan", f"'{key}' must not be NaN")
        return value

    return BeforeValidator(check)


def _labels(value: object) -> object:
    """A non-empty list of distinct strings, as a tuple."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise PydanticCustomError("not_labels", "'categories' must be a list of strings")
    if not value:
        raise PydanticCustomError(
            "no_labels", "'categories' must not be empty (leave it out: any label)"
        )
    bad = [c for c in value if not isinstance(c, str)]
    if bad:
        raise PydanticCustomError(
            "not_labels", f"{len(bad)} categories are not strings (e.g. {bad[0]!r})"
        )
    if len(set(value)) != len(value):
        raise PydanticCustomError("duplicate_labels", "categories contain duplicates")
    return tuple(value)


class ColumnConfig(_Frozen):
    """One declared column of a data file (``data.columns.<name>``): the data contract.

    ``min``/``max`` (inclusive) apply to ``float`` and ``int`` columns only;
    ``categories`` to ``category`` and ``str`` columns only (None: any label).
    """

    dtype: Annotated[ColumnDtype, BeforeValidator(_known_dtype)]
    nullable: Annotated[bool, BeforeValidator(_true_or_false)] = False
    min: Annotated[int | float | None, _number("min")] = None
    max: Annotated[int | float | None, _number("max")] = None
    categories: Annotated[tuple[str, ...] | None, BeforeValidator(_labels)] = None

    @model_validator(mode="after")
    def _fits_dtype(self) -> ColumnConfig:
        for key, bound in (("min", self.min), ("max", self.max)):
            if bound is not None and self.dtype not in NUMERIC_DTYPES:
                raise PydanticCustomError(
                    "bound_on_labels", f"'{key}' is only allowed for float or int columns"
                )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise PydanticCustomError(
                "empty_range", f"min {self.min} is greater than max {self.max}"
            )
        if self.categories is not None and self.dtype not in LABEL_DTYPES:
            raise PydanticCustomError(
                "labels_on_numbers", "'categories' is only allowed for category or str columns"
            )
        return self


class FileData(_Source):
    source: Literal["file"]
    path: Annotated[str, Field(min_length=1), AfterValidator(check_data_path)]
    target: Annotated[str, Field(min_length=1)]
    task: Task
    format: Literal["auto", "csv", "parquet"]
    columns: dict[str, ColumnConfig] | None = None


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
    classification_metrics: ClassificationMetricNames
    regression_metrics: RegressionMetricNames
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
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)  # params/monitor/


M = TypeVar("M", bound=BaseModel)


_SOURCE_TAGS = frozenset({"synthetic", "breast_cancer", "diabetes", "file"})


def _location(loc: tuple[int | str, ...], prefix: str) -> str:
    """Dotted key path of a pydantic error location, without the data source's tag.

    The tag is the union member pydantic tried (`data.file.path`); it is dropped only
    where it can occur, so a column named `file` still shows in `data.columns.file`.
    """
    parts = [str(p) for p in loc]
    kept = [
        p
        for i, p in enumerate(parts)
        if not (p in _SOURCE_TAGS and (i == 0 or parts[i - 1] == "data"))
    ]
    return ".".join([prefix, *kept] if prefix else kept) or "(root)"


def parse_section(model: type[M], value: object, *, where: str, prefix: str = "") -> M:
    """Validate ``value`` into ``model``; one ConfigError line naming the key path.

    An unknown key is reported before anything else: a typo (`dtyp`) also makes the
    key it was meant to be look missing, and the typo is what the user must fix.
    """
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors = exc.errors()
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        key = _location(tuple(err["loc"]), prefix)
        got = err.get("input")
        said = isinstance(got, dict | list) or repr(got) in err["msg"]
        shown = "" if said else f" (got {got!r})"
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


class SchemaParams(_Frozen):
    """What the `schema` stage reads: data.task and data.target."""

    data: TargetSpec


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
    classification_metrics: ClassificationMetricNames
    regression_metrics: RegressionMetricNames


class EvaluateParams(_Frozen):
    """What the `evaluate` stage reads: threads, data.task, data.target, the metric lists."""

    threads: Threads
    data: TargetSpec
    evaluate: MetricNames
