"""The real pipeline: `dvc repro` in temporary git repositories, on tiny data."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers import dvc, git, mergeml, run
from tests.projects import ROOT

pytestmark = pytest.mark.pipeline

STAGES = ("compose", "prepare", "train", "schema", "profile", "evaluate")


def lock(path: Path) -> dict:
    return yaml.safe_load((path / "dvc.lock").read_text())


def out_md5(path: Path, out: str) -> str:
    for stage in lock(path)["stages"].values():
        for item in stage.get("outs", []):
            if item["path"] == out:
                return item["md5"]
    raise AssertionError(f"{out} not in dvc.lock")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def test_repro_builds_every_output_and_leaves_a_clean_tree(built_project: Path) -> None:
    metrics = json.loads((built_project / "reports/metrics.json").read_text())
    assert {"roc_auc", "average_precision", "log_loss", "f1"} <= set(metrics)
    assert metrics["support"]["test_rows"] == 600
    assert set(lock(built_project)["stages"]) == set(STAGES)
    assert (built_project / "models/model.skops").is_file()
    assert git(built_project, "status", "--porcelain") == ""
    assert "up to date" in dvc(built_project, "status").stdout


def test_outputs_hold_no_paths_hostnames_or_timings(built_project: Path) -> None:
    files = [built_project / "params.yaml", built_project / "dvc.lock"]
    files += [p for p in (built_project / "reports").rglob("*") if p.is_file()]
    assert len(files) >= 6
    for path in files:
        text = path.read_text()
        assert str(built_project) not in text, path
        assert "/tmp" not in text, path
        assert not re.search(r"\b(time|seconds|duration|hostname)\b", text), path


def test_a_model_only_change_skips_prepare(project: Path) -> None:
    edit(project / "params/model/hist_gradient_boosting.yaml", "max_iter: 20", "max_iter: 25")
    out = dvc(project, "repro").stdout
    assert "Stage 'prepare' didn't change, skipping" in out
    for stage in ("compose", "train", "evaluate"):
        assert f"Running stage '{stage}'" in out
    assert yaml.safe_load((project / "params.yaml").read_text())["model"]["max_iter"] == 25


def test_reverting_a_change_restores_outputs_from_the_run_cache(project: Path) -> None:
    before = out_md5(project, "models/model.skops")
    model_file = project / "params/model/hist_gradient_boosting.yaml"
    edit(model_file, "max_iter: 20", "max_iter: 22")
    dvc(project, "repro")
    assert out_md5(project, "models/model.skops") != before
    edit(model_file, "max_iter: 22", "max_iter: 20")
    out = dvc(project, "repro").stdout
    assert "Stage 'train' is cached - skipping run" in out
    assert out_md5(project, "models/model.skops") == before
    assert git(project, "status", "--porcelain") == ""


def declared_params(stage: str) -> list[str]:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][stage].get("params", [])


@pytest.mark.parametrize("stage", ["prepare", "train", "evaluate", "profile"])
def test_changing_any_declared_key_marks_its_stage_changed(project: Path, stage: str) -> None:
    params_file = project / "params.yaml"
    original = params_file.read_text()
    for key in declared_params(stage):
        data = yaml.safe_load(original)
        parent, leaf = data, key.split(".")
        for part in leaf[:-1]:
            parent = parent[part]
        parent[leaf[-1]] = {"changed": True}
        params_file.write_text(yaml.safe_dump(data))
        status = json.loads(dvc(project, "status", "--json", stage).stdout)
        assert stage in status, f"changing {key} did not mark {stage} changed"
    params_file.write_text(original)


@pytest.mark.parametrize("stage", STAGES)
def test_every_imported_source_file_is_a_declared_dependency(project: Path, stage: str) -> None:
    deps = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][stage]["deps"]
    proc = run([sys.executable, "-X", "importtime", f"pipelines/{stage}.py"], project, check=False)
    modules = {
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }
    ours = sorted(m for m in modules if m == "mergeml" or m.startswith("mergeml."))
    assert ours, proc.stderr[-2000:]
    for module in ours:
        rel = Path("src", *module.split("."))
        path = rel / "__init__.py" if (ROOT / rel).is_dir() else rel.with_suffix(".py")
        if path.name == "__init__.py" and len((ROOT / path).read_text().splitlines()) <= 3:
            continue  # a package marker holding only a docstring (and the version)
        covered = any(path.as_posix() == d or path.as_posix().startswith(d + "/") for d in deps)
        assert covered, f"stage {stage} imports {module} ({path}) but does not declare it"


def test_push_then_pull_into_a_second_clone_needs_no_rerun(project: Path, tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    dvc(project, "remote", "modify", "--local", "local", "url", str(storage))
    dvc(project, "push")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(project), str(clone))
    dvc(clone, "remote", "modify", "--local", "local", "url", str(storage))
    dvc(clone, "pull")
    assert (clone / "models/model.skops").read_bytes() == (
        project / "models/model.skops"
    ).read_bytes()
    assert "up to date" in dvc(clone, "status").stdout
    out = dvc(clone, "repro").stdout
    assert "Running stage" not in out


def test_a_corrupted_remote_object_is_never_checked_out_and_a_push_heals_it(
    project: Path, tmp_path: Path
) -> None:
    storage = tmp_path / "storage"
    dvc(project, "remote", "modify", "--local", "local", "url", str(storage))
    dvc(project, "push")
    md5 = out_md5(project, "models/model.skops")
    obj = storage / "files" / "md5" / md5[:2] / md5[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"corrupted")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(project), str(clone))
    dvc(clone, "remote", "modify", "--local", "local", "url", str(storage))
    assert dvc(clone, "pull", check=False).returncode != 0
    model = clone / "models/model.skops"
    assert not model.exists() or model.read_bytes() != b"corrupted"
    # The intact cache in the first clone heals the remote.
    obj.unlink(missing_ok=True)
    dvc(project, "push")
    dvc(clone, "pull")
    assert model.read_bytes() == (project / "models/model.skops").read_bytes()


def test_a_tampered_model_is_refused_before_loading(project: Path) -> None:
    model = project / "models/model.skops"
    model.chmod(0o644)
    model.write_bytes(model.read_bytes()[:-10] + b"0123456789")
    proc = mergeml(project, "model", "check")
    assert proc.returncode == 1
    assert "does not match dvc.lock" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run([sys.executable, "pipelines/evaluate.py"], project, check=False)
    assert proc.returncode == 1
    assert "does not match dvc.lock" in proc.stderr


def test_model_check_compares_a_downloaded_copy_with_the_model_artifacts_lock_entry(
    project: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "downloaded.skops"
    copy.write_bytes((project / "models/model.skops").read_bytes())
    lock = str(project / "dvc.lock")
    proc = mergeml(project, "model", "check", str(copy), "--lock", lock)
    assert proc.returncode == 0, proc.stderr
    assert "md5 matches models/model.skops" in proc.stdout

    tampered = tmp_path / "tampered.skops"
    tampered.write_bytes(copy.read_bytes()[:-10] + b"0123456789")
    proc = mergeml(project, "model", "check", str(tampered), "--lock", lock)
    assert proc.returncode == 1
    assert "does not match dvc.lock" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lock", "/nonexistent/dvc.lock"], "lock file not found: /nonexistent/dvc.lock"),
        (["--out", "models/other.skops"], "records no md5 for output models/other.skops"),
    ],
)
def test_model_check_without_a_lock_entry_is_an_error(
    project: Path, args: list[str], message: str
) -> None:
    proc = mergeml(project, "model", "check", *args)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_model_check_finds_the_artifact_through_dvc_yaml_and_no_lock_skips_the_md5(
    project: Path,
) -> None:
    dvc_yaml = project / "dvc.yaml"
    dvc_yaml.write_text(dvc_yaml.read_text().split("\nartifacts:")[0] + "\n")
    proc = mergeml(project, "model", "check")
    assert proc.returncode == 1
    assert "declares no model artifact" in proc.stderr
    proc = mergeml(project, "model", "check", "--no-lock")
    assert proc.returncode == 0, proc.stderr
    assert "md5 not compared" in proc.stdout


def write_csv(project: Path, frame: pd.DataFrame, name: str = "data/raw/input.csv") -> str:
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    git(project, "add", name)  # an untracked data file is refused
    return name


def use_file_source(project: Path, rel: str, target: str, task: str = "classification") -> None:
    edit(project / "params/config.yaml", "  - data: synthetic", "  - data: file")
    edit(project / "params/data/file.yaml", "path: ???", f"path: {rel}")
    edit(project / "params/data/file.yaml", "target: ???", f"target: {target}")
    edit(project / "params/data/file.yaml", "task: classification", f"task: {task}")


def test_bad_user_data_fails_in_prepare_and_writes_no_outputs(project: Path) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, float("inf"), 4.0] * 10, "label": [0, 1] * 20})
    frame.loc[3, "x"] = None
    rel = write_csv(project, frame.drop(columns=["label"]).assign(other=1))
    use_file_source(project, rel, "label")
    model_before = (project / "models/model.skops").read_bytes()
    proc = dvc(project, "repro", check=False)
    assert proc.returncode != 0
    assert "target column 'label' not found" in proc.stdout + proc.stderr
    assert not (project / "data/prepared/train.parquet").exists()
    assert (project / "models/model.skops").read_bytes() == model_before  # nothing trained


def test_a_users_csv_trains_with_config_only(project: Path) -> None:
    rng = __import__("numpy").random.default_rng(0)
    x = rng.normal(size=400)
    frame = pd.DataFrame(
        {
            "x": x,
            "colour": rng.choice(["red", "green"], size=400),
            "label": (x + rng.normal(scale=0.5, size=400) > 0).astype(int),
        }
    )
    rel = write_csv(project, frame)
    use_file_source(project, rel, "label")
    dvc(project, "repro")
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert metrics["roc_auc"] > 0.8
    assert json.loads((project / "reports/data.json").read_text())["features"] == {
        "categorical": 1,
        "numeric": 1,
    }


def test_regression_data_produces_regression_metrics_and_plots(project: Path) -> None:
    edit(project / "params/config.yaml", "  - data: synthetic", "  - data: diabetes")
    edit(project / "params/config.yaml", "  - model: hist_gradient_boosting", "  - model: ridge")
    dvc(project, "repro")
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert set(metrics) == {"rmse", "mae", "r2", "support"}
    plots = sorted(p.name for p in (project / "reports/plots").iterdir())
    assert plots == ["predictions.json", "residuals.json"]
    shown = json.loads(dvc(project, "plots", "show", "--json").stdout)
    failed = {e["source"] for e in shown.get("errors", [])}
    assert "reports/plots/predictions.json" not in failed
    assert "reports/plots/residuals.json" not in failed


def test_dvc_plots_render_for_classification(project: Path) -> None:
    shown = json.loads(dvc(project, "plots", "show", "--json").stdout)
    failed = {e["source"] for e in shown.get("errors", [])}
    assert not failed & {
        f"reports/plots/{n}.json" for n in ("roc", "precision_recall", "confusion")
    }
    assert {"ROC", "Precision-recall", "Confusion matrix"} <= set(shown["data"])


def test_same_params_and_data_give_identical_outputs_in_two_fresh_projects(
    fresh_project: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    shutil.copytree(fresh_project, other)
    for path in (fresh_project, other):
        dvc(path, "repro")
    assert lock(fresh_project) == lock(other)
    for rel in ("params.yaml", "reports/metrics.json", "reports/plots/roc.json"):
        assert (fresh_project / rel).read_bytes() == (other / rel).read_bytes()
