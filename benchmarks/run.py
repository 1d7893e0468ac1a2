"""Speed and memory benchmarks: mergeml's DVC pipeline against a bare baseline, in one run.

    python benchmarks/run.py [--quick]
                             [--only full|noop|scale|report|registry|numerics|predict|serve|drift]
                             [--reps N]
                             [--scale-reps N]

Every number is a ratio against a baseline measured in the same run on the same machine,
except `report vs 2 s limit` and `registry vs 0.5 s limit`, which are times against a fixed
limit. `registry vs gto show` is mergeml / gto, so ≤ 0.1 means gto is at least 10x slower.
Progress goes to stderr; the table, the per-stage profiles and the final
``N passed, M failed`` line go to stdout; the results go to benchmarks/results/latest.json.
The exit code is 0 whatever the ratios; it is non-zero only when the harness breaks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.projects import TINY, Edits, copy_dvc_config, copy_project  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
PYTHON = sys.executable
STAGES = ("compose", "prepare", "train", "schema", "evaluate")
MB = 1024 * 1024
SCALE_ROWS, SCALE_NOISE = 1_000_000, 20
LR_EDITS: Edits = {
    "params/config.yaml": [("- model: hist_gradient_boosting", "- model: logistic_regression")]
}
SCALE_EDITS: Edits = {
    "params/data/synthetic.yaml": (
        ("n_rows: 50000", f"n_rows: {SCALE_ROWS}"),
        ("n_noise_features: 0", f"n_noise_features: {SCALE_NOISE}"),
    )
}
REPORT_COMMITS, REPORT_PARAM_EVERY, REPORT_REPS, REPORT_LIMIT_S = 1000, 50, 5, 2.0
REGISTRY_VERSIONS, REGISTRY_REPS, REGISTRY_LIMIT_S = 1000, 5, 0.5
REGISTRY_ARTIFACT, REGISTRY_STAGES = "tabular-model", ("staging", "production")
PREDICT_ROWS, PREDICT_SMALL_ROWS, PREDICT_REPS = 1_000_000, 100_000, 2
PREDICT_RATE_TARGET = 0.9  # mergeml predict rows/s at least this share of bare model.predict
# This repository's own dvc.yaml and dvc.lock (four stages, ~200 lines) are what every
# registry version carries, each lock with its own model md5 (train's out, evaluate's dep).
REGISTRY_MODEL_PATH = "models/model.skops"
PROFILE_COLUMNS = (
    ("wall s", "seconds", ".2f"),
    ("import s", "import_seconds", ".2f"),
    ("work s", "work_seconds", ".2f"),
    ("peak MB", "peak_rss_mb", ".0f"),
    ("import MB", "import_rss_mb", ".0f"),
)

# One interpreter doing what the four stages do, on the same params and data.
BARE_SCRIPT = """\
from pathlib import Path

from mergeml.config.compose import compose_params, dump_params
from mergeml.config.schema import (
    EvaluateParams, MetricNames, PrepareParams, TargetSpec, TrainParams, parse_params,
)
from mergeml.data.prepare import prepare
from mergeml.evaluation.metrics import evaluate_classifier, write_reports
from mergeml.files import dumps_json, write_text_atomic
from mergeml.model.io import save_model
from mergeml.model.train import split_xy, train_model

data = compose_params(Path("params"))
write_text_atomic(Path("params.yaml"), dump_params(data))
p = parse_params(data)
target = TargetSpec(task=p.data.task, target=p.data.target)
prepared = prepare(PrepareParams(seed=p.seed, data=p.data, split=p.split), Path())
Path("data/prepared").mkdir(parents=True, exist_ok=True)
for name, frame in (("train", prepared.train), ("test", prepared.test)):
    frame.to_parquet(f"data/prepared/{name}.parquet", index=False)
write_text_atomic(Path("reports/data.json"), dumps_json(prepared.summary))
train_params = TrainParams(
    threads=p.threads, data=target, preprocess=p.preprocess, model=p.model
)
model = train_model(prepared.train, train_params)
save_model(model, Path("models/model.skops"))
ep = EvaluateParams(
    threads=p.threads,
    data=target,
    evaluate=MetricNames(
        classification_metrics=p.evaluate.classification_metrics,
        regression_metrics=p.evaluate.regression_metrics,
    ),
)
features, truth = split_xy(prepared.test, ep.data.target)
result = evaluate_classifier(
    model, features, truth.to_numpy(), names=ep.evaluate.classification_metrics
)
write_reports(result, Path("reports"))
"""

# Runs a stage script unchanged and records the modules it loaded, in load order.
STAGE_WRAPPER = """\
import atexit, json, runpy, sys
from pathlib import Path

out, script = sys.argv[1], sys.argv[2]
atexit.register(lambda: Path(out).write_text(json.dumps(list(sys.modules))))
sys.argv = [script]
sys.path[0] = str(Path(script).resolve().parent)
runpy.run_path(script, run_name="__main__")
"""

# A bare interpreter that imports the same modules as a stage and does nothing else.
IMPORT_ONLY = """\
import importlib, json, sys

for name in json.loads(open(sys.argv[1]).read()):
    if name not in sys.modules and not name.startswith("__"):
        try:
            importlib.import_module(name)
        except Exception:
            pass
