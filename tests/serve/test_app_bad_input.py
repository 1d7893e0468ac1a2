"""Every bad request to `mergeml serve` gets a 4xx whose JSON body says what is wrong
(``{"error": "<one line>", "problems": [...]}``, naming the column), never a 500
(SECURITY E6)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from mergeml.serve.app import Settings, create_app
from tests.serve.models import NAME, pulled_model, records, rows, v2_body

INFER = f"/v2/models/{NAME}/infer"
MAX_ROWS = 50


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pulled_model(tmp_path_factory.mktemp("served") / "staging")


@pytest.fixture(scope="module")
def client(model_dir: Path) -> Iterator[TestClient]:
    settings = Settings(str(model_dir), max_rows=MAX_ROWS, max_body_mb=0.01)  # ~10 KiB
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _good() -> pd.DataFrame:
    return rows(4)


def _v2(**change: Any) -> dict[str, Any]:
    """A valid V2 body with one input changed (``age={"data": [...]}``)."""
    body = v2_body(_good())
    for name, fields in change.items():
        entry = next(i for i in body["inputs"] if i["name"] == name)
        entry.update(fields)
    return body


def _without(name: str) -> dict[str, Any]:
    body = v2_body(_good())
    body["inputs"] = [i for i in body["inputs"] if i["name"] != name]
    return body


def _records(**change: Any) -> dict[str, Any]:
    recs = records(_good())
    for column, value in change.items():
        recs[1][column] = value
    return {"dataframe_records": recs}


# (id, path, body (dict: JSON, bytes: raw), headers, status, problem column/kind or None)
CASES: list[tuple[str, str, Any, dict[str, str], int, tuple[str, str] | None]] = [
    ("v2-malformed-json", INFER, b'{"inputs": [', {}, 400, None),
    ("inv-malformed-json", "/invocations", b"{not json", {}, 400, None),
    ("v2-no-inputs-key", INFER, {"data": [1]}, {}, 422, None),
    ("v2-empty-inputs", INFER, {"inputs": []}, {}, 422, None),
    ("v2-inputs-not-a-list", INFER, {"inputs": {"age": 3}}, {}, 422, None),
    ("v2-shape-data-mismatch", INFER, _v2(age={"shape": [5]}), {}, 400, None),
    ("v2-two-dimensional-shape", INFER, _v2(age={"shape": [2, 2]}), {}, 400, None),
    ("v2-unknown-datatype", INFER, _v2(age={"datatype": "INT128"}), {}, 400, None),
    ("v2-string-in-int64", INFER, _v2(age={"data": [1, "two", 3, 4]}), {}, 422, ("age", "dtype")),
    (
        "v2-bool-in-fp64",
        INFER,
        _v2(income={"data": [1.0, True, 3.0, 4.0]}),
        {},
        422,
        ("income", "dtype"),
    ),
    ("v2-fraction-in-int64", INFER, _v2(age={"data": [1, 2.5, 3, 4]}), {}, 422, ("age", "dtype")),
    (
        "v2-fraction-as-fp64-for-int",
        INFER,
        _v2(age={"datatype": "FP64", "data": [1, 2.5, 3, 4]}),
        {},
        422,
        ("age", "dtype"),
    ),
    (
        "v2-string-for-bool",
        INFER,
        _v2(member={"data": [True, "yes", False, True]}),
        {},
        422,
        ("member", "dtype"),
    ),
    (
        "v2-number-for-str",
        INFER,
        _v2(city={"datatype": "FP64", "data": [1.0, 2.0, 3.0, 4.0]}),
        {},
        422,
        ("city", "dtype"),
    ),
    ("v2-missing-column", INFER, _without("city"), {}, 422, ("city", "missing")),
    (
        "v2-null-not-nullable",
        INFER,
        _v2(age={"data": [30, None, 40, 50]}),
        {},
        422,
        ("age", "null"),
    ),
    (
        "v2-unknown-category",
        INFER,
        _v2(city={"data": ["oslo", "paris", "lima", "oslo"]}),
        {},
        422,
        ("city", "category"),
    ),
    (
        "v2-duplicate-input",
        INFER,
        {"inputs": [*_v2()["inputs"], _v2()["inputs"][0]]},
        {},
        400,
        None,
    ),
    ("v2-row-counts-differ", INFER, _v2(age={"shape": [3], "data": [1, 2, 3]}), {}, 400, None),
    ("v2-wrong-model-name", "/v2/models/other/infer", _v2(), {}, 404, None),
    ("v2-wrong-version", f"/v2/models/{NAME}/versions/v9.9.9/infer", _v2(), {}, 404, None),
    ("inv-two-layouts", "/invocations", {"instances": [{}], "inputs": [{}]}, {}, 400, None),
    ("inv-no-layout", "/invocations", {}, {}, 400, None),
    ("inv-unknown-key", "/invocations", {"rows": [1, 2]}, {}, 422, None),
    (
        "inv-split-ragged",
        "/invocations",
        {"dataframe_split": {"columns": ["age", "city"], "data": [[1]]}},
        {},
        400,
        None,
    ),
    (
        "inv-columns-ragged",
        "/invocations",
        {"inputs": {"age": [1, 2], "city": ["oslo"]}},
        {},
        400,
        None,
    ),
    ("inv-records-string-age", "/invocations", _records(age="old"), {}, 422, ("age", "dtype")),
    ("inv-records-null-city", "/invocations", _records(city=None), {}, 422, ("city", "null")),
    (
        "inv-records-missing-member",
        "/invocations",
        {"dataframe_records": [{"age": 1, "income": 2.0, "city": "oslo"}]},
        {},
        422,
        ("member", "missing"),
    ),
    ("inv-empty-records", "/invocations", {"dataframe_records": []}, {}, 422, None),
    (
        "inv-csv-unknown-category",
        "/invocations",
        b"age,income,city,member\n3,1.5,rome,True\n",
        {"content-type": "text/csv"},
        422,
        ("city", "category"),
    ),
    (
        "inv-csv-garbage",
        "/invocations",
        b"\xff\xfe\x00garbage\n\x00",
        {"content-type": "text/csv"},
        400,
        None,
    ),
    (
        "inv-csv-infinity-model-refuses",
        "/invocations",
        b"age,income,city,member\n3,inf,oslo,True\n",
        {"content-type": "text/csv"},
        422,
        None,
    ),
    (
        "unsupported-content-type",
        INFER,
        b"age=3",
        {"content-type": "application/x-www-form-urlencoded"},
        415,
        None,
    ),
    ("csv-to-v2", INFER, b"age\n3\n", {"content-type": "text/csv"}, 415, None),
    (
        "too-many-rows",
        "/invocations",
        {"dataframe_records": records(rows(MAX_ROWS + 1))},
        {},
        413,
        None,
    ),
    ("body-too-large", "/invocations", b"[" + b" " * 20_000 + b"]", {}, 413, None),
    ("feedback-no-label", "/feedback", {"request_id": "r1"}, {}, 422, None),
    (
        "feedback-negative-row",
        "/feedback",
        {"request_id": "r1", "label": 1, "row": -1},
        {},
        422,
        None,
    ),
    ("unknown-path", "/v3/anything", {}, {}, 404, None),
]


def _send(client: TestClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    if isinstance(body, bytes):
        headers = {"content-type": "application/json", **headers}
        return client.post(path, content=body, headers=headers)
    return client.post(path, json=body, headers=headers)


def _assert_error_body(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json")
    doc = response.json()
    assert isinstance(doc["error"], str)
    assert doc["error"]
    assert "\n" not in doc["error"]
    assert isinstance(doc["problems"], list)
    assert response.headers["x-request-id"]
    return doc


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "problem"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_request_is_a_4xx_naming_the_problem(
    client: TestClient,
    path: str,
    body: Any,
    headers: dict[str, str],
    status: int,
    problem: tuple[str, str] | None,
) -> None:
    response = _send(client, path, body, headers)

    assert response.status_code == status, response.text
    doc = _assert_error_body(response)
    if problem is not None:
        column, kind = problem
        assert f"'{column}'" in doc["error"]
        found = [p for p in doc["problems"] if p["column"] == column]
        assert found, doc
        assert found[0]["kind"] == kind
        assert set(found[0]) >= {"column", "kind", "count", "first_row"}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_unknown_category_names_count_and_first_row(client: TestClient) -> None:
    body = _v2(city={"data": ["oslo", "paris", "rome", "paris"]})

    doc = client.post(INFER, json=body).json()

    assert doc["problems"] == [
        {
            "column": "city",
            "kind": "category",
            "count": 3,
            "first_row": 1,
            "detail": doc["problems"][0]["detail"],
        }
    ]
    assert "'paris'" in doc["error"]
    assert "(first at row 1)" in doc["error"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_chunked_body_without_content_length_is_refused_past_the_limit(
    client: TestClient,
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"dataframe_records": ['
        for _ in range(2000):
            yield b'{"age": 1},'
        yield b"{}]}"

    response = client.post(
        "/invocations", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert "content-length" not in response.request.headers
    assert "larger than" in _assert_error_body(response)["error"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_method_not_allowed_is_json_too(client: TestClient) -> None:
    response = client.get(INFER)

    assert response.status_code == 405
    _assert_error_body(response)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_feedback_without_a_prediction_log_is_503(client: TestClient) -> None:
    response = client.post("/feedback", json={"request_id": "r1", "label": 1})

    assert response.status_code == 503
    assert "prediction log is off" in _assert_error_body(response)["error"]
