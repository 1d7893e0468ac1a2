"""`render_card`: the model card of a commit, read from git with real tags (no working tree)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mergeml.release.card import PLACEHOLDERS, CardError, render_card
from mergeml.scm import Git, ScmError
from tests.helpers import git, run
from tests.projects import ROOT

MODEL = "tabular-model"
MD5 = "1" * 32
PREPARED = "3" * 32 + ".dir"
DVC_YAML = f"artifacts:\n  {MODEL}:\n    path: models/model.skops\n    type: model\n"
PARAMS: dict[str, Any] = {
    "data": {"source": "synthetic", "target": "is_fraud", "n_rows": 3000, "seed": 7},
    "preprocess": {"numeric": [{"_target_": "sklearn.preprocessing.StandardScaler"}]},
    "model": {"_target_": "sklearn.linear_model.LogisticRegression", "C": 0.5},
    "split": {"test_size": 0.2, "stratify": True},
    "evaluate": {
        "gates": {
            "min": {"roc_auc": 0.8},
            "max": {"log_loss": 0.1},
            "vs_base": {"roc_auc": {"absolute": 0.01}},
        }
    },
}
METRICS = {"roc_auc": 0.91, "log_loss": 0.3, "support": {"test_rows": 600}}
DATA = {
    "rows": {"train": 2400, "test": 600},
    "class_balance": {"train": {"0": 2352, "1": 48}, "test": {"0": 588, "1": 12}},
}
STAGING_DATE = "2024-01-02T03:04:05Z"
PRODUCTION_DATE = "2024-02-03T04:05:06Z"


def lock(model_md5: str) -> str:
    stages = {
        "prepare": {
            "cmd": "python prepare.py",
            "outs": [{"path": "data/prepared", "md5": PREPARED}],
        },
        "train": {
            "cmd": "python train.py",
            "outs": [{"path": "models/model.skops", "md5": model_md5}],
        },
    }
    return yaml.safe_dump({"schema": "2.0", "stages": stages})


def write(repo: Path, rel: str, text: str) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text(text, encoding="utf-8")


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def tag(repo: Path, name: str, rev: str, message: str, *, date: str | None = None) -> None:
    env = {"GIT_COMMITTER_DATE": date} if date else {}
    run(["git", "tag", "-a", name, rev, "-m", message], repo, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fake project at one commit: model, prepared data, params, reports and the template."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    write(path, "dvc.yaml", DVC_YAML)
    write(path, "dvc.lock", lock(MD5))
    write(path, "params.yaml", yaml.safe_dump(PARAMS, sort_keys=False))
    write(path, "reports/metrics.json", json.dumps(METRICS))
    write(path, "reports/data.json", json.dumps(DATA))
    write(path, "docs/model_card.md", (ROOT / "docs/model_card.md").read_text(encoding="utf-8"))
    commit(path, "model one")
    return path


def card(repo: Path, rev: str = "HEAD", **kwargs: str) -> str:
    return render_card(Git(repo), rev, **kwargs)


def section(text: str, title: str) -> str:
    """The body under ``## title`` up to the next ``## `` heading."""
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0].strip()


def rows(text: str, title: str) -> list[list[str]]:
    """The cells of the table rows (header excluded) under ``## title``."""
    lines = [line for line in section(text, title).splitlines() if line.startswith("| ")]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines[1:]]


