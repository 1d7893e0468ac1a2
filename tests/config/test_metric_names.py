"""An unknown metric name is refused when parameters are composed (issue 10, item 11).

It used to pass `mergeml params compose` and `mergeml exp run --dry-run`, and fail only
in the evaluate stage, after training.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from mergeml.config.compose import compose_params
from mergeml.config.metric_names import CLASSIFICATION_METRICS, REGRESSION_METRICS
from mergeml.config.schema import EvaluateParams, parse_params, parse_section
from mergeml.errors import ConfigError
from mergeml.evaluation import catalog
from mergeml.pipeline import child
from tests.helpers import git, make_project, mergeml, run

ROOT = Path(__file__).resolve().parents[2]
VALID = ", ".join(CLASSIFICATION_METRICS)


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def params_repo(path: Path, typo: bool = True) -> Path:
    """A git repository holding this project's params/, `f1` misspelt `f1x` when ``typo``."""
    path.mkdir(parents=True)
    shutil.copytree(ROOT / "params", path / "params")
    shutil.copy2(ROOT / "dvc.yaml", path / "dvc.yaml")
    evaluate = path / "params" / "evaluate" / "default.yaml"
    if typo:
        text = evaluate.read_text()
        assert "recall, f1, roc_auc" in text
        evaluate.write_text(text.replace("recall, f1, roc_auc", "recall, f1x, roc_auc"))
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "params")
    return path


EXPECTED = (
    "evaluate.classification_metrics: unknown classification metric 'f1x' (valid: " + VALID + ")"
)


def test_params_compose_refuses_an_unknown_metric(tmp_path: Path) -> None:
    repo = params_repo(tmp_path / "repo")
    proc = mergeml(repo, "params", "compose")
    assert proc.returncode != 0
    assert EXPECTED in one_error_line(proc.stderr)
    assert not (repo / "params.yaml").exists()


def test_exp_run_dry_run_refuses_an_unknown_metric(tmp_path: Path) -> None:
    repo = params_repo(tmp_path / "repo")
    proc = mergeml(repo, "exp", "run", "--dry-run")
    assert proc.returncode != 0
    assert EXPECTED in one_error_line(proc.stderr)
    assert "[1/1]" not in proc.stdout


def test_exp_run_dry_run_refuses_an_unknown_metric_in_an_override(tmp_path: Path) -> None:
    repo = params_repo(tmp_path / "repo", typo=False)
    proc = mergeml(repo, "exp", "run", "--dry-run", "evaluate.regression_metrics=[rmse,mape]")
    assert proc.returncode != 0
    line = one_error_line(proc.stderr)
    assert "evaluate.regression_metrics: unknown regression metric 'mape'" in line
    assert "(valid: rmse, mae, r2)" in line


def test_the_compose_stage_refuses_an_unknown_metric(tmp_path: Path) -> None:
    repo = params_repo(tmp_path / "repo")
    proc = run([sys.executable, str(ROOT / "pipelines" / "compose.py")], repo, check=False)
    assert proc.returncode != 0
    assert EXPECTED in one_error_line(proc.stderr)
    assert not (repo / "params.yaml").exists()


def test_known_names_compose() -> None:
    data = compose_params(ROOT / "params", check_estimators=False)
    assert tuple(data["evaluate"]["classification_metrics"]) == CLASSIFICATION_METRICS
    assert tuple(data["evaluate"]["regression_metrics"]) == REGRESSION_METRICS


@pytest.mark.parametrize("key", ["classification_metrics", "regression_metrics"])
def test_the_evaluate_stage_reads_the_same_rule(key: str) -> None:
    section = {
        "threads": 1,
        "data": {"task": "classification", "target": "y"},
        "evaluate": {"classification_metrics": ["f1"], "regression_metrics": ["r2"]},
    }
    section["evaluate"][key] = ["accuracy", "r2"] if key == "regression_metrics" else ["r2"]
    with pytest.raises(ConfigError, match=rf"evaluate\.{key}: unknown .* metric "):
        parse_section(EvaluateParams, section, where="params.yaml")


def test_the_catalog_is_the_one_list() -> None:
    assert catalog.CLASSIFICATION_METRICS is CLASSIFICATION_METRICS
    assert catalog.REGRESSION_METRICS is REGRESSION_METRICS
    data = compose_params(ROOT / "params", check_estimators=False)
    data["evaluate"]["classification_metrics"] = ["f1", "F1"]
    with pytest.raises(ConfigError, match="unknown classification metric 'F1'"):
        parse_params(data)


# --- DVC's "failed to reproduce", once ------------------------------------------------------


@pytest.mark.pipeline
def test_a_failed_experiment_shows_dvcs_error_once(tmp_path: Path) -> None:
    """`dvc exp run --temp` logs it twice (its executor, then its CLI); mergeml relays one."""
    project = make_project(tmp_path / "project")
    stage = project / "pipelines" / "evaluate.py"
    stage.write_text('import sys\nsys.exit("evaluate: failing on purpose")\n' + stage.read_text())
    git(project, "commit", "-q", "-am", "a stage that fails")
    proc = mergeml(project, "exp", "run")
    assert proc.returncode != 0
    assert proc.stderr.count("failed to reproduce 'evaluate'") == 1, proc.stderr
    assert proc.stderr.count("evaluate: failing on purpose") == 1


class _Bytes:
    def __init__(self) -> None:
        self.data = b""
        self.buffer = self

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)

    def flush(self) -> None:
        pass


def test_the_relay_drops_only_a_repeated_error_line() -> None:
    out = _Bytes()
    relay = child._OnceErrors(out)
    for chunk in (b"ERROR: failed to repro", b"duce 'x'\nERROR: failed to reproduce 'x'\n", b"a\n"):
        relay.write(chunk)
    relay.write(b"a\nERROR: other\npartial")
    relay.end()
    assert out.data == b"ERROR: failed to reproduce 'x'\na\na\nERROR: other\npartial"
