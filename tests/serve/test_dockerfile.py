"""The Dockerfile of `mergeml serve`: lint-clean, slim, non-root, hash-checked, and the model
verified at build. No Docker engine runs here: the file is parsed and linted, and the
image's own commands (verify, CMD, HEALTHCHECK) run as local processes on a pulled model."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.projects import ROOT
from tests.serve.models import pulled_model

DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent
IMAGE_MODEL = "/srv/model"
IMAGE_LOG = "/var/lib/mergeml/predictions"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continued lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


STEPS = instructions(DOCKERFILE.read_text())


def args_of(name: str) -> list[str]:
    return [rest for word, rest in STEPS if word == name]


def exec_form(rest: str) -> list[str]:
    value = json.loads(rest)
    assert isinstance(value, list), f"not the exec (JSON) form: {rest}"
    return [str(v) for v in value]


def env() -> dict[str, str]:
    """The image's ENV (KEY=VALUE pairs; $PATH left to the caller)."""
    found: dict[str, str] = {}
    for rest in args_of("ENV"):
        for pair in shlex.split(rest):
            key, _, value = pair.partition("=")
            found[key] = value
    return found


def index(word: str, needle: str = "") -> int:
    return next(i for i, (w, rest) in enumerate(STEPS) if w == word and needle in rest)


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "hadolint"), str(path)], text=True, capture_output=True, check=False
    )


# --- the file ---------------------------------------------------------------------------


