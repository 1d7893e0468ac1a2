"""Drift benchmark (`run.py --only drift`): mergeml's drift of a 200,000-row x 30-feature
window against the reference profile of a 1,000,000-row training set, side by side with
Evidently 0.7's `Report([DataDriftPreset()])` on the same Parquet files.

Both data sets come from `generate_transactions` (10 informative columns + 20 noise
columns = 30 features; the target is dropped on both sides): the reference with the drift
switch off (seed 1), the window with it on (seed 2). Evidently 0.7 needs pandas < 3, so it
runs in a venv of its own (uv, Python 3.11) under benchmarks/.envs/evidently (git-ignored),
in a subprocess. When it cannot be installed or run, the reason is printed and stored and
its row is left out; nothing is made up for it.

Rows: mergeml's `drift(profile, window)` time against Evidently's and against a fixed 1 s;
the peak RSS while it runs (window frame held) against the frame's own bytes; the files a
7-day log read opens against that window's part files. After the table: the profile build
time, the whole `mergeml monitor drift --current FILE` command, which features each tool
called drifted.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import run as harness

REFERENCE_ROWS, WINDOW_ROWS, NOISE = 1_000_000, 200_000, 20
DRIFT_REPS, COMMAND_REPS = 3, 2
LIMIT_S, SPEEDUP, MEMORY_RATIO = 1.0, 30.0, 2.0
LOG_DAYS, WINDOW_DAYS, LOG_ROWS_PER_DAY = 60, 7, 200
ENV_DIR = Path(__file__).resolve().parent / ".envs" / "evidently"
EVIDENTLY_PINS = ("evidently==0.7.*", "pandas<3", "pyarrow")
EVIDENTLY_TIMEOUT_S = 900

# In the project: the two Parquet files, the reference profile (build timed, untimed for
# the drift rows), the input schema, dvc.yaml and a dvc.lock naming the model's md5.
SETUP = """\
import json, sys, time
from pathlib import Path

import yaml

from mergeml.config.monitor import DriftSettings
from mergeml.data.synthetic import TARGET, generate_transactions
from mergeml.evaluation.profile import build_profile, profile_text
from mergeml.model.schema import input_schema

ref_rows, cur_rows, noise, md5 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
reference = generate_transactions(ref_rows, seed=1, n_noise_features=noise)
reference.to_parquet("reference.parquet", index=False)
window = generate_transactions(cur_rows, seed=2, n_noise_features=noise, drift=True)
window.to_parquet("current.parquet", index=False)
features = reference.drop(columns=[TARGET])
schema = input_schema(features, TARGET, [0, 1])
start = time.perf_counter()
profile = build_profile(features, schema, None, model_md5=md5, settings=DriftSettings())
build = time.perf_counter() - start
Path("models").mkdir()
Path("models/reference_profile.json").write_text(profile_text(profile))
Path("models/input_schema.json").write_text(json.dumps(schema))
Path("dvc.yaml").write_text(
    "artifacts:\\n  tabular-model:\\n    path: models/model.skops\\n    type: model\\n"
)
stage = {"cmd": "python train.py", "outs": [{"path": "models/model.skops", "md5": md5}]}
Path("dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": {"train": stage}}))
Path("params.yaml").write_text("{}\\n")
print(json.dumps({
    "profile_build_s": build,
    "features": features.shape[1],
    "window_frame_bytes": int(window.drop(columns=[TARGET]).memory_usage(deep=True).sum()),
    "profile_bytes": Path("models/reference_profile.json").stat().st_size,
}))
"""

# mergeml's drift() alone: the profile read and the window (its 30 feature columns) loaded
# untimed. The baseline RSS is taken after the imports and the profile; the peak RSS is
# reset (clear_refs) after the load, so VmHWM afterwards is the peak while drift runs,
# with the window held: (peak - baseline) / frame bytes <= 2 means drift adds <= 1 frame.
MERGEML_DRIFT = """\
import gc, json, sys, time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import scipy.stats  # drift() imports it on its first call: a module, not the window's memory

from mergeml.config.monitor import DriftSettings
from mergeml.evaluation.profile import read_profile
from mergeml.monitor.drift_check import profile_columns
from mergeml.monitor.stats import drift

def status():
    out = {}
    for line in open("/proc/self/status"):
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out

