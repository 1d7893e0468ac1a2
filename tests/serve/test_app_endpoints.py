"""The health, metadata, version and documentation endpoints of `mergeml serve`, and a
model that fails verification: the server runs but is not ready."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mergeml.serve.app import Settings, create_app
from tests.serve.models import COMMIT, NAME, STAGE, VERSION, pulled_model, records, rows, v2_body

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # TestClient on httpx


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pulled_model(tmp_path_factory.mktemp("served") / "staging")


@pytest.fixture(scope="module")
def client(model_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(str(model_dir)))) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v2/health/live", {"live": True}),
        ("/v2/health/ready", {"ready": True}),
        (f"/v2/models/{NAME}/ready", {"ready": True}),
        ("/ping", {"ready": True}),
        ("/health", {"ready": True}),
    ],
)
def test_health_endpoints_answer_200_when_ready(
    client: TestClient, path: str, body: dict[str, bool]
) -> None:
    response = client.get(path)

    assert (response.status_code, response.json()) == (200, body)


def test_version_names_the_model(client: TestClient, model_dir: Path) -> None:
    manifest = json.loads((model_dir / "manifest.json").read_text())

    assert client.get("/version").json() == {
        "name": NAME,
        "version": VERSION,
        "stage": STAGE,
        "commit": COMMIT,
        "md5": manifest["md5"],
        "ready": True,
    }


def test_v2_metadata_lists_inputs_from_the_schema_and_outputs(client: TestClient) -> None:
    doc = client.get(f"/v2/models/{NAME}").json()

    assert (doc["name"], doc["versions"], doc["platform"]) == (NAME, [VERSION], "sklearn")
    assert [(i["name"], i["datatype"], i["shape"]) for i in doc["inputs"]] == [
        ("age", "INT64", [-1]),
        ("income", "FP64", [-1]),
        ("city", "BYTES", [-1]),
        ("member", "BOOL", [-1]),
    ]
    assert [o["name"] for o in doc["outputs"]] == ["prediction", "proba_0", "proba_1"]


@pytest.mark.parametrize("path", ["/v2/models/other", "/v2/models/other/ready"])
def test_another_model_name_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert f"serves '{NAME}'" in response.json()["error"]


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    assert "/v2/models/{name}/infer" in spec["paths"]
    assert "text/csv" in spec["paths"]["/invocations"]["post"]["requestBody"]["content"]
    assert client.get("/docs").status_code == 200
    # the scoring bodies (validated by the routes themselves) point at their models
    schemas = spec["components"]["schemas"]
    for path, model in (("/v2/models/{name}/infer", "InferRequest"), ("/invocations", "Envelope")):
        body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{model}"}
        assert "$defs" not in schemas[model]
    refs = re.findall(r'"#/components/schemas/(\w+)"', json.dumps(spec))
    assert set(refs) <= set(schemas)  # every reference resolves
    assert {"InferInput", "Split"} <= set(refs)


def _tampered(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    model = target / "model.skops"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    return target


NOT_READY = ["/v2/health/ready", f"/v2/models/{NAME}/ready", "/ping", "/health"]


def test_a_tampered_model_leaves_the_server_live_but_not_ready(
    model_dir: Path, tmp_path: Path
) -> None:
    broken = _tampered(model_dir, tmp_path / "broken")
    frame = rows(2)

    with TestClient(create_app(Settings(str(broken)))) as test_client:
        live = test_client.get("/v2/health/live")
        health = {path: test_client.get(path) for path in NOT_READY}
        infer = test_client.post(f"/v2/models/{NAME}/infer", json=v2_body(frame))
        invoke = test_client.post("/invocations", json={"instances": records(frame)})
        version = test_client.get("/version").json()

    assert live.status_code == 200
    for path, response in health.items():
        assert response.status_code == 503, path
        assert "does not match its manifest: md5" in response.json()["error"]
    for response in (infer, invoke):
        assert response.status_code == 503
        assert response.json()["error"].startswith("the model is not ready: ")
    assert version["ready"] is False


def test_a_directory_without_manifest_is_not_ready_and_says_so(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(str(tmp_path)))) as test_client:
        response = test_client.get("/v2/health/ready")

    assert response.status_code == 503
    assert "holds no manifest.json" in response.json()["error"]