"""

# Put first on PATH for `dvc repro` only: times each stage command inside the DVC run.
PYTHON_SHIM = """\
#!/bin/sh
start=$(date +%s.%N)
"$BENCH_REAL_PYTHON" "$@"
rc=$?
echo "$start $(date +%s.%N) $*" >> "$BENCH_STAGE_LOG"
exit $rc
"""

# In a built project: the model as `mergeml pull` writes it, and synthetic inputs (the
# generator's default columns, target included) of each size as Parquet.
PREDICT_SETUP = """\
import hashlib, sys
from pathlib import Path

from mergeml.data.synthetic import generate_transactions
from mergeml.model.schema import parse_schema
from mergeml.serve.fetch import write_pulled
from mergeml.serve.resolve import Target

data = Path("models/model.skops").read_bytes()
target = Target(
    name="tabular-model", version=None, stage=None, commit="0" * 40,
    model_path="models/model.skops", md5=hashlib.md5(data).hexdigest(),
    schema=parse_schema(Path("models/input_schema.json").read_text()),
)
write_pulled(Path("pulled"), target, data)
for rows in map(int, sys.argv[1:]):
    frame = generate_transactions(rows, seed=7)
    frame.to_parquet(f"input-{rows}.parquet", index=False)
    size = Path(f"input-{rows}.parquet").stat().st_size
    print(rows, int(frame.memory_usage(deep=True).sum()), size)
"""

# The baseline: the whole input in memory, then one bare model.predict, timed alone.
PREDICT_BARE = """\
import sys, time
from pathlib import Path

import pandas as pd

from mergeml.model.io import load_model
from mergeml.model.schema import parse_schema

model = load_model(Path("pulled/model.skops"))
schema = parse_schema(Path("models/input_schema.json").read_text())
frame = pd.read_parquet(sys.argv[1])[[c["name"] for c in schema["columns"]]]
start = time.perf_counter()
model.predict(frame)
print(time.perf_counter() - start)
"""

FRAME_BYTES = """\
from mergeml.data.synthetic import generate_transactions

frame = generate_transactions({rows}, seed=42, n_noise_features={noise})
print(frame.shape[1] - 1, int(frame.memory_usage(deep=True).sum()))
"""


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Run:
    """One finished child process: wall seconds and the peak RSS of its process tree."""

    seconds: float
    peak_rss_mb: float
    stdout: str
    stages: dict[str, float] = field(default_factory=dict)


def run(
    args: Sequence[str], cwd: Path, env: dict[str, str], *, stderr_to: Path | None = None
) -> Run:
    """Run ``args``; time it and read its peak RSS with wait4 (Linux: max over the tree)."""
    out_path, err_path = cwd / ".bench.out", stderr_to or cwd / ".bench.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(args), cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = out_path.read_text(), err_path.read_text()
    out_path.unlink()
    if stderr_to is None:
        err_path.unlink()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode} in {cwd}\n{stderr[-3000:]}")
    return Run(seconds, usage.ru_maxrss / 1024, stdout)


def bench_env(tmp: Path) -> dict[str, str]:
    bin_dir = str(Path(PYTHON).parent)
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "DVC_NO_ANALYTICS": "1",
        # OpenMP threads sleep instead of spinning while they wait: on a shared machine
        # spinning made one HistGradientBoosting fit 6-10x slower from run to run.
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
        "DVC_SITE_CACHE_DIR": str(tmp / "dvc-site-cache"),
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    }


def git(project: Path, env: dict[str, str], *args: str, stdin: bytes | None = None) -> str:
    """`git ARGS` in ``project``; raises with git's stderr when it fails."""
    done = subprocess.run(("git", *args), cwd=project, env=env, input=stdin, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} exited {done.returncode}: {done.stderr!r}")
    return done.stdout.decode()


def set_param(text: str, key: str, value: str) -> str:
    """Every ``key: old`` line of a params.yaml or dvc.lock text, now ``key: value``."""
    new, count = re.subn(rf"(?m)^(\s*{key}): .*$", rf"\g<1>: {value}", text)
    if not count:
        raise RuntimeError(f"no '{key}:' line to edit")
    return new


def shift_metrics(text: str, step: float) -> str:
    """metrics.json with the top-level scores moved by ``step`` (log_loss the other way)."""
    metrics = json.loads(text)
    for name in ("roc_auc", "average_precision", "accuracy"):
        metrics[name] = round(metrics[name] + step, 6)
    metrics["log_loss"] = round(metrics["log_loss"] - step, 6)
    return json.dumps(metrics, indent=2) + "\n"


def history_stream(project: Path, commits: int, param_every: int) -> bytes:
    """A `git fast-import` stream of ``commits`` commits on main, each changing notes.txt;
    every ``param_every``-th one also changes model.max_iter (params.yaml and dvc.lock)
    and reports/metrics.json, as if the pipeline had been rerun."""
    files = {name: (project / name).read_text() for name in ("params.yaml", "dvc.lock")}
    metrics = (project / "reports/metrics.json").read_text()
    out: list[bytes] = []

    def blob(path: str, text: str) -> None:
        data = text.encode()
        out.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))

    for i in range(1, commits + 1):
        changes = {"notes.txt": f"note {i}\n"}
        if i % param_every == 0:
            step = i // param_every
            files = {name: set_param(t, "max_iter", str(20 + step)) for name, t in files.items()}
            metrics = shift_metrics(metrics, 0.0001)
            changes |= {**files, "reports/metrics.json": metrics}
        message = f"commit {i}".encode()
        when = 1_700_000_000 + 600 * i
        out.append(b"commit refs/heads/main\n")
        out.append(b"committer bench <bench@example.invalid> %d +0000\n" % when)
        out.append(b"data %d\n%s\n" % (len(message), message))
        if i == 1:
            out.append(b"from refs/heads/main^0\n")
        for path, text in changes.items():
            blob(path, text)
        out.append(b"\n")
    return b"".join(out)


