"""Serving benchmarks (`run.py --only serve`): `mergeml serve` against a bare in-process
`model.predict` (latency at concurrency 1) and against Seldon MLServer 1.7 serving the same
fitted pipeline with its own scikit-learn runtime (throughput at concurrency 8).

The model is the one a default `dvc repro` trains, committed and fetched with
`mergeml pull --rev HEAD`. Both servers get the same V2 request (one row, pandas encoding)
from the same client (benchmarks/loadgen.py), with two workers each; rounds alternate
(mergeml, MLServer, mergeml, MLServer) and each side keeps its best round per number.
MLServer lives in a venv of its own (uv, the same Python, scikit-learn pinned to ours);
when it cannot be installed or started, the reason is printed and its row is left out.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import run as harness

LOADGEN = Path(__file__).resolve().parent / "loadgen.py"
MLSERVER_ENV = Path(tempfile.gettempdir()) / "mergeml-bench-envs" / "mlserver-1.7"
MLSERVER_PINS = ("mlserver==1.7.*", "mlserver-sklearn==1.7.*", "uvloop<0.22")  # MLServer #2286
WORKERS, CONCURRENCY, REPS = 2, 8, 2
C1_SECONDS, C8_SECONDS, WARMUP_SECONDS = 8.0, 15.0, 2.0
LATENCY_SLACK_MS, P99_LIMIT_MS, RATE_TARGET = 3.0, 50.0, 1.5
READY_TIMEOUT_S, STOP_TIMEOUT_S = 120.0, 20.0
PREDICTION_LOG = Path("logs/predictions")  # `mergeml serve`'s default log, in the project

# In the built project: check the pulled model, pick the row (the first one predicted as the
# rarest class, so a server answering a constant is caught), write the V2 request, the row,
# and the same fitted pipeline as joblib for MLServer's scikit-learn runtime.
SETUP = """\
import json
from pathlib import Path

import joblib

from mergeml.data.synthetic import generate_transactions
from mergeml.serve.predict import load_pulled

pulled = load_pulled(Path("pulled"))
model, columns = pulled.model, pulled.schema["columns"]
rows = generate_transactions(2000, seed=7)[[c["name"] for c in columns]]
predicted = list(model.predict(rows))
rarest = min(set(predicted), key=predicted.count)
index = predicted.index(rarest)
row = rows.iloc[[index]].reset_index(drop=True)
row.to_parquet("row.parquet", index=False)
kinds = {"int": ("INT64", int), "bool": ("BOOL", bool), "float": ("FP64", float)}
inputs = []
for c in columns:
    datatype, cast = kinds.get(c["dtype"], ("BYTES", str))
    inp = {"name": c["name"], "datatype": datatype, "shape": [1],
           "data": [cast(row[c["name"]].iloc[0])]}
    if datatype == "BYTES":
        inp["parameters"] = {"content_type": "str"}
    inputs.append(inp)
Path("body.json").write_text(json.dumps({"parameters": {"content_type": "pd"}, "inputs": inputs}))
Path("mlserver/model").mkdir(parents=True, exist_ok=True)
joblib.dump(model, "mlserver/model/model.joblib")
print(json.dumps({
    "name": pulled.manifest["name"], "row_index": index,
    "prediction": predicted[index].item(),
    "proba": model.predict_proba(row)[0].tolist(),
    "classes": [c.item() for c in model.classes_],
}))
"""

# The baseline: the same model and row (as the request carries it: floats, and strings as
# objects), in process, each model.predict timed alone on the one DataFrame built once; with
# the default threads and with one (as both servers run), the faster counts. Then, for where
# the time goes, what a `mergeml serve` worker does with the request's body on its scoring
# path, in process and without HTTP: validate, decode to columns, check, build the frame,
# score.
BARE = """\
import json, time
from pathlib import Path

import pandas as pd

from mergeml.model.threads import fixed_threads
from mergeml.serve import v2
from mergeml.serve.service import load_service