profile = read_profile(Path("models/reference_profile.json").read_text(), "profile")
settings = DriftSettings()
columns = list(profile_columns(profile))
# Warm Arrow's reader and pandas conversion on 100 rows, so the baseline holds their code.
next(pq.ParquetFile("current.parquet").iter_batches(100, columns=columns)).to_pandas()
gc.collect()
pa.default_memory_pool().release_unused()
base = status()["VmRSS"]
table = pq.read_table("current.parquet", columns=columns)
window = table.to_pandas()
del table
gc.collect()
pa.default_memory_pool().release_unused()
loaded = status()
Path("/proc/self/clear_refs").write_text("5")
before = status()["VmRSS"]
times = []
for _ in range(int(sys.argv[1])):
    start = time.perf_counter()
    result = drift(profile, window, settings)
    times.append(time.perf_counter() - start)
print(json.dumps({
    "seconds": times,
    "rss_base": base,
    "rss_loaded": loaded["VmRSS"],
    "hwm_load": loaded["VmHWM"],
    "rss_before_drift": before,
    "hwm_drift": status()["VmHWM"],
    "frame_bytes": int(window.memory_usage(deep=True).sum()),
    "drifted": sorted(f.column for f in result.features if f.drifted),
    "methods": sorted({f.method for f in result.features}),
}))
"""

# Evidently 0.7, in its own venv: both frames loaded untimed, then one Report.run timed.
EVIDENTLY = """\
import json, sys, time

import pandas as pd
import evidently
from evidently import Report
from evidently.presets import DataDriftPreset

reference = pd.read_parquet(sys.argv[1]).drop(columns=[sys.argv[3]])
current = pd.read_parquet(sys.argv[2]).drop(columns=[sys.argv[3]])
start = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current, reference)
seconds = time.perf_counter() - start
drifted, count = [], None
for metric in snapshot.dict()["metrics"]:
    config = metric.get("config", {})
    kind = str(config.get("type", ""))
    value = metric.get("value")
    if kind.endswith("ValueDrift") and "threshold" in config:
        method = str(config.get("method", ""))
        score = float(value)
        if ("p_value" in method or "test" in method) and "distance" not in method:
            hit = score < float(config["threshold"])
        else:
            hit = score >= float(config["threshold"])
        if hit:
            drifted.append(config["column"])
    elif kind.endswith("DriftedColumnsCount") and isinstance(value, dict):
        count = value.get("count")
print(json.dumps({
    "seconds": seconds,
    "version": evidently.__version__,
    "pandas": pd.__version__,
    "drifted": sorted(drifted),
    "drifted_count": count,
}))
"""

# A partitioned prediction log of LOG_DAYS days (one part file a day), then a 7-day window
# read through `log_window` on a counting fsspec filesystem: every file opened is recorded.
LOG_READ = """\
import json, sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
from fsspec.implementations.local import LocalFileSystem

from mergeml.data.synthetic import TARGET, generate_transactions
from mergeml.monitor.window import Span, log_window
from mergeml.serve.predlog import PredictionLog

days, window_days, per_day = (int(a) for a in sys.argv[1:4])


class Counting(LocalFileSystem):
    protocol = ("countfile",)
    opened = []

    @classmethod
    def _strip_protocol(cls, path):
        path = str(path)
        if path.startswith("countfile://"):
            path = path[len("countfile://"):]
        return super()._strip_protocol(path)

    def _open(self, path, mode="rb", **kwargs):
        Counting.opened.append(str(path))
        return super()._open(path, mode=mode, **kwargs)


fsspec.register_implementation("countfile", Counting, clobber=True)
root = Path("log").resolve()
first = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
model = {"name": "tabular-model", "version": "v1.0.0", "stage": "production", "md5": "0" * 32}
rows = generate_transactions(per_day, seed=3).drop(columns=[TARGET])
out = pd.DataFrame({"prediction": np.zeros(per_day, dtype=int), "proba_0": 0.9, "proba_1": 0.1})
for day in range(days):
    log = PredictionLog(str(root), flush_seconds=60)
    log.record(f"req-{day}", first + timedelta(days=day), model, rows, out)
    log.close()
