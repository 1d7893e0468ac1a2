"""`mergeml serve` predicts what `mergeml predict` and the model in-process predict, in V2
and in every /invocations format, and logs every prediction."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from mergeml.serve.app import Settings, create_app
from mergeml.serve.predict import load_pulled, predict_file
from tests.serve.models import NAME, VERSION, pulled_model, records, rows, v2_body

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # TestClient on httpx

INFER = f"/v2/models/{NAME}/infer"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pulled_model(tmp_path_factory.mktemp("served") / "staging")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """Twelve rows, some with a missing income (nullable in training)."""
    got = rows(12)
    assert got["income"].isna().any()
    return got


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("log")


@pytest.fixture(scope="module")
def client(model_dir: Path, log_dir: Path) -> Iterator[TestClient]:
    app = create_app(Settings(str(model_dir), log_url=str(log_dir)))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def expected(model_dir: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """What the model says in-process."""
    model = load_pulled(model_dir).model
    proba = model.predict_proba(frame)
    out = pd.DataFrame({"prediction": model.predict(frame)})
    for i, label in enumerate(model.classes_):
        out[f"proba_{label}"] = proba[:, i]
    return out


def _v2_frame(doc: dict[str, object]) -> pd.DataFrame:
    outputs = doc["outputs"]
    assert isinstance(outputs, list)
    return pd.DataFrame({o["name"]: o["data"] for o in outputs})


def test_v2_infer_equals_the_model_in_process_and_names_the_model(
    client: TestClient, frame: pd.DataFrame, expected: pd.DataFrame
) -> None:
    response = client.post(INFER, json=v2_body(frame, id="req-42"))

    assert response.status_code == 200, response.text
    doc = response.json()
    assert (doc["model_name"], doc["model_version"], doc["id"]) == (NAME, VERSION, "req-42")
    assert response.headers["x-request-id"] == "req-42"
    assert [o["datatype"] for o in doc["outputs"]] == ["INT64", "FP64", "FP64"]
    assert all(o["shape"] == [len(frame)] for o in doc["outputs"])
    pd.testing.assert_frame_equal(_v2_frame(doc), expected, check_exact=True)


def test_versioned_infer_path_answers_the_same(
    client: TestClient, frame: pd.DataFrame, expected: pd.DataFrame
) -> None:
    response = client.post(f"/v2/models/{NAME}/versions/{VERSION}/infer", json=v2_body(frame))

    assert response.status_code == 200, response.text
    pd.testing.assert_frame_equal(_v2_frame(response.json()), expected, check_exact=True)


def _invocation_bodies(frame: pd.DataFrame) -> dict[str, dict[str, object]]:
    recs = records(frame)
    columns = {c: [r[c] for r in recs] for c in frame.columns}
    return {
        "dataframe_split": {
            "dataframe_split": {
                "columns": list(frame.columns),
                "data": [[r[c] for c in frame.columns] for r in recs],
            }
        },
        "dataframe_records": {"dataframe_records": recs},
        "instances-records": {"instances": recs},
        "instances-columns": {"instances": columns},
        "inputs-columns": {"inputs": columns},
    }


@pytest.mark.parametrize(
    "layout",
    [
        "dataframe_split",
        "dataframe_records",
        "instances-records",
        "instances-columns",
        "inputs-columns",
        "csv",
    ],
)
def test_every_invocations_format_equals_v2(
    client: TestClient, frame: pd.DataFrame, expected: pd.DataFrame, layout: str
) -> None:
    if layout == "csv":
        text = frame.to_csv(index=False, float_format="%.17g")
        response = client.post("/invocations", content=text, headers={"content-type": "text/csv"})
    else:
        response = client.post("/invocations", json=_invocation_bodies(frame)[layout])

    assert response.status_code == 200, response.text
    got = pd.DataFrame(response.json()["predictions"])  # one object per row
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_serve_equals_predict_file(
    client: TestClient, model_dir: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    predict_file(load_pulled(model_dir), tmp_path / "in.parquet", tmp_path / "out.parquet")
    from_file = pq.read_table(tmp_path / "out.parquet").to_pandas()

    response = client.post(INFER, json=v2_body(frame))

    pd.testing.assert_frame_equal(_v2_frame(response.json()), from_file, check_exact=True)


def test_request_id_comes_from_the_header_else_is_generated(
    client: TestClient, frame: pd.DataFrame
) -> None:
    given = client.post(INFER, json=v2_body(frame.head(1)), headers={"X-Request-ID": "abc-1"})
    made = client.post(INFER, json=v2_body(frame.head(1)))

    assert given.json()["id"] == given.headers["x-request-id"] == "abc-1"
    generated = made.json()["id"]
    assert made.headers["x-request-id"] == generated
    assert len(generated) == 36
    assert generated.count("-") == 4


def test_metrics_count_requests_rows_and_the_model(client: TestClient, frame: pd.DataFrame) -> None:
    client.post(INFER, json=v2_body(frame))
    client.post(INFER, json={"inputs": []})

    text = client.get("/metrics").text

    assert 'mergeml_model_info{md5="' in text
    assert f'version="{VERSION}"' in text
    assert 'mergeml_requests_total{endpoint="/v2/models/{name}/infer",status="200"}' in text
    assert 'endpoint="/v2/models/{name}/infer",status="422"' in text
    assert 'mergeml_errors_total{kind="envelope"}' in text
    assert "mergeml_request_seconds_bucket" in text
    scored = [line for line in text.splitlines() if line.startswith("mergeml_rows_scored_total ")]
    assert float(scored[0].split()[1]) >= len(frame)


def test_feedback_is_accepted_and_everything_lands_in_the_log_at_shutdown(
    model_dir: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    app = create_app(Settings(str(model_dir), log_url=str(tmp_path / "log")))
    with TestClient(app) as test_client:
        for i in range(3):
            test_client.post(INFER, json=v2_body(frame.head(2), id=f"r{i}"))
        csv = io.StringIO()
        frame.head(1).to_csv(csv, index=False)
        test_client.post(
            "/invocations",
            content=csv.getvalue(),
            headers={"content-type": "text/csv", "x-request-id": "r3"},
        )
        one = test_client.post("/feedback", json={"request_id": "r0", "label": 1})
        many = test_client.post(
            "/feedback",
            json=[{"request_id": "r1", "label": 0, "row": 1}, {"request_id": "r2", "label": 1}],
        )
    # the lifespan shutdown closed the log: everything is written

    assert (one.status_code, one.json()) == (202, {"accepted": 1})
    assert (many.status_code, many.json()) == (202, {"accepted": 2})
    logged = ds.dataset(tmp_path / "log" / "predictions", partitioning="hive").to_table()
    ids = logged.column("request_id").to_pylist()
    assert sorted(set(ids)) == ["r0", "r1", "r2", "r3"]
    assert len(ids) == 7  # rows: 2 + 2 + 2 + 1
    feedback = ds.dataset(tmp_path / "log" / "feedback", partitioning="hive").to_table()
    assert sorted(feedback.column("request_id").to_pylist()) == ["r0", "r1", "r2"]


def test_a_body_without_content_type_is_read_as_json(
    client: TestClient, frame: pd.DataFrame, expected: pd.DataFrame
) -> None:
    request = client.build_request(
        "POST", "/invocations", content=json.dumps({"instances": records(frame)}).encode()
    )
    assert "content-type" not in request.headers

    response = client.send(request)

    assert response.status_code == 200, response.text
    pd.testing.assert_frame_equal(pd.DataFrame(response.json()["predictions"]), expected)


def test_what_the_model_itself_refuses_is_a_422_naming_it(client: TestClient) -> None:
    csv = "age,income,city,member\n30,inf,oslo,True\n"  # no schema rule forbids infinity

    response = client.post("/invocations", content=csv, headers={"content-type": "text/csv"})

    assert response.status_code == 422
    assert response.json()["error"].startswith("the model cannot score this input (")
    assert "infinity" in response.json()["error"]


def test_scoring_runs_off_the_event_loop_with_one_thread_per_runtime(
    client: TestClient, frame: pd.DataFrame
) -> None:
    from threadpoolctl import threadpool_info

    service = client.app.state.service  # type: ignore[attr-defined]
    client.post(INFER, json=v2_body(frame))  # the scoring thread exists from the first request

    name, pools = service._executor.submit(
        lambda: (threading.current_thread().name, threadpool_info())
    ).result()

    assert name.startswith("mergeml-score")
    assert pools  # OpenMP (scikit-learn) and BLAS (numpy) are loaded
    assert {pool["num_threads"] for pool in pools} == {1}


def test_an_id_a_header_cannot_carry_is_replaced_by_a_uuid(
    client: TestClient, frame: pd.DataFrame
) -> None:
    response = client.post(INFER, json=v2_body(frame.head(1), id="bad\r\nSet-Cookie: x=1"))

    assert response.status_code == 200
    assert response.json()["id"] == response.headers["x-request-id"]
    assert "Set-Cookie" not in response.json()["id"]
    assert "set-cookie" not in response.headers