service = load_service(Path("pulled"))
model = service.pulled.model
body = Path("body.json").read_bytes()
inputs = json.loads(body)["inputs"]
row = pd.DataFrame({
    i["name"]: pd.Series(i["data"], dtype="object" if i["datatype"] == "BYTES" else None)
    for i in inputs
})

def p50_ms(call, n=400):
    for _ in range(40):
        call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return round(sorted(times)[n // 2] * 1000, 3)

def serve_path():
    service.score_now(v2.columns_of(v2.InferRequest.model_validate_json(body)))

out = {"default_threads": p50_ms(lambda: model.predict(row))}
with fixed_threads(1):
    out["one_thread"] = p50_ms(lambda: model.predict(row))
    out["mergeml_check_score"] = p50_ms(serve_path)
print(json.dumps(out))
"""


class Unavailable(Exception):
    """MLServer could not be installed or started: the reason, for the report."""


def free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports (all bound at once, then released)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes in process group ``pgid`` (Linux)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process has gone
            continue
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def connections(pgid: int, port: int) -> list[int]:
    """How many established connections to ``port`` each process of group ``pgid`` holds
    (Linux /proc): which HTTP process the client's keep-alive connections landed on."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
            inodes.add(f"socket:[{fields[9]}]")
    counts = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            held = sum(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir())
        except OSError:  # gone, or not ours to read
            continue
        if held:
            counts.append(held)
    return sorted(counts, reverse=True)


def log_rows(root: Path) -> int:
    """Rows in the Parquet files under ``root`` (the prediction log), from their footers."""
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(path).num_rows for path in root.rglob("*.parquet"))


def tail(path: Path, chars: int = 1500) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class Server:
    """A server process we started (its own session, so its workers can be stopped with it)."""

    label: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    ready_seconds: float = 0.0

    @classmethod
    def start(
        cls, label: str, args: list[str], cwd: Path, env: dict[str, str], port: int, ready: str
    ) -> Server:
        log = cwd / f"{label}.log"
        started = time.perf_counter()
        with log.open("ab") as out:
            proc = subprocess.Popen(
                args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = cls(label, proc, port, log)
        deadline = started + READY_TIMEOUT_S
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{label} exited {proc.returncode} at start:\n{tail(log)}")
            try:
                if request(port, "GET", ready)[0] == 200:
                    server.ready_seconds = time.perf_counter() - started
                    return server
            except OSError:
                pass
            time.sleep(0.2)
        server.stop()
        raise RuntimeError(f"{label} not ready after {READY_TIMEOUT_S:.0f} s:\n{tail(log)}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to its process group if it has not exited in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                harness.progress(f"serve: {self.label} ignored SIGTERM, killing its group")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # leftover workers of our own server
        self.proc.wait()


def mlserver_env(env: dict[str, str]) -> Path:
    """The venv's bin directory with MLServer 1.7 and our scikit-learn version installed."""
    import sklearn

    uv = Path(harness.PYTHON).parent / "uv"
    uv_cmd = str(uv) if uv.exists() else shutil.which("uv")
    if uv_cmd is None:
        raise Unavailable("uv is not installed (make dev installs it into .venv)")
    pins = (*MLSERVER_PINS, f"scikit-learn=={sklearn.__version__}")
    python = MLSERVER_ENV / "bin" / "python"
    steps = [] if python.exists() else [[uv_cmd, "venv", "-q", "--python", sys.executable]]
    steps.append([uv_cmd, "pip", "install", "-q", "--python", str(python), *pins])
    MLSERVER_ENV.parent.mkdir(parents=True, exist_ok=True)
    for args in steps:
        if args[1] == "venv":
            args.append(str(MLSERVER_ENV))
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-3:]
            raise Unavailable(f"`uv {args[1]} ...` failed: {' / '.join(last)}")
    return MLSERVER_ENV / "bin"


def env_versions(bin_dir: Path, env: dict[str, str]) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json; print(json.dumps({n: m.version(n) for n in "
        "('mlserver', 'mlserver-sklearn', 'scikit-learn', 'pandas', 'numpy', 'uvloop')}))"
    )
    done = subprocess.run(
        [str(bin_dir / "python"), "-c", code], env=env, capture_output=True, text=True
    )
    return json.loads(done.stdout) if done.returncode == 0 else {}


def close(got: Any, want: Any) -> bool:
    """Same prediction: equal as numbers when both are numbers, else as text."""
    try:
        return abs(float(got) - float(want)) <= 1e-9
    except (TypeError, ValueError):
        return str(got) == str(want)


def check_answer(label: str, body: bytes, truth: dict[str, Any], outputs: dict[str, Any]) -> None:
    """The V2 response holds every expected output with the bare model's value."""
    try:
        got = {out["name"]: out["data"][0] for out in json.loads(body)["outputs"]}
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise RuntimeError(f"{label}: unreadable V2 response ({exc}): {body[:300]!r}") from exc
    wrong = {
        name: got.get(name) for name, want in outputs.items() if not close(got.get(name), want)
    }
    if wrong:
        raise RuntimeError(f"{label} answered {wrong}, the bare model {outputs} (row {truth})")


class ServeBench:
    """`mergeml serve` against bare model.predict (c=1) and MLServer 1.7 (c=8)."""

    def __init__(self, bench: harness.Bench) -> None:
        self.bench, self.env = bench, bench.env
        self.project = Path()
        self.truth: dict[str, Any] = {}

    def build(self) -> None:
        """Train (default `dvc repro`), commit, `mergeml pull --rev HEAD`, then set up."""
        project = self.project = self.bench.fresh("serve", {}, dvc=True)
        harness.progress("serve: dvc repro, default params (untimed)")
        self.bench.dvc(project, "repro")
        harness.git(project, self.env, "add", "-A")
        harness.git(project, self.env, "commit", "-q", "-m", "trained")
        pull = (harness.PYTHON, "-m", "mergeml", "pull", "--rev", "HEAD", "--out", "pulled")
        harness.run(pull, project, self.env)
        (project / "setup_serve.py").write_text(SETUP)
        (project / "bare_serve.py").write_text(BARE)
        self.truth = json.loads(
            harness.run((harness.PYTHON, "setup_serve.py"), project, self.env).stdout
        )

    @property
    def ready_path(self) -> str:
        return f"/v2/models/{self.truth['name']}/ready"

    def start_mergeml(self) -> Server:
        """With its defaults: the prediction log goes to logs/predictions (emptied first)."""
        shutil.rmtree(self.project / PREDICTION_LOG, ignore_errors=True)
        (port,) = free_ports(1)
        args = [harness.PYTHON, "-m", "mergeml", "serve", "--model", "pulled"]
        args += ["--port", str(port), "--workers", str(WORKERS)]
        env = {k: v for k, v in self.env.items() if k != "MERGEML_PREDICTION_LOG"}
        return Server.start("mergeml", args, self.project, env, port, self.ready_path)

    def start_mlserver(self, bin_dir: Path) -> Server:
        """MLServer's defaults but the ports, loopback, two inference workers, no access log;
        one OpenMP thread (as mergeml runs), else HistGradientBoosting oversubscribes."""
        http_port, grpc_port, metrics_port = free_ports(3)
        settings = {
            "debug": False,
            "host": "127.0.0.1",
            "http_port": http_port,
            "grpc_port": grpc_port,
            "metrics_port": metrics_port,
            "parallel_workers": WORKERS,
        }
        model = {
            "name": self.truth["name"],
            "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": "./model.joblib"},
        }
        repo = self.project / "mlserver"
        (repo / "settings.json").write_text(json.dumps(settings))
        (repo / "model" / "model-settings.json").write_text(json.dumps(model))
        env = {
            **self.env,
            "OMP_NUM_THREADS": "1",
            "PATH": f"{bin_dir}{os.pathsep}{self.env['PATH']}",
        }
        env.pop("VIRTUAL_ENV", None)
        args = [str(bin_dir / "mlserver"), "start", "mlserver"]
        return Server.start("mlserver", args, self.project, env, http_port, self.ready_path)

    def expected(self, label: str) -> tuple[str, dict[str, Any]]:
        """The output the load generator checks, and every output checked once before."""
        if label == "mlserver":
            return "predict", {"predict": self.truth["prediction"]}
        probas = dict(zip(self.truth["classes"], self.truth["proba"], strict=True))
        return "prediction", {
            "prediction": self.truth["prediction"],
            **{f"proba_{c}": p for c, p in probas.items()},
        }

    def load(self, server: Server, concurrency: int, seconds: float, output: str) -> dict[str, Any]:
        args = (harness.PYTHON, str(LOADGEN), "--port", str(server.port))
        args += ("--path", f"/v2/models/{self.truth['name']}/infer", "--body", "body.json")
        args += ("--concurrency", str(concurrency), "--duration", str(seconds))
        args += ("--warmup", str(WARMUP_SECONDS), "--output", output)
        args += ("--expect", json.dumps(self.truth["prediction"]))
        cpu = group_cpu_seconds(server.proc.pid)
        proc = subprocess.Popen(
            args, cwd=self.project, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        time.sleep(WARMUP_SECONDS + 1.0)  # every connection is open by now
        spread = connections(server.proc.pid, server.port)
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"loadgen exited {proc.returncode}: {err.decode()[-2000:]}")
        result: dict[str, Any] = json.loads(out)
        result["connections_per_process"] = spread
        answered = result["requests"] + result["warmup_requests"] + result["errors"]
        cpu = group_cpu_seconds(server.proc.pid) - cpu
        result["server_cpu_ms_per_request"] = round(1000 * cpu / max(answered, 1), 3)
        harness.progress(
            f"serve:   {server.label} c={concurrency}: {result['requests_per_s']:.0f} req/s,"
            f" p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms,"
            f" {result['errors']} errors, server CPU"
            f" {result['server_cpu_ms_per_request']:.2f} ms/request,"
            f" client CPU {result['client_cpu_share']:.0%}, connections per HTTP process {spread}"
        )
        return result

    def session(self, server: Server) -> dict[str, Any]:
        """One checked request, then concurrency 1 and concurrency 8; the server stops."""
        load = os.getloadavg()[0]
        try:
            output, outputs = self.expected(server.label)
            status, body = request(
                server.port,
                "POST",
                f"/v2/models/{self.truth['name']}/infer",
                (self.project / "body.json").read_bytes(),
            )
            if status != 200:
                raise RuntimeError(
                    f"{server.label}: HTTP {status} to the V2 request: {body[:500]!r}"
                )
            check_answer(server.label, body, self.truth, outputs)
            c1 = self.load(server, 1, C1_SECONDS, output)
            c8 = self.load(server, CONCURRENCY, C8_SECONDS, output)
        finally:
            server.stop()
        found = {"ready_s": round(server.ready_seconds, 2), "c1": c1, "c8": c8, "load": load}
        if server.label == "mergeml":  # SIGTERM flushed the log: one row per row scored
            found["log_rows"] = log_rows(self.project / PREDICTION_LOG)
            found["answered"] = 1 + sum(
                c[k] for c in (c1, c8) for k in ("requests", "warmup_requests", "errors")
            )
        return found

    def rounds(self) -> dict[str, Any]:
        """Alternating rounds: bare, mergeml, MLServer; MLServer drops out with its reason."""
        found: dict[str, Any] = {"bare": [], "mergeml": [], "mlserver": [], "mlserver_error": None}
        try:
            harness.progress("serve: MLServer 1.7 venv (uv)")
            bin_dir = mlserver_env(self.env)
            found["mlserver_versions"] = env_versions(bin_dir, self.env)
        except (Unavailable, OSError, subprocess.SubprocessError) as exc:
            found["mlserver_error"] = str(exc)
        for rep in range(REPS):
            harness.progress(f"serve: bare model.predict, one row ({rep + 1}/{REPS})")
            bare = harness.run((harness.PYTHON, "bare_serve.py"), self.project, self.env)
            found["bare"].append(json.loads(bare.stdout))
            harness.progress(f"serve: mergeml serve, {WORKERS} workers ({rep + 1}/{REPS})")
            found["mergeml"].append(self.session(self.start_mergeml()))
            if found["mlserver_error"] is None:
                harness.progress(f"serve: MLServer, {WORKERS} workers ({rep + 1}/{REPS})")
                try:
                    found["mlserver"].append(self.session(self.start_mlserver(bin_dir)))
                except RuntimeError as exc:
                    found["mlserver_error"] = f"MLServer failed: {exc}"
        if found["mlserver_error"]:
            harness.progress(f"serve: no MLServer comparison: {found['mlserver_error']}")
        return found

    def results(self) -> list[harness.Result]:
        self.build()
        found = self.rounds()
        detail = summarize(found, self.truth)
        ours = detail["mergeml"]
        rows = [
            harness.Result(
                f"serve c=1 p50 overhead vs {LATENCY_SLACK_MS:g} ms limit",
                LATENCY_SLACK_MS,
                ours["c1_p50_ms"] - detail["bare_p50_ms"],
                "ms",
                1.0,
                detail,
            ),
            harness.Result(
                f"serve c={CONCURRENCY} p99 vs {P99_LIMIT_MS:g} ms limit",
                P99_LIMIT_MS,
                ours["c8_p99_ms"],
                "ms",
                1.0,
            ),
            harness.Result("serve errors (must be 0)", 1.0, ours["errors"], "", 0.0),
        ]
        theirs = detail.get("mlserver")
        if theirs:
            rows.append(
                harness.Result(
                    f"serve c={CONCURRENCY} ms/request vs MLServer 1.7",
                    1000 / theirs["c8_rps"],
                    1000 / ours["c8_rps"],
                    "ms",
                    round(1 / RATE_TARGET, 3),
                )
            )
        return rows


def best(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """Each number's best round (min latencies, max req/s), errors summed over all."""
    return {
        "c1_p50_ms": min(s["c1"]["p50_ms"] for s in sessions),
        "c1_p99_ms": min(s["c1"]["p99_ms"] for s in sessions),
        "c1_rps": max(s["c1"]["requests_per_s"] for s in sessions),
        "c8_rps": max(s["c8"]["requests_per_s"] for s in sessions),
        "c8_p50_ms": min(s["c8"]["p50_ms"] for s in sessions),
        "c8_p90_ms": min(s["c8"]["p90_ms"] for s in sessions),
        "c8_p99_ms": min(s["c8"]["p99_ms"] for s in sessions),
        "errors": sum(s[c]["errors"] for s in sessions for c in ("c1", "c8")),
        "first_errors": [e for s in sessions for c in ("c1", "c8") for e in s[c]["first_errors"]][
            :5
        ],
        "c8_server_cpu_ms": min(s["c8"]["server_cpu_ms_per_request"] for s in sessions),
        "client_cpu_share": max(s["c8"]["client_cpu_share"] for s in sessions),
        "ready_s": min(s["ready_s"] for s in sessions),
        "c8_rps_rounds": [s["c8"]["requests_per_s"] for s in sessions],
        "load_rounds": [round(s["load"], 1) for s in sessions],
        "c8_connections_rounds": [s["c8"]["connections_per_process"] for s in sessions],
        "log_rows": [s.get("log_rows") for s in sessions],
        "answered": [s.get("answered") for s in sessions],
    }


def summarize(found: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    bare = {
        kind: min(b[kind] for b in found["bare"])
        for kind in ("default_threads", "one_thread", "mergeml_check_score")
    }
    detail: dict[str, Any] = {
        "serve": True,
        "model": truth["name"],
        "row_index": truth["row_index"],
        "prediction": truth["prediction"],
        "workers": WORKERS,
        "concurrency": CONCURRENCY,
        "seconds": {"c1": C1_SECONDS, "c8": C8_SECONDS, "warmup": WARMUP_SECONDS},
        "rounds": REPS,
        "bare_p50_ms": min(bare["default_threads"], bare["one_thread"]),
        "bare_p50_ms_by_threads": bare,
        "mergeml": best(found["mergeml"]),
        "mlserver_error": found["mlserver_error"],
        "mlserver_versions": found.get("mlserver_versions", {}),
        "raw": {k: found[k] for k in ("bare", "mergeml", "mlserver")},
    }
    if found["mlserver"] and not found["mlserver_error"]:
        detail["mlserver"] = best(found["mlserver"])
        detail["rate_ratio"] = round(detail["mergeml"]["c8_rps"] / detail["mlserver"]["c8_rps"], 2)
    return detail


def print_detail(d: dict[str, Any]) -> None:
    sec = d["seconds"]
    print(
        f"\nserve: {d['model']}, one row (row {d['row_index']}, prediction {d['prediction']}),"
        f" {d['workers']} workers each; c=1 for {sec['c1']:g} s and c={d['concurrency']}"
        f" for {sec['c8']:g} s after {sec['warmup']:g} s warm-up; best of {d['rounds']} rounds"
    )
    threads = d["bare_p50_ms_by_threads"]
    print(
        f"  bare model.predict p50 {d['bare_p50_ms']:.2f} ms (default threads"
        f" {threads['default_threads']:.2f}, one thread {threads['one_thread']:.2f});"
        f" mergeml's scoring path for the body in process {threads['mergeml_check_score']:.2f}"
    )
    head = f"  {'server':<13}{'c=1 p50':>9}{'req/s':>8}{'p50':>7}{'p90':>7}{'p99':>7}"
    head += f"{'errors':>8}{'CPU ms/req':>11}{'client CPU':>11}{'ready s':>9}"
    print(head + "  c=8 req/s by round")
    for label, key in (("mergeml", "mergeml"), ("MLServer 1.7", "mlserver")):
        if key not in d:
            continue
        s = d[key]
        print(
            f"  {label:<13}{s['c1_p50_ms']:>9.2f}{s['c8_rps']:>8.0f}{s['c8_p50_ms']:>7.2f}"
            f"{s['c8_p90_ms']:>7.2f}{s['c8_p99_ms']:>7.2f}{s['errors']:>8}"
            f"{s['c8_server_cpu_ms']:>11.2f}"
            f"{s['client_cpu_share']:>11.0%}{s['ready_s']:>9.1f}  "
            + " ".join(f"{r:.0f}" for r in s["c8_rps_rounds"])
        )
    ours = d["mergeml"]
    theirs = d.get("mlserver", {})
    print(
        f"  c={d['concurrency']} connections per HTTP process by round: mergeml"
        f" {ours['c8_connections_rounds']}, MLServer {theirs.get('c8_connections_rounds', [])}"
    )
    print(
        f"  load average (1 min) as each round started: mergeml {ours['load_rounds']},"
        f" MLServer {theirs.get('load_rounds', [])};"
        f" mergeml's prediction log: {ours['log_rows']} rows for {ours['answered']} answered"
    )
    if "rate_ratio" in d:
        print(
            f"  req/s at c={d['concurrency']}: mergeml / MLServer = {d['rate_ratio']:.2f}"
            f" (target ≥ {RATE_TARGET})"
        )
        versions = ", ".join(f"{k} {v}" for k, v in d["mlserver_versions"].items())
        print(f"  MLServer venv: {versions}; OMP_NUM_THREADS=1, access log off")
    if d["mlserver_error"]:
        print(f"  no MLServer comparison: {d['mlserver_error']}")
    if d["mergeml"]["first_errors"]:
        print(f"  mergeml errors: {d['mergeml']['first_errors']}")
