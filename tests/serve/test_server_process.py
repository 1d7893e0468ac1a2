"""`mergeml serve` as a real process on a loopback port, driven over HTTP: start, ready,
infer, invocations, /version, /metrics, SIGTERM → in-flight requests answered, the
prediction log flushed, exit 0."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow.dataset as ds
import pytest

from tests.serve.models import NAME, VERSION, pulled_model, records, rows, v2_body

pytestmark = pytest.mark.pipeline  # starts processes: seconds each

START_TIMEOUT = 90.0  # the machine may be busy: imports take seconds
URL = re.compile(r" at (http://\S+) \(")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pulled_model(tmp_path_factory.mktemp("served") / "staging")


class Server:
    """A `mergeml serve` process and the URL its start line names."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url

    def stop(self, timeout: float = 30.0, *, signal_it: bool = True) -> tuple[int, str]:
        """SIGTERM (unless sent already); (exit code, stderr)."""
        if signal_it:
            self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err


def _start(cwd: Path, *args: str) -> subprocess.Popen[str]:
    (cwd / "tmp").mkdir(exist_ok=True)  # the server's temporary files: none left at exit
    env = {**os.environ, "MERGEML_PREDICTION_LOG": "off", "TMPDIR": str(cwd / "tmp")}
    command = [sys.executable, "-m", "mergeml", "serve", "--port", "0", *args]
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _half_sent(url: str, path: str, body: object) -> tuple[socket.socket, bytes]:
    """A connection that has sent a request's headers and all but the end of its body."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode()
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(head + data[:-5])
    return sock, data[-5:]


def _finish(sock: socket.socket, rest: bytes) -> int:
    """Send the rest of the body; the response's status code."""
    with sock:
        sock.sendall(rest)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return int(reply.split(b" ", 2)[1])


def _first_line(proc: subprocess.Popen[str]) -> str:
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout
    assert stdout is not None
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=START_TIMEOUT)
    except queue.Empty:
        proc.kill()
        pytest.fail(f"no start line: {proc.communicate()}")


def _wait_live(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/v2/health/live", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"{url} never answered")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> Server:
        proc = _start(tmp_path, *args)
        started.append(proc)
        line = _first_line(proc)
        match = URL.search(line)
        assert match, line
        _wait_live(match.group(1))
        return Server(proc, match.group(1))

    yield start
    for proc in started:  # a failed test must not leave a server behind
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_real_server_answers_and_exits_0_on_sigterm_with_the_log_flushed(
    serve: object, model_dir: Path, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    server = serve("--model", str(model_dir), "--log", str(log))  # type: ignore[operator]
    frame = rows(6)
    url = server.url

    ready = httpx.get(f"{url}/v2/health/ready")
    v2 = httpx.post(f"{url}/v2/models/{NAME}/infer", json=v2_body(frame, id="first"))
    mlflow = httpx.post(f"{url}/invocations", json={"dataframe_records": records(frame)})
    version = httpx.get(f"{url}/version").json()
    metrics = httpx.get(f"{url}/metrics").text
    bad = httpx.post(f"{url}/invocations", json={"instances": [{"age": "x"}]})
    # requests in flight when SIGTERM arrives: headers and most of the body sent
    pending = [_half_sent(url, f"/v2/models/{NAME}/infer", v2_body(frame)) for _ in range(4)]
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    started = time.monotonic()
    answers = [_finish(sock, rest) for sock, rest in pending]
    code, err = server.stop(signal_it=False)

    assert ready.status_code == 200
    assert v2.status_code == mlflow.status_code == 200
    v2_predictions = next(o for o in v2.json()["outputs"] if o["name"] == "prediction")["data"]
    assert [p["prediction"] for p in mlflow.json()["predictions"]] == v2_predictions
    assert (version["name"], version["version"]) == (NAME, VERSION)
    assert 'mergeml_requests_total{endpoint="/invocations",status="200"} 1.0' in metrics
    assert bad.status_code == 422
    assert ("age", "dtype") in [(p["column"], p["kind"]) for p in bad.json()["problems"]]
    assert answers == [200] * len(pending)
    assert code == 0, err
    assert err == ""
    assert time.monotonic() - started < 20
    logged = ds.dataset(log / "predictions", partitioning="hive").to_table()
    assert logged.num_rows == len(frame) * (2 + len(answers))
    assert "first" in logged.column("request_id").to_pylist()


def test_two_workers_share_the_port_and_sum_their_metrics(
    serve: object, model_dir: Path, tmp_path: Path
) -> None:
    server = serve("--model", str(model_dir), "--workers", "2")  # type: ignore[operator]
    body = v2_body(rows(3))

    answers = [httpx.post(f"{server.url}/v2/models/{NAME}/infer", json=body) for _ in range(6)]
    metrics = httpx.get(f"{server.url}/metrics").text
    during = [p.name for p in (tmp_path / "tmp").iterdir()]
    code, err = server.stop()

    assert all(a.status_code == 200 for a in answers)
    total = re.search(
        r'mergeml_requests_total\{endpoint="/v2/models/\{name\}/infer",status="200"\} (\S+)',
        metrics,
    )
    assert total, metrics
    assert float(total.group(1)) == 6.0
    assert f'version="{VERSION}"' in metrics
    assert code == 0, err
    assert [n for n in during if n.startswith("mergeml-metrics-")]  # multiprocess mode
    assert list((tmp_path / "tmp").iterdir()) == []  # removed at exit


def test_a_tampered_model_starts_not_ready_with_one_line_on_stderr(
    serve: object, model_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["md5"] = "0" * 32
    (broken / "manifest.json").write_text(json.dumps(manifest))
    server = serve("--model", str(broken))  # type: ignore[operator]

    live = httpx.get(f"{server.url}/v2/health/live")
    ready = httpx.get(f"{server.url}/v2/health/ready")
    code, err = server.stop()

    assert (live.status_code, ready.status_code) == (200, 503)
    assert "does not match its manifest" in ready.json()["error"]
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("mergeml: model not ready: ")
    assert "md5" in lines[0]


def test_a_port_in_use_is_one_line_and_a_non_zero_exit(model_dir: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "mergeml",
                "serve",
                "--model",
                str(model_dir),
                "--port",
                str(port),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert proc.returncode != 0
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [proc.stderr.strip()]
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