def registry_version(i: int) -> str:
    """The ``i``-th registered version (1-based), increasing in semver order."""
    return f"v1.{i // 100}.{i % 100}"


def registry_files(root: Path = ROOT) -> tuple[str, str, str, dict[str, Any]]:
    """This repository's dvc.yaml and dvc.lock, the lock's model md5 and its metrics."""
    import yaml

    dvc_yaml, lock = ((root / name).read_text() for name in ("dvc.yaml", "dvc.lock"))
    stages = yaml.load(lock, Loader=yaml.BaseLoader)["stages"]
    (md5,) = {
        out["md5"]
        for stage in stages.values()
        for out in stage.get("outs", [])
        if out["path"] == REGISTRY_MODEL_PATH
    }
    metrics = json.loads((root / "reports/metrics.json").read_text())
    return dvc_yaml, lock, md5, metrics


def registry_md5(i: int) -> str:
    """The model md5 that version ``i`` records in its dvc.lock."""
    return f"{i:032x}"


def registry_stream(versions: int) -> bytes:
    """A `git fast-import` stream: ``versions`` commits on main, each with its own dvc.lock
    (this repository's, the model md5 replaced by version i's) and reports/metrics.json (the
    first also adds this repository's dvc.yaml); then per commit an annotated version tag
    `NAME@vX.Y.Z` and a stage tag `NAME#STAGE#N` (stages alternate, N increasing), with
    tagger times strictly increasing."""
    dvc_yaml, lock, model_md5, metrics = registry_files()
    out: list[bytes] = []

    def data(text: str) -> bytes:
        raw = text.encode()
        return b"data %d\n%s\n" % (len(raw), raw)

    for i in range(1, versions + 1):
        scores = {**metrics, "roc_auc": round(0.8 + i / 1e5, 6)}
        files = {
            "dvc.lock": lock.replace(model_md5, registry_md5(i)),
            "reports/metrics.json": json.dumps(scores, indent=2) + "\n",
        }
        if i == 1:
            files = {"dvc.yaml": dvc_yaml, **files}
        out.append(b"commit refs/heads/main\nmark :%d\n" % i)
        out.append(b"committer bench <bench@example.invalid> %d +0000\n" % (1_700_000_000 + 60 * i))
        out.append(data(f"train {i}"))
        for path, text in files.items():
            out.append(b"M 100644 inline %s\n" % path.encode() + data(text))
        out.append(b"\n")
    for i in range(1, versions + 1):
        stage = REGISTRY_STAGES[(i - 1) % len(REGISTRY_STAGES)]
        version = registry_version(i)
        for k, (name, message) in enumerate(
            (
                (f"{REGISTRY_ARTIFACT}@{version}", f"Registering {version}"),
                (f"{REGISTRY_ARTIFACT}#{stage}#{i}", f"Assigning {stage} to {version}"),
            )
        ):
            when = 1_700_000_000 + 60 * i + 10 + k
            out.append(b"tag %s\nfrom :%d\n" % (name.encode(), i))
            out.append(b"tagger bench <bench@example.invalid> %d +0000\n" % when)
            out.append(data(message))
    return b"".join(out)


def make_project(dest: Path, edits: Edits, env: dict[str, str]) -> Path:
    """A fresh git + DVC project with no outputs (tests/conftest.py::make_project)."""
    copy_project(dest, edits)
    for args in (("git", "init", "-q", "-b", "main"), (PYTHON, "-m", "dvc", "init", "-q")):
        run(args, dest, env)
    copy_dvc_config(dest)
    run(("git", "add", "-A"), dest, env)
    run(("git", "commit", "-q", "-m", "project"), dest, env)
    return dest


@dataclass
class Result:
    name: str
    baseline: float
    mergeml: float
    unit: str
    target: float
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.mergeml / self.baseline

    @property
    def passed(self) -> bool:
        return self.ratio <= self.target


