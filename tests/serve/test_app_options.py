"""`mergeml serve`'s options: refused with one line naming the option before anything
starts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from mergeml.api.serve import serve
from mergeml.errors import UsageError
from mergeml.serve.server import ServeOptions, bind, start_line, url
from mergeml.serve.service import load_service
from tests.serve.models import pulled_model


def test_a_port_in_use_names_the_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1:{port}: "):
            bind("127.0.0.1", port)


@pytest.mark.parametrize("host", ["no-such-host.invalid", "10.255.255.1"])
def test_a_host_that_is_not_this_machine_is_refused(host: str) -> None:
    with pytest.raises(UsageError, match=host):
        bind(host, 0)


def test_port_0_binds_a_free_port_and_the_url_names_it() -> None:
    sock = bind("127.0.0.1", 0)
    with sock:
        assert url("127.0.0.1", sock) == f"http://127.0.0.1:{sock.getsockname()[1]}"
        assert sock.getsockname()[1] > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workers": 0}, "--workers must be at least 1"),
        ({"max_rows": 0}, "--max-rows must be at least 1"),
        ({"max_body_mb": 0.0}, "--max-body-mb must be more than 0"),
        ({"port": 70000}, "--port must be 0-65535"),
    ],
)
def test_bad_limits_are_refused(change: dict[str, object], message: str) -> None:
    options = ServeOptions(model_dir=Path("m"), **change)  # type: ignore[arg-type]

    with pytest.raises(UsageError, match=message):
        options.check()


@pytest.mark.parametrize("given", [{}, {"stage": "staging", "model": Path("m")}])
def test_serve_needs_a_stage_or_a_model(given: dict[str, object]) -> None:
    with pytest.raises(UsageError, match="give --stage STAGE or --model DIR"):
        serve(**given)  # type: ignore[arg-type]


def test_the_start_line_names_model_version_stage_and_url(tmp_path: Path) -> None:
    ready = load_service(pulled_model(tmp_path / "m"))
    broken = load_service(tmp_path / "nothing")

    line = start_line(ready, "http://127.0.0.1:8080", 2)

    assert line.startswith("serving tabular-model v0.3.0 (stage staging, md5 ")
    assert line.endswith(" at http://127.0.0.1:8080 (2 workers)")
    assert start_line(broken, "http://h:1", 1) == (
        "serving nothing yet (model not ready) at http://h:1 (1 worker)"
    )
