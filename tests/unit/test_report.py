"""The PR report compares two real commits (or a commit and the workspace) and stays inert."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mergeml.markdown import fmt
from mergeml.review.report import (
    MARKER,
    MAX_BODY,
    Report,
    build_report,
    render_json,
    render_markdown,
)
from mergeml.review.report.curves import binned_predictions, pr_on_grid, roc_on_grid
from mergeml.scm import Git
from tests.helpers import git
from tests.projects import ROOT

EVIL_BRANCH = "a$(id)b"
EVIL_VALUE = '"; curl x | sh; #'
SCRIPT = "<script>alert(1)</script>"
REPORT_FILES = (
    "reports/metrics.json",
    "reports/data.json",
    "reports/plots/roc.json",
    "reports/plots/precision_recall.json",
    "reports/plots/confusion.csv",
)
# The feature branch moves the committed metrics: roc_auc and log_loss better, accuracy
# worse, recall as it was (so the test follows whatever the committed model scores).
_COMMITTED = json.loads((ROOT / "reports/metrics.json").read_text(encoding="utf-8"))
FEATURE_METRICS = {
    "roc_auc": round(_COMMITTED["roc_auc"] + 0.002, 6),
    "log_loss": round(_COMMITTED["log_loss"] - 0.01, 6),
    "accuracy": round(_COMMITTED["accuracy"] - 0.01, 6),
    "recall": _COMMITTED["recall"],
}


def _committed_confusion_row(label: str) -> str:
    """The Markdown row of the committed confusion matrix for actual class ``label``."""
    text = (ROOT / "reports/plots/confusion.csv").read_text(encoding="utf-8")
    pairs = [line.split(",") for line in text.splitlines()[1:] if line]
    counts = [sum(1 for a, p in pairs if a == label and p == c) for c in ("0", "1")]
    return f"| **{label}** | {counts[0]} | {counts[1]} |"


def _prepared_md5() -> str:
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text(encoding="utf-8"))
    (md5,) = [o["md5"] for o in lock["stages"]["prepare"]["outs"] if o["path"] == "data/prepared"]
    return str(md5)


def _write(repo: Path, rel: str, text: str) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text(text, encoding="utf-8")


def _params(repo: Path) -> dict[str, Any]:
    return yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))


def _set_params(repo: Path, data: dict[str, Any]) -> None:
    _write(repo, "params.yaml", yaml.safe_dump(data, sort_keys=False))


def _metrics(repo: Path) -> dict[str, Any]:
    return json.loads((repo / "reports/metrics.json").read_text(encoding="utf-8"))


def _set_metrics(repo: Path, data: dict[str, Any]) -> None:
    _write(repo, "reports/metrics.json", json.dumps(data, indent=2))


def _commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def _branch(repo: Path, name: str, start: str = "main") -> None:
    git(repo, "checkout", "-q", "-b", name, start)


def _feature(repo: Path) -> None:
    _branch(repo, "feature")
    params = _params(repo)
    params["model"]["learning_rate"] = 0.05
    _set_params(repo, params)
    _set_metrics(repo, {**_metrics(repo), **FEATURE_METRICS})
    roc = json.loads((repo / "reports/plots/roc.json").read_text(encoding="utf-8"))
    _write(repo, "reports/plots/roc.json", json.dumps([{**p, "tpr": 1.0} for p in roc[1:]]))
    _commit(repo, "tune")


def _swap(repo: Path) -> None:
    _branch(repo, "swap")
    params = _params(repo)
    params["model"] = {"_target_": "sklearn.linear_model.LogisticRegression", "C": 1.0}
    _set_params(repo, params)
    _commit(repo, "swap")


def _evil(repo: Path) -> None:
    _branch(repo, EVIL_BRANCH)
    params = _params(repo)
    params["data"]["note"] = EVIL_VALUE
    params["model"][SCRIPT] = SCRIPT
    params["model"]["ping"] = "@everyone `rm -rf /` [x](javascript:alert(1))"
    _set_params(repo, params)
    _set_metrics(repo, {**_metrics(repo), "<img src=x onerror=alert(1)>": 1.0})
    _commit(repo, "evil")


def _big(repo: Path) -> None:
    _branch(repo, "big-base")
    params = _params(repo)
    params["extra"] = {f"key_{i:04d}": "old-value" for i in range(5000)}
    _set_params(repo, params)
    _commit(repo, "many params")
    _branch(repo, "big", "big-base")
    params["extra"] = {f"key_{i:04d}": "a-rather-longer-new-value" for i in range(5000)}
    _set_params(repo, params)
    _commit(repo, "change them all")


def _nan(repo: Path) -> None:
    _branch(repo, "nan")
    _write(repo, "reports/metrics.json", '{"roc_auc": NaN, "log_loss": Infinity, "f1": 0.3}')
    _commit(repo, "nan")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`first` has no reports (a first PR's base); `main` has them; branches change things."""
    path = tmp_path_factory.mktemp("report") / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    for name in ("params.yaml", "dvc.yaml"):
        shutil.copy(ROOT / name, path / name)
    _commit(path, "project")
    git(path, "tag", "first")
    for name in ("dvc.lock", *REPORT_FILES):
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, path / name)
    _commit(path, "reports")
    for make in (_feature, _swap, _evil, _big, _nan):
        make(path)
        git(path, "checkout", "-q", "main")
    return path