parts = sorted(str(p) for p in root.glob("predictions/date=*/*.parquet"))
start = first + timedelta(days=days - window_days)
span = Span(start.replace(hour=0), start.replace(hour=0) + timedelta(days=window_days))
low, high = span.start.date().isoformat(), span.end.date().isoformat()
wanted = [p for p in parts if low <= p.split("date=")[1][:10] < high]
t0 = time.perf_counter()
frame = log_window(
    f"countfile://{root}", span, stage="production", md5=None, columns=list(rows.columns)
)
seconds = time.perf_counter() - t0
opened = sorted(set(Counting.opened))
print(json.dumps({
    "days": days,
    "part_files": len(parts),
    "window_days": window_days,
    "window_files": len(wanted),
    "opened": len(Counting.opened),
    "opened_outside_window": [p for p in opened if p not in wanted],
    "window_files_not_opened": [p for p in wanted if p not in opened],
    "rows": len(frame),
    "expected_rows": window_days * per_day,
    "seconds": seconds,
}))
"""


def evidently_python() -> tuple[Path | None, str | None]:
    """The Evidently venv's python (made with uv when absent), or None and why."""
    python = ENV_DIR / "bin" / "python"
    check = (str(python), "-c", "import evidently, pandas; print(evidently.__version__)")
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, None
    uv = Path(harness.PYTHON).parent / "uv"
    steps = (
        (str(uv), "venv", "--quiet", "--python", "3.11", str(ENV_DIR)),
        (str(uv), "pip", "install", "--quiet", "--python", str(python), *EVIDENTLY_PINS),
    )
    harness.progress(f"drift: creating the Evidently venv ({', '.join(EVIDENTLY_PINS)})")
    for args in steps:
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0:
            why = " ".join((done.stderr or done.stdout).split())[-400:]
            return None, f"`{' '.join(args[:3])}` failed: {why}"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return None, "evidently does not import in its venv"
    return python, None


def command(project: Path, env: dict[str, str]) -> harness.Run:
    """`mergeml monitor drift --current current.parquet --json` (exit 1: drift found)."""
    args = (harness.PYTHON, "-m", "mergeml", "monitor", "drift", "--current", "current.parquet")
    start = time.perf_counter()
    proc = subprocess.Popen((*args, "--json"), cwd=project, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise RuntimeError(f"mergeml monitor drift exited {code} in {project}")
    return harness.Run(seconds, usage.ru_maxrss / 1024, out)


def project(bench: harness.Bench) -> tuple[Path, dict[str, Any]]:
    """The data, profile and a committed repository the monitor command can read."""
    root = bench.tmp / "drift"
    root.mkdir()
    (root / "setup.py").write_text(SETUP)
    harness.progress(
        f"drift: {REFERENCE_ROWS:,} reference and {WINDOW_ROWS:,} window rows, profile (untimed)"
    )
    args = (harness.PYTHON, "setup.py", str(REFERENCE_ROWS), str(WINDOW_ROWS), str(NOISE))
    info = json.loads(harness.run((*args, "1" * 32), root, bench.env).stdout)
    for step in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "model")):
        harness.git(root, bench.env, *step)
    return root, info


