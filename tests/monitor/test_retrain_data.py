"""data.extra_files: the labelled rows a retraining pull request adds are appended to the
source before the split; the default (none) prepares the very same frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mergeml.config.schema import PrepareParams, SplitConfig, SyntheticData, parse_section
from mergeml.data.prepare import prepare
from mergeml.data.synthetic import generate_transactions
from mergeml.errors import ConfigError, DataError

BASE = {
    "source": "synthetic",
    "task": "classification",
    "target": "is_fraud",
    "n_rows": 400,
    "positive_rate": 0.1,
    "n_noise_features": 0,
    "drift": False,
    "seed": 3,
}


def params(**data: object) -> PrepareParams:
    config = SyntheticData.model_validate({**BASE, **data})
    return PrepareParams(seed=1, data=config, split=SplitConfig(test_size=0.25, stratify=True))


def labelled(root: Path, name: str, frame: pd.DataFrame) -> str:
    rel = f"data/labelled/{name}"
    (root / "data" / "labelled").mkdir(parents=True, exist_ok=True)
    frame.to_parquet(root / rel, index=False)
    return rel


def test_the_default_prepares_the_same_frames(tmp_path: Path) -> None:
    plain = prepare(params(), tmp_path)
    empty = prepare(params(extra_files=[]), tmp_path)
    pd.testing.assert_frame_equal(plain.train, empty.train)
    pd.testing.assert_frame_equal(plain.test, empty.test)


def test_extra_files_are_appended_before_the_split(tmp_path: Path) -> None:
    extra = generate_transactions(100, seed=8, positive_rate=0.2, drift=True)
    rel = labelled(tmp_path, "tabular-model-2026-11-30.parquet", extra.iloc[:, ::-1])
    done = prepare(params(extra_files=[rel]), tmp_path)
    assert len(done.train) + len(done.test) == 500
    both = pd.concat([done.train, done.test])
    assert set(extra["amount"]) <= set(both["amount"])


def test_an_extra_file_without_a_column_is_one_error(tmp_path: Path) -> None:
    extra = generate_transactions(50, seed=8).drop(columns=["is_fraud"])
    rel = labelled(tmp_path, "no-target.parquet", extra)
    with pytest.raises(DataError, match=r"no-target\.parquet: missing column"):
        prepare(params(extra_files=[rel]), tmp_path)


@pytest.mark.parametrize("path", ["/tmp/x.parquet", "data/../x.parquet", "models/x.parquet"])
def test_extra_files_live_under_data_raw_or_data_labelled(path: str) -> None:
    with pytest.raises(ConfigError, match="extra_files"):
        parse_section(SyntheticData, {**BASE, "extra_files": [path]}, where="params.yaml")


def test_prepare_depends_on_data_labelled() -> None:
    import yaml

    from tests.projects import ROOT

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert "data/labelled" in stages["prepare"]["deps"]
    assert (ROOT / "data" / "labelled" / "README.md").is_file()


@pytest.mark.pipeline
def test_the_prepare_stage_appends_the_listed_file(tmp_path: Path) -> None:
    import json
    import sys

    import yaml

    from mergeml.config.compose import compose_to_file
    from tests.helpers import run
    from tests.projects import TINY, copy_project

    root = copy_project(tmp_path / "project", TINY)
    extra = generate_transactions(120, seed=8, positive_rate=0.2, drift=True)
    rel = labelled(root, "tabular-model-2026-11-30.parquet", extra)
    data_yaml = root / "params" / "data" / "synthetic.yaml"
    data_yaml.write_text(data_yaml.read_text().replace("extra_files: []", f"extra_files: [{rel}]"))
    compose_to_file(root / "params", root / "params.yaml", check_estimators=False)
    assert yaml.safe_load((root / "params.yaml").read_text())["data"]["extra_files"] == [rel]
    run([sys.executable, "pipelines/prepare.py"], root)
    rows = json.loads((root / "reports" / "data.json").read_text())["rows"]
    assert rows["train"] + rows["test"] == 3000 + 120