def report(repo: Path, base: str, head: str | None) -> Report:
    return build_report(Git(repo), base, head, repo)


def metric_cells(body: str) -> dict[str, list[str]]:
    """``{metric: [base, head, change, relative, marker]}`` from the Metrics table."""
    section = body.split("### Metrics", 1)[1].split("###", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    cells = [[c.strip() for c in row.strip("|").split(" | ")] for row in rows]
    return {c[0]: c[1:] for c in cells}


def test_the_marker_is_the_first_line_and_the_verdict_counts_gates(repo: Path) -> None:
    data = report(repo, "main", "feature")
    body = render_markdown(data)
    assert body.splitlines()[0] == MARKER
    assert data["verdict"] == {
        "passed": True,
        "passed_gates": 4,
        "failed_gates": 0,
        "skipped_gates": 1,
        "reasons": [],
    }
    assert "✅ **Gates passed**: 4 passed, 0 failed, 1 skipped" in body
    head = data["head"]["sha"][:7]
    assert f"**Base:** main @ {data['base']['short']} · **Head:** feature @ {head}" in body


def test_a_changed_model_parameter_shows_old_and_new_value(repo: Path) -> None:
    body = render_markdown(report(repo, "main", "feature"))
    assert "| model.learning_rate | 0.1 | 0.05 |" in body
    assert "model.max_iter" not in body  # unchanged keys are not listed
    assert "tabular-model" in body  # the artifact name from dvc.yaml


def test_every_metric_value_equals_the_metrics_files(repo: Path) -> None:
    base = ROOT / "reports/metrics.json"
    before = json.loads(base.read_text(encoding="utf-8"))
    after = {**before, **FEATURE_METRICS}
    cells = metric_cells(render_markdown(report(repo, "main", "feature")))
    numeric = {k for k, v in before.items() if isinstance(v, int | float)}
    assert set(cells) == numeric  # nested `support` is left out
    for name in numeric:
        assert float(cells[name][0]) == pytest.approx(before[name], rel=1e-6)
        assert float(cells[name][1]) == pytest.approx(after[name], rel=1e-6)


def test_markers_follow_each_metrics_direction(repo: Path) -> None:
    cells = metric_cells(render_markdown(report(repo, "main", "feature")))
    assert cells["log_loss"][4] == "✅ better"  # lower is better
    assert cells["roc_auc"][4] == "✅ better"
    assert cells["accuracy"][4] == "❌ worse"
    assert cells["recall"][4] == "= unchanged"
    assert cells["log_loss"][2].startswith("-")


def test_a_model_class_swap_is_shown_first(repo: Path) -> None:
    data = report(repo, "main", "swap")
    body = render_markdown(data)
    swap = (
        "**model class changed:** sklearn.ensemble.HistGradientBoostingClassifier → "
        "sklearn.linear_model.LogisticRegression"
    )
    assert swap in body
    assert body.index(swap) < body.index("| parameter |")
    assert "| model.C | _(added)_ | 1.0 |" in body
    assert "| model.max_iter | 200 | _(removed)_ |" in body
    assert data["params"]["model_class"]["new"] == "sklearn.linear_model.LogisticRegression"


@pytest.mark.parametrize("head", ["main", None])
def test_a_first_pull_request_renders_without_base_metrics(repo: Path, head: str | None) -> None:
    data = report(repo, "first", head)
    body = render_markdown(data)
    assert "metrics not available at first" in body
    assert data["verdict"]["passed"]  # thresholds pass; vs-base gates skip
    assert "skip (metrics not available at first)" in body
    assert "xychart-beta" in body
    json.loads(render_json(data))


def test_missing_head_metrics_fail_the_verdict(repo: Path) -> None:
    data = report(repo, "main", "first")
    body = render_markdown(data)
    assert not data["verdict"]["passed"]
    assert "❌ **Gates failed**" in body
    assert "metrics not available at first" in body


def test_non_finite_metrics_are_shown_and_fail(repo: Path) -> None:
    data = report(repo, "main", "nan")
    cells = metric_cells(render_markdown(data))
    assert cells["roc_auc"][1] == "NaN"
    assert cells["log_loss"][1] == "inf"
    assert cells["roc_auc"][4] == "⚠️ not comparable"
    assert not data["verdict"]["passed"]
    assert json.loads(render_json(data))["metrics"]["rows"][0]["head"] == "nan"


def test_hostile_names_and_values_render_as_inert_text(repo: Path) -> None:
    data = report(repo, "main", EVIL_BRANCH)
    body = render_markdown(data)
    assert f"**Head:** {EVIL_BRANCH} @" in body  # plain text, not inside a code span
    assert f"`{EVIL_BRANCH}" not in body
    assert "&quot;; curl x &#124; sh; #" in body
    assert EVIL_VALUE not in body
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "@everyone" not in body
    assert "`rm -rf /`" not in body
    assert "](javascript:" not in body
    assert body.count("<") == body.count("<!-- mergeml-report -->")  # only our marker is HTML
    assert json.loads(render_json(data))["head"]["ref"] == EVIL_BRANCH


def test_the_body_stays_under_the_limit_with_5000_changed_params(repo: Path) -> None:
    data = report(repo, "big-base", "big")
    assert len(data["params"]["changes"]) == 5000
    body = render_markdown(data)
    assert len(body) < MAX_BODY
    assert "Curves omitted" in body
    assert "more parameter change(s) not shown" in body
    assert "### Gates" in body
    assert "### Metrics" in body
    assert "| extra.key_0000 | old-value | a-rather-longer-new-value |" in body


def test_any_report_is_cut_below_a_small_limit(repo: Path) -> None:
    body = render_markdown(report(repo, "main", "feature"), limit=1500)
    assert len(body) < 1500
    assert body.startswith(MARKER)
    assert "truncated" in body


def test_curves_are_mermaid_xy_charts_on_a_common_grid(repo: Path) -> None:
    data = report(repo, "main", "feature")
    body = render_markdown(data)
    assert body.count("```mermaid\nxychart-beta") == 2
    assert 'title "ROC: base vs head"' in body
    assert "dvc plots diff" in body
    for curve in data["curves"]:
        assert len(curve["x"]) == 21
        assert [s["name"] for s in curve["series"]] == ["base", "head"]
        assert all(len(s["y"]) == 21 for s in curve["series"])
        assert all(v == round(v, 3) for s in curve["series"] for v in s["y"])
    roc = data["curves"][0]["series"]
    assert roc[0]["y"] != roc[1]["y"]


def test_json_parses_and_carries_the_markdown_numbers(repo: Path) -> None:
    data = report(repo, "main", "feature")
    doc = json.loads(render_json(data))
    cells = metric_cells(render_markdown(data))
    for row in doc["metrics"]["rows"]:
        assert cells[row["name"]][:2] == [fmt(row["base"]), fmt(row["head"])]
    assert doc["verdict"] == data["verdict"]
    assert doc["params"]["changes"] == [
        {
            "file": "params.yaml",
            "key": "model.learning_rate",
            "status": "changed",
            "old": 0.1,
            "new": 0.05,
        }
    ]


def test_data_and_confusion_matrices_are_reported(repo: Path) -> None:
    data = report(repo, "main", "feature")
    body = render_markdown(data)
    assert data["data"]["changed"] is False
    assert "| train rows | 40000 | 40000 |" in body
    assert "0: 39200 (98.0%), 1: 800 (2.0%)" in body
    matrix = data["confusion"]["head"]
    assert matrix["labels"] == ["0", "1"]
    assert sum(map(sum, matrix["matrix"])) == 10000
    assert _committed_confusion_row("0") in body


def test_the_workspace_is_compared_when_head_is_none(repo: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(repo), str(work))
    params = _params(work)
    params["model"]["max_iter"] = 300
    params["data"]["n_rows"] = 1000
    _set_params(work, params)
    lock = (work / "dvc.lock").read_text(encoding="utf-8")
    (work / "dvc.lock").write_text(lock.replace(_prepared_md5(), "0" * 32))
    data = build_report(Git(work), "main", None, work)
    body = render_markdown(data)
    assert "**Head:** workspace" in body
    assert "| model.max_iter | 200 | 300 |" in body
    assert data["data"]["changed"] is True
    assert "Prepared data (`prepare` outputs in dvc.lock): **changed**" in body


def test_interpolation_on_the_grid() -> None:
    roc = [(0.0, 0.0), (0.0, 0.5), (0.5, 0.8), (1.0, 1.0)]
    assert roc_on_grid(roc, (0.0, 0.25, 0.5, 1.0)) == [0.5, 0.5, 0.8, 1.0]
    pr = [(0.0, 1.0), (0.5, 0.6), (1.0, 0.2)]
    assert pr_on_grid(pr, (0.0, 0.4, 0.5, 0.75, 1.0)) == [1.0, 0.6, 0.6, 0.2, 0.2]


def test_regression_predictions_are_binned_by_actual_quantile() -> None:
    points = [(float(i), float(i) + 1.0) for i in range(100)]
    actual, predicted = binned_predictions(points, bins=20)
    assert len(actual) == 20
    assert actual[0] == 2.0
    assert predicted[0] == 3.0
    assert all(math.isclose(p - a, 1.0) for a, p in zip(actual, predicted, strict=True))


def _with_source(work: Path, source: object) -> None:
    doc = json.loads((work / "reports/data.json").read_text(encoding="utf-8"))
    _write(work, "reports/data.json", json.dumps({**doc, "source_file": source}))


def test_the_data_source_file_and_its_md5_change_are_reported(repo: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(repo), str(work))
    md5 = "0123456789abcdef0123456789abcdef"
    _with_source(work, {"path": "data/raw/churn.csv", "md5": md5, "size": 10})
    body = render_markdown(build_report(Git(work), "main", None, work))
    assert "Source file `data/raw/churn.csv`: new in head (md5 01234567…)" in body
    _commit(work, "train on a file")
    _with_source(work, {"path": "data/raw/churn.csv", "md5": "f" * 32, "size": 10})
    data = build_report(Git(work), "HEAD", None, work)
    assert data["data"]["source"]["changed"] is True
    body = render_markdown(data)
    assert "Source file `data/raw/churn.csv`: **changed** (md5 01234567… → ffffffff…)" in body


@pytest.mark.parametrize(
    "source",
    [
        {"path": "data/raw/churn.csv", "md5": "not a md5"},
        {"path": "/etc/passwd", "md5": "0" * 32},
        {"path": 7, "md5": "0" * 32},
        "data/raw/churn.csv",
    ],
)
def test_a_malformed_source_file_entry_is_left_out(
    repo: Path, tmp_path: Path, source: object
) -> None:
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(repo), str(work))
    _with_source(work, source)
    data = build_report(Git(work), "main", None, work)
    assert data["data"]["source"] is None
    assert "Source file" not in render_markdown(data)