class Bench:
    def __init__(self, tmp: Path, reps: int, scale_reps: int) -> None:
        self.tmp, self.reps, self.scale_reps = tmp, reps, scale_reps
        self.env = bench_env(tmp)
        self.bare = tmp / "bare.py"
        self.bare.write_text(BARE_SCRIPT)
        (tmp / "wrapper.py").write_text(STAGE_WRAPPER)
        (tmp / "import_only.py").write_text(IMPORT_ONLY)
        shim = tmp / "shim" / "python"
        shim.parent.mkdir()
        shim.write_text(PYTHON_SHIM)
        shim.chmod(0o755)
        self.count = 0

    def dvc(self, project: Path, *args: str) -> Run:
        """`dvc ARGS` with each stage command timed by the shim (a few ms per stage)."""
        log = project / ".bench-stages"
        env = {
            **self.env,
            "PATH": f"{self.tmp / 'shim'}{os.pathsep}{self.env['PATH']}",
            "BENCH_REAL_PYTHON": PYTHON,
            "BENCH_STAGE_LOG": str(log),
        }
        result = run((PYTHON, "-m", "dvc", *args), project, env)
        stages: dict[str, float] = {}
        if log.exists():
            for line in log.read_text().splitlines():
                start, end, script = line.split()[:3]
                stages[Path(script).stem] = round(float(end) - float(start), 3)
            log.unlink()
        return Run(result.seconds, result.peak_rss_mb, result.stdout, stages)

    def fresh(self, kind: str, edits: Edits, *, dvc: bool) -> Path:
        self.count += 1
        dest = self.tmp / f"{kind}-{self.count}"
        return make_project(dest, edits, self.env) if dvc else copy_project(dest, edits)

    def pipeline_vs_bare(self, label: str, edits: Edits, reps: int) -> tuple[Run, Run, Path]:
        """Min of ``reps`` alternating runs of `dvc repro -f` and the bare script."""
        best_dvc: Run | None = None
        best_bare: Run | None = None
        project = self.tmp
        for rep in range(reps):
            if rep:
                shutil.rmtree(project)
            project = self.fresh(label, edits, dvc=True)
            progress(f"{label}: dvc repro -f ({rep + 1}/{reps})")
            dvc = self.dvc(project, "repro", "-f")
            progress(f"{label}:   {dvc.seconds:.2f} s; bare script ({rep + 1}/{reps})")
            plain = self.fresh(f"{label}-bare", edits, dvc=False)
            bare = run((PYTHON, str(self.bare)), plain, self.env)
            progress(f"{label}:   {bare.seconds:.2f} s")
            shutil.rmtree(plain)
            best_dvc = dvc if best_dvc is None or dvc.seconds < best_dvc.seconds else best_dvc
            best_bare = bare if best_bare is None or bare.seconds < best_bare.seconds else best_bare
        assert best_dvc is not None
        assert best_bare is not None
        return best_dvc, best_bare, project

    def profile(self, project: Path) -> list[dict[str, Any]]:
        """Rerun each stage command alone: wall time and peak RSS, then the same for an
        interpreter that only imports the modules the stage loaded (with -X importtime)."""
        rows = []
        startup = min(run((PYTHON, "-c", "pass"), project, self.env).seconds for _ in range(3))
        for stage in STAGES:
            progress(f"profile: stage {stage}")
            modules = self.tmp / f"modules-{stage}.json"
            script = f"pipelines/{stage}.py"
            whole = run(
                (PYTHON, str(self.tmp / "wrapper.py"), str(modules), script), project, self.env
            )
            log = self.tmp / f"importtime-{stage}.txt"
            args = (PYTHON, "-X", "importtime", str(self.tmp / "import_only.py"), str(modules))
            imports = run(args, project, self.env, stderr_to=log)
            rows.append(
                {
                    "stage": stage,
                    "seconds": round(whole.seconds, 3),
                    "import_seconds": round(imports.seconds, 3),
                    "work_seconds": round(whole.seconds - imports.seconds, 3),
                    "peak_rss_mb": round(whole.peak_rss_mb, 1),
                    "import_rss_mb": round(imports.peak_rss_mb, 1),
                    "top_imports": top_imports(log.read_text()),
                }
            )
        rows.append({"stage": "(python -c pass)", "seconds": round(startup, 3)})
        return rows

    def full(self) -> tuple[Result, Path]:
        dvc, bare, project = self.pipeline_vs_bare("full", {}, self.reps)
        detail = {**run_detail(dvc, bare), "profile": self.profile(project)}
        return Result(
            "full pipeline (50k rows)", bare.seconds, dvc.seconds, "s", 2.0, detail
        ), project

    def noop(self, project: Path | None) -> Result:
        if project is None:
            project = self.fresh("noop", {}, dvc=True)
            progress("noop: building a project (dvc repro, untimed)")
            self.dvc(project, "repro")
        repro_times, status_times = [], []
        for rep in range(5):
            progress(f"noop: dvc repro / dvc status ({rep + 1}/5)")
            repro = self.dvc(project, "repro")
            status = self.dvc(project, "status")
            if "up to date" not in status.stdout:
                raise RuntimeError(f"project is not up to date:\n{status.stdout}{repro.stdout}")
            repro_times.append(repro.seconds)
            status_times.append(status.seconds)
        detail = {"repro_seconds": repro_times, "status_seconds": status_times}
        return Result(
            "no-op repro vs status", min(status_times), min(repro_times), "s", 1.2, detail
        )

    def scale(self) -> list[Result]:
        label = f"scale ({SCALE_ROWS // 1000}k rows)"
        dvc, bare, project = self.pipeline_vs_bare("scale", SCALE_EDITS, self.scale_reps)
        progress("scale: per-stage profile (reruns every stage alone)")
        profile = self.profile(project)
        code = FRAME_BYTES.format(rows=SCALE_ROWS, noise=SCALE_NOISE)
        out = run((PYTHON, "-c", code), self.tmp, self.env).stdout.split()
        n_features, frame_bytes = int(out[0]), int(out[1])
        stages = [row for row in profile if "peak_rss_mb" in row]
        largest = max(stages, key=lambda row: row["peak_rss_mb"])
        net = largest["peak_rss_mb"] - largest["import_rss_mb"]
        detail = {**run_detail(dvc, bare), "features": n_features, "profile": profile}
        memory = {
            "largest_stage": largest["stage"],
            "stage_peak_rss_mb": largest["peak_rss_mb"],
            "import_rss_mb": largest["import_rss_mb"],
            "frame_mb": round(frame_bytes / MB, 1),
        }
        return [
            Result(f"{label} time", bare.seconds, dvc.seconds, "s", 1.10, detail),
            Result(f"{label} net peak RSS / frame", frame_bytes / MB, net, "MB", 2.0, memory),
        ]

    def numerics(self) -> list[Result]:
        """The cost of pinned numerics: `mergeml repro --numerics pinned -f` against the
        native kernels, on fresh projects, min of alternating runs."""
        results = []
        for label, edits in (("default model", {}), ("logistic regression", LR_EDITS)):
            best: dict[str, float] = {}
            for rep in range(self.reps):
                for mode in ("native", "pinned"):
                    project = self.fresh(f"numerics-{mode}", edits, dvc=True)
                    progress(f"numerics, {label}: {mode} ({rep + 1}/{self.reps})")
                    args = (PYTHON, "-m", "mergeml", "repro", "--numerics", mode, "-f")
                    seconds = run(args, project, self.env).seconds
                    progress(f"numerics, {label}:   {seconds:.2f} s")
                    best[mode] = min(best.get(mode, seconds), seconds)
                    shutil.rmtree(project)
            results.append(
                Result(
                    f"pinned vs native numerics, {label}", best["native"], best["pinned"], "s", 1.5
                )
            )
        return results

    def report_project(self) -> Path:
        """Tiny project, `dvc repro`, commit, 1,000 commits on main, then a branch `pr`
        whose one commit changes model.learning_rate and the metrics."""
        project = self.fresh("report", TINY, dvc=True)
        progress("report: dvc repro on a tiny project (untimed)")
        self.dvc(project, "repro")
        git(project, self.env, "add", "-A")
        git(project, self.env, "commit", "-q", "-m", "pipeline outputs")
        progress(f"report: {REPORT_COMMITS} commits on main with git fast-import")
        stream = history_stream(project, REPORT_COMMITS, REPORT_PARAM_EVERY)
        git(project, self.env, "fast-import", "--quiet", stdin=stream)
        git(project, self.env, "reset", "-q", "--hard", "main")
        git(project, self.env, "checkout", "-q", "-b", "pr")
        for name in ("params.yaml", "dvc.lock"):
            path = project / name
            path.write_text(set_param(path.read_text(), "learning_rate", "0.05"))
        metrics = project / "reports/metrics.json"
        metrics.write_text(shift_metrics(metrics.read_text(), 0.002))
        git(project, self.env, "commit", "-q", "-am", "learning_rate 0.05")
        return project

    def report(self) -> list[Result]:
        project = self.report_project()
        # --out is a scratch file, not /dev/null: the atomic write renames a temporary file
        # over the target, which would replace /dev/null itself when run as root.
        out = self.tmp / "report.md"
        mergeml = (PYTHON, "-m", "mergeml", "report", "--base", "main", "--out", str(out))
        metrics_diff = (PYTHON, "-m", "dvc", "metrics", "diff", "main")
        params_diff = (PYTHON, "-m", "dvc", "params", "diff", "main")
        progress("report: one untimed run of each side, checking what they show")
        run(mergeml, project, self.env)
        shown = {
            "mergeml report": out.read_text(),
            "dvc metrics diff": run(metrics_diff, project, self.env).stdout,
            "dvc params diff": run(params_diff, project, self.env).stdout,
        }
        for what, text in shown.items():
            wanted = "learning_rate" if "params" in what else "roc_auc"
            if wanted not in text or ("report" in what and "roc_auc" not in text):
                raise RuntimeError(f"{what} does not show the change:\n{text[-2000:]}")
        report_times, metrics_times, params_times = [], [], []
        for rep in range(REPORT_REPS):
            progress(f"report: report / metrics diff + params diff ({rep + 1}/{REPORT_REPS})")
            report_times.append(run(mergeml, project, self.env).seconds)
            metrics_times.append(run(metrics_diff, project, self.env).seconds)
            params_times.append(run(params_diff, project, self.env).seconds)
        log = self.tmp / "importtime-report.txt"
        run((PYTHON, "-X", "importtime", *mergeml[1:]), project, self.env, stderr_to=log)
        pairs = [m + p for m, p in zip(metrics_times, params_times, strict=True)]
        best = min(report_times)
        detail = {
            "commits_on_main": int(git(project, self.env, "rev-list", "--count", "main")),
            "report_seconds": [round(t, 3) for t in report_times],
            "metrics_diff_seconds": [round(t, 3) for t in metrics_times],
            "params_diff_seconds": [round(t, 3) for t in params_times],
            "report_top_imports": top_imports(log.read_text()),
        }
        return [
            Result("report vs metrics+params diff", min(pairs), best, "s", 1.0, detail),
            Result(f"report vs {REPORT_LIMIT_S:g} s limit", REPORT_LIMIT_S, best, "s", 1.0),
        ]

    def registry_project(self) -> Path:
        """A git repo of 1,000 commits and 2,000 GTO annotated tags, all via fast-import."""
        project = self.tmp / "registry"
        project.mkdir()
        git(project, self.env, "init", "-q", "-b", "main")
        progress(
            f"registry: {REGISTRY_VERSIONS} commits + {2 * REGISTRY_VERSIONS} tags (fast-import)"
        )
        git(project, self.env, "fast-import", "--quiet", stdin=registry_stream(REGISTRY_VERSIONS))
        git(project, self.env, "reset", "-q", "--hard", "main")
        return project

    def registry(self) -> list[Result]:
        project = self.registry_project()
        out = self.tmp / "registry.json"
        mergeml = (PYTHON, "-m", "mergeml", "registry", "--json")
        gto = (str(Path(PYTHON).parent / "gto"), "show", "--json")

        def run_mergeml() -> Run:
            result = run(mergeml, project, self.env)
            out.write_text(result.stdout)
            return result

        progress("registry: one untimed run of each side, checking the stage holders agree")
        ours = json.loads(run_mergeml().stdout)["artifacts"]
        theirs = json.loads(run(gto, project, self.env).stdout)
        ours_stages = {name: art["stages"] for name, art in ours.items()}
        gto_stages = {
            name: {stage: v for stage, v in (art.get("stage") or {}).items() if v}
            for name, art in theirs.items()
        }
        # Stages alternate from version 1, so the last two versions hold the two stages.
        newest = (REGISTRY_VERSIONS - 1, REGISTRY_VERSIONS)
        last = {REGISTRY_STAGES[(i - 1) % 2]: registry_version(i) for i in newest}
        if ours_stages != gto_stages or ours_stages.get(REGISTRY_ARTIFACT) != last:
            raise RuntimeError(
                f"stage holders differ: mergeml {ours_stages}, gto {gto_stages}, expected {last}"
            )
        versions = len(ours[REGISTRY_ARTIFACT]["versions"])
        if versions != REGISTRY_VERSIONS:
            raise RuntimeError(f"mergeml registry shows {versions} versions")
        shown = {v["version"]: v["model_md5"] for v in ours[REGISTRY_ARTIFACT]["versions"]}
        wanted = {registry_version(i): registry_md5(i) for i in range(1, versions + 1)}
        if shown != wanted:
            wrong = sorted(k for k in wanted if shown.get(k) != wanted[k])
            raise RuntimeError(f"mergeml registry shows the wrong model md5 for {wrong[:5]}")
        ours_times, gto_times = [], []
        for rep in range(REGISTRY_REPS):
            progress(f"registry: mergeml registry / gto show ({rep + 1}/{REGISTRY_REPS})")
            ours_times.append(run_mergeml().seconds)
            gto_times.append(run(gto, project, self.env).seconds)
        log = self.tmp / "importtime-registry.txt"
        run((PYTHON, "-X", "importtime", *mergeml[1:]), project, self.env, stderr_to=log)
        best = min(ours_times)
        detail = {
            "versions": versions,
            "tags": 2 * REGISTRY_VERSIONS,
            "stage_holders": ours_stages,
            "registry_seconds": [round(t, 3) for t in ours_times],
            "gto_show_seconds": [round(t, 3) for t in gto_times],
            "registry_top_imports": top_imports(log.read_text()),
        }
        return [
            Result("registry vs gto show (mergeml/gto)", min(gto_times), best, "s", 0.1, detail),
            Result(f"registry vs {REGISTRY_LIMIT_S:g} s limit", REGISTRY_LIMIT_S, best, "s", 1.0),
        ]