def test_hadolint_is_clean() -> None:
    proc = hadolint(DOCKERFILE)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_catches_an_unpinned_base_and_a_root_user(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    text = DOCKERFILE.read_text().replace("FROM python:3.11-slim", "FROM python", 1)
    bad.write_text(text + "USER root\n")
    proc = hadolint(bad)
    assert proc.returncode != 0
    assert "DL3006" in proc.stdout  # untagged base
    assert "DL3002" in proc.stdout  # last user root


def test_one_slim_python_3_11_base_pinned_by_version() -> None:
    (base,) = args_of("FROM")
    image, _, digest = base.partition("@")
    assert image == "python:3.11-slim"
    assert not digest or (digest.startswith("sha256:") and len(digest) == 7 + 64)


def test_every_third_party_package_is_hash_checked_and_mergeml_brings_none() -> None:
    installs = [
        part.strip()
        for rest in args_of("RUN")
        for part in rest.split("&&")
        if "pip install" in part
    ]
    locks = [c for c in installs if " -r " in c]
    assert {c.split(" -r ")[1].split()[0] for c in locks} == {
        "requirements-uv.lock",
        "requirements.lock",
    }
    for command in locks:
        assert "--require-hashes" in command, command
    others = [c for c in installs if " -r " not in c]
    assert others
    for command in others:
        assert "--no-deps" in command, command
        assert command.endswith(" ."), command


def test_the_model_is_copied_then_verified_before_the_server_user_takes_over() -> None:
    assert f"build/model {IMAGE_MODEL}" in args_of("COPY")
    copy = index("COPY", f"build/model {IMAGE_MODEL}")
    verify = index("RUN", "verify-model")
    assert exec_form(STEPS[verify][1]) == ["mergeml", "verify-model", IMAGE_MODEL]
    assert copy < verify < index("USER") < index("CMD")


def test_the_server_runs_as_a_non_root_user_it_creates() -> None:
    users = args_of("USER")
    assert users
    assert users[-1] not in {"root", "0", "0:0"}
    uid = users[-1].split(":")[0]
    assert any(f"useradd --system --uid {uid}" in rest for rest in args_of("RUN"))


def test_one_thread_per_worker_and_the_port_and_command_of_a_container() -> None:
    image_env = env()
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        assert image_env[key] == "1", key
    assert args_of("EXPOSE") == ["8080"]
    (cmd,) = args_of("CMD")
    assert exec_form(cmd) == [
        "mergeml",
        "serve",
        "--model",
        IMAGE_MODEL,
        "--host",
        "0.0.0.0",
        "--port",
        "8080",
    ]


def test_the_health_check_asks_readiness_with_python_not_curl() -> None:
    (check,) = args_of("HEALTHCHECK")
    options, _, command = check.partition("CMD ")
    assert "--interval=" in options
    assert "--timeout=" in options
    argv = exec_form(command)
    assert argv[:2] == ["python", "-c"]
    assert "urllib.request" in argv[2]
    assert "http://127.0.0.1:8080/v2/health/ready" in argv[2]


def test_the_build_context_holds_only_what_the_image_copies() -> None:
    lines = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"  # everything out (.git, .venv, data, .env) unless let in
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    sources = {src.rstrip("/") for rest in args_of("COPY") for src in rest.split()[:-1]}
    assert sources == allowed


# --- the image's commands, run here --------------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pulled_model(tmp_path_factory.mktemp("image") / "model")


def image_command(argv: list[str], model_dir: Path, port: int | None = None) -> list[str]:
    """An image command for this machine: the venv's executables, the pulled model's path,
    ``port`` for 8080, a loopback host for 0.0.0.0."""
    out = []
    for arg in argv:
        arg = arg.replace(IMAGE_MODEL, str(model_dir))
        if port is not None:
            arg = arg.replace("8080", str(port)).replace("0.0.0.0", "127.0.0.1")
        out.append(arg)
    out[0] = str(BIN / out[0])
    return out


def image_env(tmp_path: Path) -> dict[str, str]:
    """The image's ENV on a PATH without git (slim has none), the log under tmp_path."""
    values = {k: v for k, v in env().items() if k != "PATH"}
    values["MERGEML_PREDICTION_LOG"] = str(tmp_path / IMAGE_LOG.lstrip("/"))
    assert env()["MERGEML_PREDICTION_LOG"] == IMAGE_LOG
    keep = {k: os.environ[k] for k in ("HOME", "LANG", "TMPDIR") if k in os.environ}
    return {**keep, **values, "PATH": str(BIN)}


def verify(model_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    argv = exec_form(STEPS[index("RUN", "verify-model")][1])
    return subprocess.run(
        image_command(argv, model_dir),
        cwd=tmp_path,
        env=image_env(tmp_path),
        text=True,
        capture_output=True,
        check=False,
        timeout=60,
    )


@pytest.mark.pipeline  # a subprocess loading scikit-learn
def test_the_build_time_verification_passes_on_the_pulled_model(
    model: Path, tmp_path: Path
) -> None:
    proc = verify(model, tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("verified tabular-model v0.3.0 (md5 ")


@pytest.mark.pipeline  # a subprocess loading scikit-learn
def test_a_tampered_model_fails_the_build(model: Path, tmp_path: Path) -> None:
    proc = verify(tamper(model, tmp_path / "model"), tmp_path)

    assert proc.returncode != 0
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("mergeml: error: ")
    assert "does not match its manifest: md5" in line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def tamper(model: Path, dest: Path) -> Path:
    """A copy of the pulled ``model`` with one byte of the model file flipped."""
    dest.mkdir()
    (dest / "manifest.json").write_bytes((model / "manifest.json").read_bytes())
    data = bytearray((model / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (dest / "model.skops").write_bytes(bytes(data))
    return dest


@pytest.fixture
def serve_image(tmp_path: Path) -> Iterator[Callable[[Path], tuple[subprocess.Popen[str], int]]]:
    """Start the image's CMD on a model directory, on a free loopback port; every process
    left running is killed at the end."""
    started: list[subprocess.Popen[str]] = []

    def start(model_dir: Path) -> tuple[subprocess.Popen[str], int]:
        port = free_port()
        (cmd,) = args_of("CMD")
        proc = subprocess.Popen(
            image_command(exec_form(cmd), model_dir, port),
            cwd=tmp_path,
            env=image_env(tmp_path),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        started.append(proc)
        return proc, port

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def wait_for(proc: subprocess.Popen[str], url: str, want: int) -> None:
    deadline = time.monotonic() + 60
    while status(url) != want:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{url} did not answer {want} within 60 s"
        time.sleep(0.2)


def health_check(port: int) -> subprocess.CompletedProcess[str]:
    """The image's HEALTHCHECK command, against ``port``."""
    (check,) = args_of("HEALTHCHECK")
    argv = exec_form(check.partition("CMD ")[2])
    return subprocess.run(
        [sys.executable, *argv[1:-1], argv[-1].replace("8080", str(port))],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@pytest.mark.pipeline  # a real server process
def test_the_image_command_serves_is_healthy_and_stops_cleanly_on_sigterm(
    model: Path, serve_image: Callable[[Path], tuple[subprocess.Popen[str], int]]
) -> None:
    proc, port = serve_image(model)
    wait_for(proc, f"http://127.0.0.1:{port}/v2/health/ready", 200)

    health = health_check(port)
    assert health.returncode == 0, health.stderr

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


@pytest.mark.pipeline  # a real server process
def test_the_health_check_fails_while_the_model_is_not_ready(
    model: Path,
    serve_image: Callable[[Path], tuple[subprocess.Popen[str], int]],
    tmp_path: Path,
) -> None:
    proc, port = serve_image(tamper(model, tmp_path / "tampered"))
    wait_for(proc, f"http://127.0.0.1:{port}/v2/health/live", 200)

    assert status(f"http://127.0.0.1:{port}/v2/health/ready") == 503
    health = health_check(port)
    assert health.returncode != 0
    assert "503" in health.stderr
