"""The issue's "done when", as a user would do it: the model of a default `dvc repro`,
promoted to staging with a shared local remote, served with `mergeml serve --stage staging`
from a fresh clone. V2 and `/invocations` give the predictions `mergeml predict --stage`
writes, a bad request is a 4xx naming the column, `/version` names version and stage, and
after SIGTERM the prediction log holds every request."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mergeml.serve.logread import read_log
from tests.helpers import mergeml
from tests.serve.conftest import Promoted, clone_promoted
from tests.serve.models import records
from tests.serve.test_server_process import URL, Server, _first_line, _start, _wait_live

pytestmark = pytest.mark.pipeline

V2_TYPES = {"float64": "FP64", "int64": "INT64", "bool": "BOOL"}


def _v2_body(frame: pd.DataFrame) -> dict[str, object]:
    """One V2 input per column: numbers as their dtype, categories as BYTES."""
    inputs = [
        {
            "name": name,
            "shape": [len(frame)],
            "datatype": V2_TYPES.get(str(frame[name].dtype), "BYTES"),
            "data": [row[name] for row in records(frame[[name]].astype(object))],
        }
        for name in frame.columns
    ]
    return {"id": "done-when", "inputs": inputs}


def test_serve_a_stage_like_a_user(promoted: Promoted, tmp_path: Path) -> None:
    clone = clone_promoted(promoted.origin, promoted.storage, tmp_path / "clone")
    test_split = pq.read_table(promoted.project / "data/prepared/test.parquet").to_pandas()
    frame = test_split.drop(columns=["is_fraud"]).head(25)
    frame.to_csv(tmp_path / "data.csv", index=False)
    scored = mergeml(clone, "predict", "--stage", "staging", str(tmp_path / "data.csv"), "o.pq")
    assert scored.returncode == 0, scored.stderr
    expected = pd.read_parquet(clone / "o.pq")
    log = tmp_path / "log"
    proc = _start(clone, "--stage", "staging", "--log", str(log))
    try:
        line = _first_line(proc)
        match = URL.search(line)
        assert match, line
        assert line.startswith("serving tabular-model v0.1.0 (stage staging, md5 ")
        _wait_live(match.group(1))
        server = Server(proc, match.group(1))
        url = server.url
        v2 = httpx.post(f"{url}/v2/models/tabular-model/infer", json=_v2_body(frame))
        split = {"columns": list(frame.columns), "data": frame.astype(object).values.tolist()}
        mlflow = httpx.post(f"{url}/invocations", json={"dataframe_split": split})
        bad = records(frame.head(2).drop(columns=["channel"]))
        refused = httpx.post(f"{url}/invocations", json={"dataframe_records": bad})
        version = httpx.get(f"{url}/version").json()
        code, err = server.stop()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()

    assert v2.status_code == 200, v2.text
    outputs = {o["name"]: o["data"] for o in v2.json()["outputs"]}
    assert outputs["prediction"] == expected["prediction"].tolist()
    assert outputs["proba_1"] == expected["proba_1"].tolist()  # bit for bit
    assert mlflow.status_code == 200, mlflow.text
    assert mlflow.json()["predictions"] == expected.to_dict(orient="records")
    assert refused.status_code == 422
    assert refused.json()["error"].startswith("column 'channel': missing")
    assert version["stage"] == "staging"
    assert version["version"] == "v0.1.0"
    assert version["md5"] == pq.read_metadata(clone / "o.pq").metadata[b"mergeml.md5"].decode()
    assert code == 0, err
    today = pd.Timestamp.now("UTC").date()
    logged = read_log(str(log), today - pd.Timedelta(days=1), today)  # across midnight too
    assert sorted(logged["request_id"].value_counts().tolist()) == [25, 25]
    assert (logged["stage"] == "staging").all()
