"""Property-based: schemathesis generates requests from the server's own OpenAPI spec,
both fitting it and not; none may get a 5xx (SECURITY E6).

Hypothesis drives schemathesis' strategies directly: its pytest loaders
(``schemathesis.pytest.from_fixture``) read a node attribute pytest 9 no longer has, and
loading the schema at import would fit the model at every collection.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from mergeml.serve.app import Settings, create_app
from mergeml.serve.v2 import DATATYPES
from tests.serve.models import CITIES, NAME, V2_TYPES, VERSION, pulled_model

SERVED = {"name": NAME, "version": VERSION}
EXAMPLES = 12  # per operation and mode: the module stays well under 20 s


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    model_dir = pulled_model(tmp_path_factory.mktemp("served") / "staging")
    log = str(tmp_path_factory.mktemp("log"))  # so that /feedback has somewhere to go
    app = create_app(Settings(str(model_dir), max_rows=100, max_body_mb=0.5, log_url=log))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _fuzz(operation: Any, mode: GenerationMode) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        if case.path_parameters:  # the served model: else every request stops at the 404
            case.path_parameters.update(
                {k: v for k, v in SERVED.items() if k in case.path_parameters}
            )
        case.call_and_validate(checks=[not_a_server_error])

    check()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_server_error(api_schema: Any, mode: GenerationMode) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12  # every route is in the spec
    if mode == GenerationMode.NEGATIVE:  # what can be wrong: a body, a path parameter
        operations = [op for op in operations if op.method.upper() == "POST"]

    for operation in operations:
        _fuzz(operation, mode)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([*CITIES, "", "paris"]),
    st.text(max_size=5),
)


@st.composite
def v2_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Bodies with the model's column names (so they reach the schema check and the
    model), each with a random datatype and random values."""
    rows = draw(st.integers(min_value=1, max_value=4))
    names = draw(st.lists(st.sampled_from(list(V2_TYPES)), min_size=1, max_size=4, unique=True))
    inputs = []
    for name in names:
        datatype = draw(st.sampled_from([V2_TYPES[name], V2_TYPES[name], *DATATYPES]))
        data = draw(st.lists(VALUES, min_size=rows, max_size=rows))
        inputs.append({"name": name, "shape": [rows], "datatype": datatype, "data": data})
    return {"inputs": inputs}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_random_values_in_the_right_columns_never_get_a_server_error(api_schema: Any) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(api_schema.app)

    @settings(max_examples=150, deadline=None, database=None, derandomize=True)
    @given(body=v2_requests())
    def check(body: dict[str, Any]) -> None:
        response = client.post(f"/v2/models/{NAME}/infer", json=body)
        assert response.status_code < 500, (body, response.text)
        if response.status_code == 200:
            outputs = response.json()["outputs"]
            assert all(o["shape"] == body["inputs"][0]["shape"] for o in outputs)
        else:
            assert response.json()["error"]

    check()