def test_every_section_holds_the_values_of_the_commit(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    tag(repo, f"{MODEL}@v0.1.0", sha, "Registering")
    text = card(repo)
    assert text.startswith("<!--")
    assert f"# Model card: {MODEL}\n" in text
    assert "- **Version:** v0.1.0\n" in text
    assert f"- **Commit:** {sha}\n" in text
    assert f"- **Model md5 (models/model.skops):** {MD5}\n" in text
    assert "demonstration of the mergeml workflow" in section(text, "Intended use")
    assert "## Out-of-scope uses" in text
    assert "## Ethical considerations" in text
    assert rows(text, "Data") == [
        ["data.source", "synthetic"],
        ["data.target", "is_fraud"],
        ["data.n_rows", "3000"],
        ["data.seed", "7"],
        ["md5 of data/prepared", PREPARED],
        ["train rows", "2400"],
        ["train classes", "0: 2352 (98.0%), 1: 48 (2.0%)"],
        ["test rows", "600"],
        ["test classes", "0: 588 (98.0%), 1: 12 (2.0%)"],
    ]
    assert rows(text, "Parameters") == [
        ["model._target_", "sklearn.linear_model.LogisticRegression"],
        ["model.C", "0.5"],
        ["preprocess.numeric.0._target_", "sklearn.preprocessing.StandardScaler"],
        ["split.test_size", "0.2"],
        ["split.stratify", "true"],
    ]
    assert rows(text, "Metrics") == [["roc_auc", "0.91"], ["log_loss", "0.3"]]
    assert rows(text, "Gates") == [
        ["min", "roc_auc", "&gt;= 0.8", "0.91", "pass"],
        ["max", "log_loss", "&lt;= 0.1", "0.3", "fail (0.3 is not &lt;= 0.1)"],
        [
            "vs_base",
            "roc_auc",
            "higher is better, drop &lt;= 0.01",
            "0.91",
            "skip (relative gate, checked against the stage&#x27;s current model at promotion)",
        ],
    ]
    assert section(text, "Promotion history") == "_Not promoted yet._"
    assert not re.search(r"\$\{?[A-Za-z_]", text)  # every placeholder was filled
    assert card(repo) == text  # deterministic


def test_the_shipped_template_uses_every_placeholder() -> None:
    template = (ROOT / "docs/model_card.md").read_text(encoding="utf-8")
    for name in PLACEHOLDERS:
        assert re.search(rf"\${name}\b", template), name


def test_the_version_is_found_by_model_md5_when_the_tag_is_on_another_commit(
    repo: Path,
) -> None:
    first = git(repo, "rev-parse", "HEAD")
    tag(repo, f"{MODEL}@v0.1.0", first, "Registering")
    tag(repo, f"{MODEL}#staging#1", first, "Assigning stage staging", date=STAGING_DATE)
    write(repo, "notes.txt", "same model, other commit")
    same = commit(repo, "notes")
    text = card(repo, same)
    assert "- **Version:** v0.1.0\n" in text
    assert f"- **Commit:** {same}\n" in text
    assert rows(text, "Promotion history")[0][1:3] == ["staging", f"{MODEL}#staging#1"]
    write(repo, "dvc.lock", lock("2" * 32))
    other = commit(repo, "model two")
    text = card(repo, other)
    assert "- **Version:** unregistered\n" in text
    assert section(text, "Promotion history") == "_Not promoted yet._"


def test_history_lists_staging_then_production_oldest_first(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    tag(repo, f"{MODEL}@v0.1.0", sha, "Registering")
    # Created out of order: the tagger dates, not creation order, decide.
    tag(
        repo,
        f"{MODEL}#production#2",
        sha,
        "Assigning stage production\n\nby ci",
        date=PRODUCTION_DATE,
    )
    tag(repo, f"{MODEL}#staging#1", sha, "Assigning stage staging\n\nby ci", date=STAGING_DATE)
    write(repo, "notes.txt", "x")
    write(repo, "dvc.lock", lock("2" * 32))
    later = commit(repo, "model two")
    tag(repo, f"{MODEL}#staging#3", later, "another model")
    assert rows(card(repo, f"{MODEL}@v0.1.0"), "Promotion history") == [
        [
            "2024-01-02 03:04:05",
            "staging",
            f"{MODEL}#staging#1",
            "Test User",
            "Assigning stage staging",
        ],
        [
            "2024-02-03 04:05:06",
            "production",
            f"{MODEL}#production#2",
            "Test User",
            "Assigning stage production",
        ],
    ]


def test_missing_metrics_are_unavailable_not_an_error(repo: Path) -> None:
    git(repo, "rm", "-q", "reports/metrics.json")
    commit(repo, "no metrics")
    text = card(repo)
    assert section(text, "Metrics") == (
        "_Metrics unavailable: reports/metrics.json is absent or unreadable at this commit._"
    )
    assert section(text, "Gates") == "_Gates not checked: metrics unavailable._"
    assert rows(text, "Data")[0] == ["data.source", "synthetic"]


def test_a_missing_template_falls_back_to_the_default(repo: Path) -> None:
    git(repo, "rm", "-q", "docs/model_card.md")
    commit(repo, "no template")
    text = card(repo)
    assert text.startswith(f"# Model card: {MODEL}\n")
    assert section(text, "Intended use").startswith("Not documented: commit a `docs/model_card.md`")
    assert section(text, "Limitations").startswith("Not documented:")
    assert rows(text, "Metrics") == [["roc_auc", "0.91"], ["log_loss", "0.3"]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("# $model\n\nOwner:\n$owner\n", "docs/model_card.md:4: unknown placeholder $owner"),
        ("# $model\n${versio}\n", "docs/model_card.md:2: unknown placeholder $versio"),
        ("# $model\n\nIt costs $ 5.\n", "docs/model_card.md:3: '$' is not a placeholder"),
    ],
)
def test_a_bad_placeholder_names_itself_and_its_line(repo: Path, body: str, message: str) -> None:
    write(repo, "docs/model_card.md", body)
    commit(repo, "bad template")
    with pytest.raises(CardError) as info:
        card(repo)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_a_template_elsewhere_and_a_literal_dollar(repo: Path) -> None:
    write(repo, "cards/short.md", "$model costs $$5; md5 $model_md5\n")
    commit(repo, "short template")
    assert card(repo, template="cards/short.md") == f"{MODEL} costs $5; md5 {MD5}\n"


def test_a_pipe_and_a_newline_in_a_param_value_are_escaped(repo: Path) -> None:
    params = {**PARAMS, "model": {**PARAMS["model"], "note": "a|b\nc"}}
    write(repo, "params.yaml", yaml.safe_dump(params, sort_keys=False))
    commit(repo, "hostile param")
    assert ["model.note", "a&#124;b c"] in rows(card(repo), "Parameters")


def test_an_older_rev_ignores_later_commits_and_working_tree_edits(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    write(repo, "reports/metrics.json", json.dumps({"roc_auc": 0.95}))
    commit(repo, "better model")
    write(repo, "reports/metrics.json", json.dumps({"roc_auc": 0.1}))
    write(repo, "docs/model_card.md", "edited in the working tree: $model\n")
    (repo / "reports/data.json").unlink()
    old = card(repo, first)
    assert f"- **Commit:** {first}\n" in old
    assert rows(old, "Metrics") == [["roc_auc", "0.91"], ["log_loss", "0.3"]]
    assert ["train rows", "2400"] in rows(old, "Data")
    assert rows(card(repo), "Metrics") == [["roc_auc", "0.95"]]


def test_an_unknown_ref_is_an_scm_error(repo: Path) -> None:
    with pytest.raises(ScmError, match="no-such-ref"):
        card(repo, "no-such-ref")
