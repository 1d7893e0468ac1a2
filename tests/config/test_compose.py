"""Composition of params/ into params.yaml, and every way a bad override is refused."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from mergeml.config.compose import (
    check_params_file,
    compose_params,
    compose_to_file,
    groups,
    require_current,
)
from mergeml.config.schema import parse_params
from mergeml.errors import ConfigError, StaleParamsError, UsageError
from mergeml.model.build import build_pipeline

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params"
CLASSIFIERS = ["logistic_regression", "random_forest", "hist_gradient_boosting"]
REGRESSORS = ["ridge", "hist_gradient_boosting_regressor"]
DATA_TASKS = {
    "synthetic": ("classification", []),
    "breast_cancer": ("classification", []),
    "diabetes": ("regression", []),
    "file": ("classification", ["data.path=data/raw/x.csv", "data.target=y"]),
}


def test_every_model_option_is_covered_by_this_test() -> None:
    assert sorted(groups(PARAMS)["model"]) == sorted(CLASSIFIERS + REGRESSORS)
    assert sorted(groups(PARAMS)["data"]) == sorted(DATA_TASKS)


@pytest.mark.parametrize(
    ("data", "model", "preprocess"),
    [
        (data, model, pre)
        for data, (task, _) in DATA_TASKS.items()
        for model in (CLASSIFIERS if task == "classification" else REGRESSORS)
        for pre in groups(PARAMS)["preprocess"]
    ],
)
def test_every_config_option_composes_and_instantiates(
    data: str, model: str, preprocess: str
) -> None:
    extra = DATA_TASKS[data][1]
    composed = compose_params(
        PARAMS, [f"data={data}", f"model={model}", f"preprocess={preprocess}", *extra]
    )
    params = parse_params(composed)
    pipeline = build_pipeline(
        params.model,
        params.preprocess.numeric,
        params.preprocess.categorical,
        numeric=["a"],
        categorical=["b"],
    )
    assert type(pipeline.named_steps["estimator"]).__name__ in composed["model"]["_target_"]


@pytest.mark.parametrize("preset", groups(PARAMS)["experiment"])
def test_every_experiment_preset_composes(preset: str) -> None:
    composed = compose_params(PARAMS, [f"experiment={preset}"])
    assert composed["seed"] == 42


def test_regression_data_with_a_classifier_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"not a classifier|not a regressor"):
        compose_params(PARAMS, ["data=diabetes"])


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        (["model=nope"], r"unknown option 'nope' for group 'model'"),
        (["model.foo=1"], r"unknown key 'model.foo'"),
        (["+model.foo=1"], r"adds key 'model.foo'"),
        (["++seed=1"], r"adds key 'seed'"),
        (["~seed"], r"deletes"),
        (["model.C=[0.1"], r"malformed override 'model.C=\[0.1'"),
        (["model=logistic_regression", "model.C=abc"], r"model.C: .*'abc'"),
        (["data.n_rows=abc"], r"data.n_rows: .*integer"),
        (["split.test_size=1.5"], r"split.test_size"),
        (["data=file"], r"missing value for 'data.path'"),
        (["data=file", "data.path=x.csv"], r"missing value for 'data.target'"),
        (
            ["data=file", "data.path=data/raw/x.csv", "data.target=y", "data.task=ranking"],
            r"data.task",
        ),
        (["data=file", "data.path=/tmp/x.csv", "data.target=y"], r"data.path: outside the"),
        (["data=file", "data.path=x.csv", "data.target=y"], r"data.path: .*under data/raw/"),
        (["model.learning_rate=-1"], r"model.learning_rate"),
    ],
)
def test_bad_overrides_are_refused_naming_the_key(overrides: list[str], pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern) as info:
        compose_params(PARAMS, overrides)
    assert "\n" not in str(info.value)


def test_sweeps_are_only_for_experiments() -> None:
    with pytest.raises(UsageError, match="sweep"):
        compose_params(PARAMS, ["model.max_iter=1,2"])


def copy_params(tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(PARAMS, tmp_path / "params")
    return tmp_path / "params"


def test_compose_writes_params_yaml_and_is_idempotent(tmp_path: Path) -> None:
    params_dir = copy_params(tmp_path)
    out = tmp_path / "params.yaml"
    assert compose_to_file(params_dir, out) is True
    first = out.read_bytes()
    assert compose_to_file(params_dir, out) is False
    assert out.read_bytes() == first
    assert yaml.safe_load(first)["model"]["random_state"] == 42
    assert first.startswith(b"# GENERATED")


def test_failed_compose_leaves_params_yaml_untouched(tmp_path: Path) -> None:
    params_dir = copy_params(tmp_path)
    out = tmp_path / "params.yaml"
    compose_to_file(params_dir, out)
    before = out.read_bytes()
    with pytest.raises(ConfigError):
        compose_to_file(params_dir, out, ["model.C=abc"])
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_check_reports_a_stale_params_yaml_by_content(tmp_path: Path) -> None:
    params_dir = copy_params(tmp_path)
    out = tmp_path / "params.yaml"
    compose_to_file(params_dir, out)
    # Reformatting alone is not staleness: content is compared, not bytes.
    out.write_text(yaml.safe_dump(yaml.safe_load(out.read_text()), sort_keys=True))
    assert check_params_file(params_dir, out) == []
    model_file = params_dir / "model" / "hist_gradient_boosting.yaml"
    model_file.write_text(model_file.read_text().replace("max_iter: 200", "max_iter: 300"))
    assert check_params_file(params_dir, out) == ["~ model.max_iter: 200 -> 300"]
    with pytest.raises(StaleParamsError, match="stale"):
        require_current(params_dir, out)


def test_params_yaml_is_committed_and_current() -> None:
    assert check_params_file(PARAMS, ROOT / "params.yaml") == []


def test_all_group_combinations_have_distinct_output() -> None:
    seen = set()
    for model, pre in itertools.product(CLASSIFIERS, groups(PARAMS)["preprocess"]):
        composed = compose_params(PARAMS, [f"model={model}", f"preprocess={pre}"])
        seen.add(yaml.safe_dump(composed))
    assert len(seen) == len(CLASSIFIERS) * len(groups(PARAMS)["preprocess"])


FILE_DATA = ["data=file", "data.path=data/raw/x.csv", "data.target=y"]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("{plan: {dtyp: category}}", "params: unknown key 'data.columns.plan.dtyp'"),
        ("{plan: {dtype: int, mni: 0}}", "params: unknown key 'data.columns.plan.mni'"),
        ("{plan: {dtype: decimal}}", "params: data.columns.plan.dtype: unknown dtype 'decimal'"),
        ("{file: {dtype: int, min: 5, max: 1}}", "params: data.columns.file: min 5 is greater"),
        ("{plan: {dtype: str, min: 0}}", "params: data.columns.plan: 'min' is only allowed"),
    ],
)
def test_a_bad_column_declaration_is_refused_by_compose_naming_the_key(
    columns: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        compose_params(PARAMS, [*FILE_DATA, f"data.columns={columns}"])
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_check_refuses_a_typo_in_the_declared_columns_naming_the_key(tmp_path: Path) -> None:
    params_dir = copy_params(tmp_path)
    config = params_dir / "config.yaml"
    config.write_text(config.read_text().replace("- data: synthetic", "- data: file"))
    data_file = params_dir / "data" / "file.yaml"
    text = data_file.read_text().replace("path: ???", "path: data/raw/x.csv")
    text = text.replace("target: ???", "target: y")
    data_file.write_text(text.replace("columns: null", "columns:\n  plan: {dtyp: category}"))
    with pytest.raises(ConfigError, match=r"^params: unknown key 'data\.columns\.plan\.dtyp'"):
        check_params_file(params_dir, tmp_path / "params.yaml")


def test_declared_columns_become_the_data_contract() -> None:
    from mergeml.data.spec import ColumnSpec, TableSpec

    columns = "{amount: {dtype: float, min: 0}, plan: {dtype: category, categories: [a, b]}}"
    params = parse_params(compose_params(PARAMS, [*FILE_DATA, f"data.columns={columns}"]))
    assert params.data.columns is not None  # type: ignore[union-attr]
    assert TableSpec.from_config(params.data.columns) == TableSpec(  # type: ignore[union-attr]
        columns=(
            ColumnSpec("amount", "float", min=0),
            ColumnSpec("plan", "category", categories=("a", "b")),
        )
    )