class PredictBench:
    """`mergeml predict` on a model built by `dvc repro` (default params) against a bare
    `model.predict` on the same rows held in memory, alternating, min of the runs."""

    def __init__(self, bench: Bench) -> None:
        self.bench, self.env = bench, bench.env

    def project(self) -> tuple[Path, dict[int, tuple[int, int]]]:
        """A built project with pulled/ and the inputs; {rows: (frame bytes, file bytes)}."""
        project = self.bench.fresh("predict", {}, dvc=True)
        progress("predict: dvc repro, default params (untimed)")
        self.bench.dvc(project, "repro")
        progress(f"predict: inputs of {PREDICT_ROWS:,} and {PREDICT_SMALL_ROWS:,} rows")
        sizes = (str(PREDICT_ROWS), str(PREDICT_SMALL_ROWS))
        (project / "setup.py").write_text(PREDICT_SETUP)
        (project / "bare.py").write_text(PREDICT_BARE)
        out = run((PYTHON, "setup.py", *sizes), project, self.env).stdout.split("\n")
        found = {int(r): (int(f), int(b)) for r, f, b in (line.split() for line in out if line)}
        return project, found

    def predict(self, project: Path, rows: int) -> tuple[Run, dict[str, Any]]:
        """`mergeml predict --json` on ``rows`` rows: the process, and what it printed."""
        args = (PYTHON, "-m", "mergeml", "predict", "--model", "pulled", "--json")
        done = run((*args, f"input-{rows}.parquet", "out.parquet"), project, self.env)
        return done, json.loads(done.stdout)

    def results(self) -> list[Result]:
        project, sizes = self.project()
        best: dict[str, float] = {}
        for rep in range(PREDICT_REPS):
            progress(f"predict: bare model.predict / mergeml predict ({rep + 1}/{PREDICT_REPS})")
            bare = run((PYTHON, "bare.py", f"input-{PREDICT_ROWS}.parquet"), project, self.env)
            ours, doc = self.predict(project, PREDICT_ROWS)
            if doc["rows"] != PREDICT_ROWS:
                raise RuntimeError(f"mergeml predict scored {doc['rows']} rows")
            progress(f"predict:   bare {float(bare.stdout):.2f} s, mergeml {doc['seconds']:.2f} s")
            for key, value in (
                ("bare_s", float(bare.stdout)),
                ("predict_s", doc["seconds"]),
                ("predict_wall_s", ours.seconds),
                ("predict_rss", ours.peak_rss_mb),
                ("bare_rss", bare.peak_rss_mb),
            ):
                best[key] = min(best.get(key, value), value)
            batches = doc["batches"]
        progress(f"predict: {PREDICT_SMALL_ROWS:,} rows (peak RSS reference)")
        small, _ = self.predict(project, PREDICT_SMALL_ROWS)
        frame_mb, file_mb = (n / MB for n in sizes[PREDICT_ROWS])
        detail = {
            "rows": PREDICT_ROWS,
            "batches": batches,
            "bare_rows_per_s": round(PREDICT_ROWS / best["bare_s"]),
            "predict_rows_per_s": round(PREDICT_ROWS / best["predict_s"]),
            "predict_wall_seconds": round(best["predict_wall_s"], 2),
            "input_frame_mb": round(frame_mb, 1),
            "input_file_mb": round(file_mb, 1),
            "predict_peak_rss_mb": round(best["predict_rss"], 1),
            "predict_small_peak_rss_mb": round(small.peak_rss_mb, 1),
            "bare_peak_rss_mb": round(best["bare_rss"], 1),
        }
        label = f"predict {PREDICT_ROWS // 1000}k rows"
        return [
            Result(
                f"{label} vs bare model.predict (s)",
                best["bare_s"],
                best["predict_s"],
                "s",
                round(1 / PREDICT_RATE_TARGET, 2),
                detail,
            ),
            Result(
                f"{label} peak RSS / at {PREDICT_SMALL_ROWS // 1000}k rows",
                small.peak_rss_mb,
                best["predict_rss"],
                "MB",
                1.25,
            ),
        ]