def evidently_run(root: Path, env: dict[str, str]) -> tuple[dict[str, Any] | None, str | None]:
    python, why = evidently_python()
    if python is None:
        return None, why
    (root / "evidently_run.py").write_text(EVIDENTLY)
    harness.progress("drift: Evidently Report([DataDriftPreset()]).run (one run, ~1-2 min)")
    args = (str(python), "evidently_run.py", "reference.parquet", "current.parquet", "is_fraud")
    clean = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    try:
        done = subprocess.run(
            args, cwd=root, env=clean, capture_output=True, text=True, timeout=EVIDENTLY_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return None, f"Evidently did not finish within {EVIDENTLY_TIMEOUT_S} s"
    if done.returncode != 0:
        return None, "Evidently failed: " + " ".join(done.stderr.split())[-400:]
    return json.loads(done.stdout.strip().splitlines()[-1]), None


def results(bench: harness.Bench) -> list[harness.Result]:
    root, info = project(bench)
    (root / "drift_run.py").write_text(MERGEML_DRIFT)
    (root / "log_read.py").write_text(LOG_READ)
    harness.progress(f"drift: mergeml drift() x {DRIFT_REPS}")
    ours = json.loads(
        harness.run((harness.PYTHON, "drift_run.py", str(DRIFT_REPS)), root, bench.env).stdout
    )
    harness.progress(f"drift: mergeml monitor drift --current x {COMMAND_REPS}")
    commands = [command(root, bench.env) for _ in range(COMMAND_REPS)]
    report = json.loads(commands[-1].stdout)
    harness.progress(f"drift: a {LOG_DAYS}-day prediction log, a {WINDOW_DAYS}-day read")
    logs = (harness.PYTHON, "log_read.py", str(LOG_DAYS), str(WINDOW_DAYS), str(LOG_ROWS_PER_DAY))
    log_read = json.loads(harness.run(logs, root, bench.env).stdout)
    theirs, why = evidently_run(root, bench.env)
    if why:
        harness.progress(f"drift: no Evidently row: {why}")
    best = min(ours["seconds"])
    frame_mb = ours["frame_bytes"] / harness.MB
    peak_mb = (ours["hwm_drift"] - ours["rss_base"]) / harness.MB
    detail: dict[str, Any] = {
        "drift": {
            **info,
            "reference_rows": REFERENCE_ROWS,
            "window_rows": WINDOW_ROWS,
            "mergeml": ours,
            "command_seconds": [round(c.seconds, 3) for c in commands],
            "command_peak_rss_mb": round(min(c.peak_rss_mb for c in commands), 1),
            "command_drifted": _drifted_in(report),
            "log_read": log_read,
            "evidently": theirs,
            "evidently_missing": why,
        }
    }
    rows = []
    if theirs is not None:
        rows.append(
            harness.Result(
                "drift 200k×30 vs Evidently (mergeml/Ev.)",
                theirs["seconds"],
                best,
                "s",
                round(1 / SPEEDUP, 3),
            )
        )
    rows += [
        harness.Result(f"drift 200k×30 vs {LIMIT_S:g} s limit", LIMIT_S, best, "s", 1.0),
        harness.Result("drift peak RSS / window frame", frame_mb, peak_mb, "MB", MEMORY_RATIO),
        harness.Result(
            "log read: files opened / window's files",
            log_read["window_files"],
            log_read["opened"],
            "n",
            1.0,
        ),
    ]
    rows[0].detail.update(detail)
    return rows


def _drifted_in(report: dict[str, Any]) -> list[str]:
    """The drifted feature names in `mergeml monitor drift --json` output."""
    features = report.get("features") or report.get("result", {}).get("features") or []
    return sorted(f["column"] for f in features if isinstance(f, dict) and f.get("drifted"))


def print_detail(d: dict[str, Any]) -> None:
    ours, theirs, log = d["mergeml"], d.get("evidently"), d["log_read"]
    runs = " ".join(f"{t:.3f}" for t in ours["seconds"])
    print(
        f"\ndrift: {d['reference_rows']:,}-row reference profile ({d['profile_bytes'] / 1024:.0f}"
        f" kB, built in {d['profile_build_s']:.2f} s, untimed) vs a {d['window_rows']:,}-row"
        f" window, {d['features']} features; methods {', '.join(ours['methods'])}"
    )
    print(f"  mergeml drift() runs (s): {runs}")
    command_runs = " ".join(f"{t:.2f}" for t in d["command_seconds"])
    print(
        f"  mergeml monitor drift --current FILE (whole process, s): {command_runs};"
        f" peak RSS {d['command_peak_rss_mb']:.0f} MB"
    )
    mb = harness.MB
    print(
        f"  memory (MB): interpreter + profile {ours['rss_base'] / mb:.0f}, window loaded"
        f" {ours['rss_loaded'] / mb:.0f} (read peak {ours['hwm_load'] / mb:.0f}), peak during"
        f" drift {ours['hwm_drift'] / mb:.0f}; window frame {ours['frame_bytes'] / mb:.0f}"
    )
    print(f"  mergeml drifted ({len(ours['drifted'])}): {', '.join(ours['drifted'])}")
    if theirs is None:
        print(f"  Evidently: not run: {d['evidently_missing']}")
    else:
        print(
            f"  Evidently {theirs['version']} (pandas {theirs['pandas']}): Report.run"
            f" {theirs['seconds']:.1f} s; drifted ({theirs['drifted_count']:.0f}):"
            f" {', '.join(theirs['drifted'])}"
        )
        fastest = min(ours["seconds"])
        print(f"  mergeml drift() is {theirs['seconds'] / fastest:,.0f}x faster than Evidently")
    print(
        f"  log read: {log['days']} day partitions ({log['part_files']} part files), a"
        f" {log['window_days']}-day window: opened {log['opened']} files of the window's"
        f" {log['window_files']}, outside it {len(log['opened_outside_window'])};"
        f" {log['rows']:,} rows (expected {log['expected_rows']:,}) in {log['seconds']:.3f} s"
    )