def test_a_hostile_source_path_renders_as_inert_text(repo: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(repo), str(work))
    _with_source(work, {"path": f"data/raw/`{SCRIPT}`@x.csv", "md5": "0" * 32, "size": 1})
    body = render_markdown(build_report(Git(work), "main", None, work))
    line = next(x for x in body.splitlines() if x.startswith("Source file"))
    assert SCRIPT not in line
    assert "`" not in line
    assert "@" not in line


def test_the_build_section_shows_the_verify_built_outcome_as_inert_text(repo: Path) -> None:
    from mergeml.review.verify import read_verdict

    verdict = {
        "outcome": "equivalent",
        "findings": [
            {"path": "models/model.skops", "status": "equivalent", "detail": "max |Δ| 3e-12"},
            {"path": "<img src=x>", "status": "not compared", "detail": "`rm -rf /`"},
            {"path": "reports", "status": "identical", "detail": "as committed"},
        ],
        "promoted": {"models/model.skops": "0123abcd"},
    }
    build = read_verdict(json.dumps(verdict), "verdict.json")
    body = render_markdown(build_report(Git(repo), "main", "feature", repo, build))
    section = body.split("### Build (`mergeml verify-built`)")[1].split("###")[0]
    assert "**equivalent within tolerance (rebuilt on different hardware)**" in section
    assert "| equivalent | `models/model.skops` | max &#124;Δ&#124; 3e-12 |" in section
    assert "<img" not in section
    assert "`rm" not in section
    assert "reports" not in section  # identical outputs are not listed
    assert "Promotion uses `models/model.skops` md5 `0123abcd`" in section
    assert "### Build" not in render_markdown(build_report(Git(repo), "main", "feature", repo))