def print_predict_detail(d: dict[str, Any]) -> None:
    print(
        f"\npredict: {d['rows']:,} rows in {d['batches']} batches:"
        f" mergeml predict {d['predict_rows_per_s']:,} rows/s"
        f" (whole process {d['predict_wall_seconds']:.2f} s), bare model.predict"
        f" {d['bare_rows_per_s']:,} rows/s; peak RSS {d['predict_peak_rss_mb']:.0f} MB"
        f" ({d['predict_small_peak_rss_mb']:.0f} MB at {PREDICT_SMALL_ROWS:,} rows),"
        f" bare process {d['bare_peak_rss_mb']:.0f} MB; input frame {d['input_frame_mb']:.0f} MB,"
        f" Parquet file {d['input_file_mb']:.0f} MB"
    )


def serve_results(bench: Bench) -> list[Result]:
    """benchmarks/serve.py: `mergeml serve` vs bare predict and MLServer 1.7."""
    from serve import ServeBench  # imported here: it imports this module

    return ServeBench(bench).results()


def drift_results(bench: Bench) -> list[Result]:
    """benchmarks/drift.py: drift of a 200k-row window vs Evidently 0.7 (its own venv)."""
    from drift import results  # imported here: it imports this module

    return results(bench)


def run_detail(dvc: Run, bare: Run) -> dict[str, Any]:
    """Where the best `dvc repro -f` spent its time, and both sides' peak RSS."""
    return {
        "dvc_stage_seconds": dvc.stages,
        "dvc_outside_stages_seconds": round(dvc.seconds - sum(dvc.stages.values()), 3),
        "dvc_tree_peak_rss_mb": round(dvc.peak_rss_mb, 1),
        "bare_peak_rss_mb": round(bare.peak_rss_mb, 1),
    }


