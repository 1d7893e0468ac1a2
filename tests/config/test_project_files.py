"""The committed project files keep the decisions the pipeline relies on."""

from __future__ import annotations

import configparser

import yaml

from tests.projects import ROOT

DVC_YAML = yaml.safe_load((ROOT / "dvc.yaml").read_text())


def outs(stage: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for key in ("outs", "metrics"):
        for item in DVC_YAML["stages"][stage].get(key, []):
            name, opts = next(iter(item.items())) if isinstance(item, dict) else (item, {})
            found[name] = opts
    return found


def test_dvc_hydra_composition_stays_off() -> None:
    # DVC composes only on `dvc exp run` and the compose stage would overwrite it.
    config = configparser.ConfigParser()
    config.read(ROOT / ".dvc" / "config")
    hydra = config["hydra"] if config.has_section("hydra") else {}
    assert str(hydra.get("enabled", "false")).lower() == "false"


def test_params_yaml_is_a_persistent_uncached_output_of_compose() -> None:
    assert outs("compose")["params.yaml"] == {"cache": False, "persist": True}


def test_reports_are_git_tracked_not_cached() -> None:
    assert outs("prepare")["reports/data.json"] == {"cache": False}
    assert outs("evaluate")["reports/plots"] == {"cache": False}
    assert outs("evaluate")["reports/metrics.json"] == {"cache": False}


def test_the_model_is_a_named_artifact() -> None:
    (name, spec), *_ = DVC_YAML["artifacts"].items()
    assert spec["path"] == "models/model.skops"
    assert spec["type"] == "model"
    assert name == "tabular-model"
    assert "models/model.skops" in outs("train")


def test_every_stage_but_compose_declares_params_and_none_depends_on_all_of_src() -> None:
    for name, stage in DVC_YAML["stages"].items():
        assert not {"src", "src/mergeml"} & set(stage["deps"]), name
        if name != "compose":
            assert stage.get("params"), name


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make repro" in readme
    assert "make test" in readme


def test_data_raw_is_tracked_and_dvc_sees_its_dvc_files() -> None:
    from scmrepo.git import Git  # the ignore rules as DVC reads them

    prepare_deps = DVC_YAML["stages"]["prepare"]["deps"]
    assert "data/raw" in prepare_deps
    assert (ROOT / "data/raw/README.md").is_file()
    scm = Git(ROOT)
    # DVC skips every directory it thinks ignored when it collects .dvc files.
    assert not scm.is_ignored(f"{ROOT}/data/")
    assert not scm.is_ignored(f"{ROOT}/data/raw/")
    assert not scm.is_ignored(f"{ROOT}/data/raw/churn.csv.dvc")
    assert scm.is_ignored(f"{ROOT}/data/prepared/")
