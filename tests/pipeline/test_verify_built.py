"""`mergeml verify-built` and `mergeml repro --numerics pinned` on real rebuilds.

The logistic-regression model goes through BLAS, so other OpenBLAS kernels or thread
counts change its last bits: a real "rebuilt on different hardware" on this machine.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import git, make_project, mergeml, private_copy, run

pytestmark = pytest.mark.pipeline

MODEL = "models/model.skops"
# Two "machines": the kernels and thread counts OpenBLAS would pick on different CPUs.
MACHINE_A = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
MACHINE_B = {"OPENBLAS_CORETYPE": "Sandybridge", "OPENBLAS_NUM_THREADS": "1"}


def model_md5(repo: Path) -> str:
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    (md5,) = {o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"] == MODEL}
    return str(md5)


def repro(repo: Path, env: dict[str, str], *args: str) -> None:
    run(["dvc", "repro", "-q", *args], repo, env=env)


@pytest.fixture(scope="module")
def lr_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny logistic-regression project built on machine A and committed."""
    repo = make_project(tmp_path_factory.mktemp("lr") / "repo")
    config = repo / "params/config.yaml"
    config.write_text(
        config.read_text().replace(
            "- model: hist_gradient_boosting", "- model: logistic_regression"
        )
    )
    repro(repo, MACHINE_A)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "logistic regression, built on machine A")
    return repo


@pytest.fixture
def lr(lr_built: Path, tmp_path: Path) -> Path:
    return private_copy(lr_built, tmp_path / "repo")


def test_a_rebuild_on_the_same_machine_is_identical(lr: Path) -> None:
    repro(lr, MACHINE_A, "-f")
    proc = mergeml(lr, "verify-built")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("verify-built: identical")
    assert f"promoted artifact: {MODEL} md5 {model_md5(lr)}" in proc.stdout


def test_a_rebuild_under_other_blas_kernels_is_equivalent_and_the_report_says_so(
    lr: Path, tmp_path: Path
) -> None:
    committed = model_md5(lr)
    repro(lr, MACHINE_B, "-f")
    assert model_md5(lr) != committed, "other kernels should change the model's last bits"
    verdict = tmp_path / "verdict.json"
    proc = mergeml(lr, "verify-built", "--out", str(verdict))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "equivalent within tolerance (rebuilt on different hardware)" in proc.stdout
    model_line = next(line for line in proc.stdout.splitlines() if f" {MODEL}:" in line)
    assert model_line.split()[0] == "equivalent"
    assert "predictions on data/prepared/test.parquet: max |Δ|" in model_line
    # The promoted artifact stays the reviewed one.
    assert f"promoted artifact: {MODEL} md5 {committed}" in proc.stdout
    doc = json.loads(verdict.read_text())
    assert doc["outcome"] == "equivalent"
    assert doc["promoted"] == {MODEL: committed}

    report = mergeml(lr, "report", "--base", "HEAD", "--build", str(verdict))
    assert report.returncode == 0, report.stderr
    assert "### Build (`mergeml verify-built`)" in report.stdout
    assert "equivalent within tolerance" in report.stdout
    assert f"md5 `{committed}`" in report.stdout


def test_a_changed_metric_fails_naming_the_file_and_the_metric(lr: Path) -> None:
    metrics = lr / "reports/metrics.json"
    doc = json.loads(metrics.read_text())
    doc["roc_auc"] = round(doc["roc_auc"] - 0.05, 6)
    metrics.write_text(json.dumps(doc, indent=2) + "\n")
    git(lr, "commit", "-q", "-am", "claim a better roc_auc than the model has")
    repro(lr, MACHINE_B, "-f")
    proc = mergeml(lr, "verify-built")
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert "reports/metrics.json" in line
    assert "roc_auc differs by 0.05" in line
    assert "beyond tolerance" in line


def test_a_source_changed_after_the_build_fails_whatever_the_outputs(lr: Path) -> None:
    train = lr / "pipelines/train.py"
    train.write_text(train.read_text() + "\n# edited after the build\n")
    git(lr, "commit", "-q", "-am", "edit the stage without rebuilding")
    repro(lr, MACHINE_A)
    proc = mergeml(lr, "verify-built")
    assert proc.returncode == 1
    assert "source pipelines/train.py" in proc.stderr
    assert "code, params or data changed after the build" in proc.stderr


def test_a_hand_edited_params_yaml_fails(lr: Path) -> None:
    params = lr / "params.yaml"
    params.write_text(params.read_text().replace("C: 1.0", "C: 0.5"))
    git(lr, "commit", "-q", "-am", "edit params.yaml by hand")
    repro(lr, MACHINE_A)
    proc = mergeml(lr, "verify-built")
    assert proc.returncode == 1
    assert "params.yaml" in proc.stderr


def test_an_unavailable_committed_model_is_not_compared_and_strict_refuses_it(lr: Path) -> None:
    shutil.rmtree(lr / ".dvc/cache")
    repro(lr, MACHINE_B, "-f")
    proc = mergeml(lr, "verify-built")
    assert proc.returncode == 0, proc.stderr
    model_line = next(line for line in proc.stdout.splitlines() if f" {MODEL}:" in line)
    assert model_line.split()[:2] == ["not", "compared"]
    assert "neither the DVC cache nor the remote" in model_line
    strict = mergeml(lr, "verify-built", "--strict")
    assert strict.returncode == 1
    assert f"not compared by content: {MODEL}" in strict.stderr


def test_pinned_numerics_build_the_same_model_bytes_on_both_machines(
    lr_built: Path, tmp_path: Path
) -> None:
    md5s = {}
    for name, machine in (("a", MACHINE_A), ("b", MACHINE_B)):
        repo = private_copy(lr_built, tmp_path / name)
        run(["mergeml", "repro", "--numerics", "pinned", "-f", "-q"], repo, env=machine)
        pinned = model_md5(repo)
        repro(repo, machine, "-f")  # the control: native kernels differ between machines
        md5s[name] = (pinned, model_md5(repo))
    assert md5s["a"][1] != md5s["b"][1], "native builds must differ, or this test shows nothing"
    assert md5s["a"][0] == md5s["b"][0]


def test_the_project_setting_pins_numerics_for_make_repro(lr: Path) -> None:
    pyproject = lr / "pyproject.toml"
    pyproject.write_text('[tool.mergeml.build]\nnumerics = "pinned"\n')
    proc = run(["mergeml", "repro", "-f", "-q"], lr, env=MACHINE_B)
    assert "pinned numerics" in proc.stderr
    pyproject.write_text('[tool.mergeml.build]\nnumerics = "fast"\n')
    proc = run(["mergeml", "repro"], lr, check=False)
    assert proc.returncode == 1
    assert "numerics must be one of native, pinned" in proc.stderr