def top_imports(importtime_log: str, n: int = 5) -> dict[str, float]:
    """Cumulative import seconds of the top-level packages in a -X importtime log."""
    totals: dict[str, float] = {}
    for line in importtime_log.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if name.startswith("  ") or not cumulative.strip().isdigit():
            continue  # nested: already counted in its top-level parent
        package = name.strip().split(".")[0]
        totals[package] = totals.get(package, 0.0) + int(cumulative) / 1e6
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:n]
    return {name: round(seconds, 3) for name, seconds in ranked}


def print_results(results: list[Result]) -> None:
    head = f"{'benchmark':<40} {'baseline':>11} {'mergeml':>11} {'ratio':>6} {'target':>7}  result"
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.name:<40} {r.baseline:>8.2f} {r.unit:<2} {r.mergeml:>8.2f} {r.unit:<2}"
            f" {r.ratio:>6.2f} {'≤' + str(r.target):>7}  {'PASS' if r.passed else 'FAIL'}"
        )


def print_profile(title: str, detail: dict[str, Any]) -> None:
    stages = ", ".join(f"{k} {v:.2f}" for k, v in detail["dvc_stage_seconds"].items())
    print(f"\n{title}: inside the best `dvc repro -f`: {stages};")
    print(
        f"  DVC outside the stage commands {detail['dvc_outside_stages_seconds']:.2f} s;"
        f" peak RSS: dvc tree {detail['dvc_tree_peak_rss_mb']:.0f} MB,"
        f" bare script {detail['bare_peak_rss_mb']:.0f} MB"
    )
    print(f"{title}: each stage rerun alone (wall = python startup + imports + work)")
    print(f"{'stage':<17}" + "".join(f" {head:>9}" for head, _, _ in PROFILE_COLUMNS), end="")
    print("  top imports (cumulative s)")
    for row in detail["profile"]:
        cells = (
            f" {row[key]:>9{fmt}}" if key in row else " " * 10 for _, key, fmt in PROFILE_COLUMNS
        )
        tops = ", ".join(f"{k} {v:.2f}" for k, v in row.get("top_imports", {}).items())
        print(f"{row['stage']:<17}{''.join(cells)}  {tops}")


def print_runs(
    detail: dict[str, Any], heading: str, runs: Sequence[tuple[str, str]], tops_key: str
) -> None:
    """Each command's times, in run order, then the top imports of mergeml's command."""
    print(f"\n{heading}; runs in order (s):")
    width = max(len(label) for label, _ in runs)
    for label, key in runs:
        print(f"  {label:<{width}}  " + " ".join(f"{t:.2f}" for t in detail[key]))
    tops = ", ".join(f"{k} {v:.2f}" for k, v in detail[tops_key].items())
    print(f"  {runs[0][0].split(' --')[0]} top imports (cumulative s): {tops}")


def print_report_detail(detail: dict[str, Any]) -> None:
    runs = [
        ("mergeml report", "report_seconds"),
        ("dvc metrics diff", "metrics_diff_seconds"),
        ("dvc params diff", "params_diff_seconds"),
    ]
    heading = f"report: {detail['commits_on_main']} commits on main"
    print_runs(detail, heading, runs, "report_top_imports")


def print_registry_detail(detail: dict[str, Any]) -> None:
    runs = [
        ("mergeml registry --json", "registry_seconds"),
        ("gto show --json", "gto_show_seconds"),
    ]
    heading = f"registry: {detail['versions']} versions, {detail['tags']} tags"
    print_runs(detail, heading, runs, "registry_top_imports")


def print_details(results: list[Result]) -> None:
    """After the table: each benchmark's own detail."""
    for r in results:
        if "profile" in r.detail:
            print_profile(r.name, r.detail)
        if "report_top_imports" in r.detail:
            print_report_detail(r.detail)
        if "registry_top_imports" in r.detail:
            print_registry_detail(r.detail)
        if "predict_rows_per_s" in r.detail:
            print_predict_detail(r.detail)
        if "serve" in r.detail:
            from serve import print_detail  # benchmarks/serve.py

            print_detail(r.detail)
        if "drift" in r.detail:
            from drift import print_detail as print_drift  # benchmarks/drift.py

            print_drift(r.detail["drift"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition, skip the scale run")
    parser.add_argument(
        "--only",
        choices=(
            "full",
            "noop",
            "scale",
            "report",
            "registry",
            "numerics",
            "predict",
            "serve",
            "drift",
        ),
        help="run one benchmark",
    )
    parser.add_argument("--reps", type=int, help="full-pipeline repetitions (default 3, quick 1)")
    parser.add_argument("--scale-reps", type=int, default=2, help="scale repetitions (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary projects")
    args = parser.parse_args(argv)
    default = ["full", "noop"] + ([] if args.quick else ["scale"])
    default += ["report", "registry", "numerics", "predict", "serve", "drift"]
    chosen = [args.only] if args.only else default
    tmp = Path(tempfile.mkdtemp(prefix="mergeml-bench-"))
    bench = Bench(tmp, args.reps or (1 if args.quick else 3), args.scale_reps)
    results: list[Result] = []
    project: Path | None = None

    def full() -> None:
        nonlocal project
        result, project = bench.full()
        results.append(result)

    steps: dict[str, Callable[[], None]] = {
        "full": full,
        "noop": lambda: results.append(bench.noop(project)),
        "scale": lambda: results.extend(bench.scale()),
        "report": lambda: results.extend(bench.report()),
        "registry": lambda: results.extend(bench.registry()),
        "numerics": lambda: results.extend(bench.numerics()),
        "predict": lambda: results.extend(PredictBench(bench).results()),
        "serve": lambda: results.extend(serve_results(bench)),
        "drift": lambda: results.extend(drift_results(bench)),
    }
    started, load_before = time.perf_counter(), os.getloadavg()
    try:
        for name in chosen:
            steps[name]()
    finally:
        if args.keep:
            progress(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print_results(results)
    print_details(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "args": vars(args),
        "omp_wait_policy": bench.env["OMP_WAIT_POLICY"],
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "harness_seconds": round(time.perf_counter() - started, 1),
        "load_average_1_5_15": {"start": load_before, "end": os.getloadavg()},
        "self_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "results": [{**asdict(r), "ratio": r.ratio, "passed": r.passed} for r in results],
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    passed = sum(r.passed for r in results)
    load = f"{load_before[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    print(f"\nload average (1 min, {os.cpu_count()} CPUs): {load}")
    print(f"results: {RESULTS.relative_to(ROOT)}")
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
