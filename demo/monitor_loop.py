"""The monitoring loop end to end on one machine: serve, drift, labels, retraining branch.

    python demo/monitor_loop.py [--dir DIR] [--rows 3000] [--tiny] [--built DIR]

Everything happens in a scratch directory (default: a new one under $TMPDIR, printed),
never in this checkout:

1. a copy of this repository's pipeline, `mergeml repro` (what `make repro` runs), committed;
2. per scenario (drift ON, then drift OFF), a clone of it with its own local bare ``origin``
   and a local DVC remote, the model pushed, then `mergeml promote staging` and
   `mergeml promote production`;
3. `mergeml serve --stage production` on a free loopback port, the prediction log in the
   clone's ``logs/``; `demo/traffic.py` sends ``--rows`` rows of
   `generate_transactions(rows, drift=on|off)` over V2 and posts their labels to /feedback;
   the server is stopped with SIGTERM (the log is flushed);
4. `mergeml retrain --log logs --until D` for two window ends D (tomorrow and the day after,
   so both 7-day windows hold today's traffic): params/monitor asks for 2 breached windows
   in a row (``retrain.consecutive_windows``), so the first run records a breach and the
   second pushes ``retrain/tabular-model`` to the bare origin. No GitHub token is used
   (they are removed from the environment): the branch is pushed and the pull request is
   left to a person, as `mergeml retrain` does without a token;
5. what happened: `git log origin/retrain/tabular-model` and its report (drifted
   features, performance) with drift ON; with drift OFF no branch at all.

The exit code is 0 when both scenarios behave so (branch with drift, none without), else 1.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "demo"))
from tests.projects import TINY, copy_dvc_config, copy_project  # noqa: E402
from traffic import send_traffic  # noqa: E402

MODEL = "tabular-model"
BRANCH = f"retrain/{MODEL}"
SECRETS = ("GITHUB_TOKEN", "MERGEML_GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL")
# The features the generator's drift switch moves (src/mergeml/data/synthetic.py).
DRIFTED = (
    "amount",
    "distance_from_home_km",
    "account_age_days",
    "txn_count_24h",
    "channel",
    "country",
)
START_TIMEOUT_S, STOP_TIMEOUT_S = 120.0, 60.0


def say(message: str) -> None:
    print(f"[demo {time.strftime('%H:%M:%S')}] {message}", flush=True)


def environment(scratch: Path) -> dict[str, str]:
    """The commands' environment: no GitHub token, a demo git identity, DVC quiet."""
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.pop("MERGEML_PREDICTION_LOG", None)
    env.update(
        {
            "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(scratch / ".dvc-site-cache"),
            "GIT_AUTHOR_NAME": "mergeml demo",
            "GIT_AUTHOR_EMAIL": "demo@example.invalid",
            "GIT_COMMITTER_NAME": "mergeml demo",
            "GIT_COMMITTER_EMAIL": "demo@example.invalid",
        }
    )
    return env


class Shell:
    """Runs and echoes the commands of the demo in one environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, cwd: Path, *args: str, ok: Sequence[int] = (0,)) -> str:
        shown = " ".join(args).replace(sys.executable + " -m ", "")
        print(f"  $ {shown}", flush=True)
        done = subprocess.run(args, cwd=cwd, env=self.env, capture_output=True, text=True)
        if done.returncode not in ok:
            raise SystemExit(f"demo: `{shown}` exited {done.returncode} in {cwd}:\n{done.stderr}")
        return done.stdout

    def mergeml(self, cwd: Path, *args: str, ok: Sequence[int] = (0,)) -> str:
        return self.run(cwd, sys.executable, "-m", "mergeml", *args, ok=ok)

    def git(self, cwd: Path, *args: str) -> str:
        return self.run(cwd, "git", *args)


def build(sh: Shell, dest: Path, tiny: bool) -> Path:
    """This repository's pipeline in ``dest``, reproduced and committed."""
    say(f"1. a project in {dest}: this repository's pipeline, `mergeml repro`, committed")
    copy_project(dest, TINY if tiny else {})
    labelled = dest / "data/labelled/README.md"  # the folder retraining data goes to
    if not labelled.exists():
        labelled.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "data/labelled/README.md", labelled)
    sh.git(dest, "init", "-q", "-b", "main")
    sh.run(dest, sys.executable, "-m", "dvc", "init", "-q")
    copy_dvc_config(dest)
    sh.git(dest, "add", "-A")
    sh.git(dest, "commit", "-q", "-m", "project")
    sh.mergeml(dest, "repro")
    sh.git(dest, "add", "-A")
    sh.git(dest, "commit", "-q", "-m", "repro: the first model")
    return dest


def promote(sh: Shell, built: Path, scenario: Path) -> Path:
    """A clone of ``built`` with a bare origin and a DVC remote, promoted to production."""
    scenario.mkdir(parents=True)
    project, origin, storage = scenario / "project", scenario / "origin.git", scenario / "storage"
    say(f"2. {project}: bare origin {origin}, DVC remote {storage}, promoted to production")
    shutil.copytree(built, project, symlinks=True)
    sh.git(scenario, "clone", "-q", "--bare", str(project), str(origin))
    sh.git(project, "remote", "add", "origin", str(origin))
    sh.git(project, "fetch", "-q", "origin")
    sh.run(
        project,
        sys.executable,
        "-m",
        "dvc",
        "remote",
        "modify",
        "--local",
        "local",
        "url",
        str(storage),
    )
    sh.run(project, sys.executable, "-m", "dvc", "push", "-q")
    sh.mergeml(project, "promote", "staging", "--message", "demo")
    sh.mergeml(project, "promote", "production", "--message", "demo")
    return project


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/v2/health/ready", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def serve_traffic(sh: Shell, project: Path, rows: int, drift: bool) -> None:
    """`mergeml serve --stage production`, the traffic and labels, then SIGTERM."""
    out = project / "serve.log"
    args = (sys.executable, "-m", "mergeml", "serve", "--stage", "production", "--port", "0")
    say("3. mergeml serve --stage production --port 0 (a free loopback port)")
    with out.open("w") as log:
        server = subprocess.Popen(
            args, cwd=project, env=sh.env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        base = _wait_started(server, out)
        say(f"   {out.read_text().strip().splitlines()[-1]}")
        switch = "ON" if drift else "OFF"
        say(f"   traffic: {rows} rows of generate_transactions(drift={drift}) (drift {switch})")
        sent = send_traffic(base, rows, seed=5, drift=drift)
        say(
            f"   sent {sent.rows} rows in {sent.requests} V2 requests"
            f" ({sent.positives_predicted} predicted fraud); posted {sent.labels_posted} labels"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=STOP_TIMEOUT_S)
    say(f"   SIGTERM: the server flushed its log and exited {code}")
    parts = sorted(p.relative_to(project) for p in (project / "logs").rglob("*.parquet"))
    say(f"   prediction log: {', '.join(map(str, parts))}")


def _wait_started(server: subprocess.Popen[bytes], out: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        found = re.search(r" at (http://\S+) \(", out.read_text())
        if found and _ready(found.group(1)):
            return found.group(1)
        if server.poll() is not None:
            raise SystemExit(f"demo: mergeml serve exited {server.returncode}:\n{out.read_text()}")
        time.sleep(0.2)
    raise SystemExit(f"demo: mergeml serve not ready after {START_TIMEOUT_S:g} s")


def retrain(sh: Shell, project: Path) -> None:
    """Two `mergeml retrain` runs, two window ends: the debounce needs two breaches."""
    today = datetime.now(UTC).date()
    say("4. mergeml retrain, twice (params/monitor: retrain.consecutive_windows = 2)")
    for days in (1, 2):
        until = (today + timedelta(days=days)).isoformat()
        out = sh.mergeml(project, "retrain", "--log", "logs", "--until", until)
        say(f"   window ending {until}: {out.strip()}")


def show(sh: Shell, project: Path) -> bool:
    """What the loop left on the origin; True when a retraining branch exists."""
    sh.git(project, "fetch", "-q", "origin")
    heads = sh.git(project, "branch", "-r", "--list", f"origin/{BRANCH}").strip()
    if not heads:
        say(f"5. no branch {BRANCH} on origin: nothing was opened")
        return False
    say(f"5. origin has {BRANCH}:")
    print(sh.git(project, "log", "--stat", "--format=%h %s", f"main..origin/{BRANCH}"))
    files = sh.git(project, "ls-tree", "-r", "--name-only", f"origin/{BRANCH}", "data/labelled")
    reports = [
        f for f in files.split() if f.startswith(f"data/labelled/{MODEL}-") and f.endswith(".md")
    ]
    if reports:
        text = sh.git(project, "show", f"origin/{BRANCH}:{reports[-1]}")
        print(text)
        drifted = [row.split("|")[1].strip() for row in text.splitlines() if "| yes |" in row]
        moved = [name for name in drifted if name in DRIFTED]
        say(
            f"   drifted in the report: {', '.join(drifted) or 'none'}"
            f" ({len(moved)} of the {len(DRIFTED)} features the drift switch moves)"
        )
        verdict = [row for row in text.splitlines() if row.startswith("**performance:")]
        say(f"   {' '.join(verdict).strip('*') or 'no performance verdict in the report'}")
    return True


def scenario(sh: Shell, built: Path, where: Path, rows: int, drift: bool) -> bool:
    project = promote(sh, built, where)
    serve_traffic(sh, project, rows, drift)
    retrain(sh, project)
    return show(sh, project)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="scratch directory (default: a new temp one)")
    parser.add_argument("--rows", type=int, default=3000, help="traffic rows per scenario")
    parser.add_argument("--tiny", action="store_true", help="train on 3,000 rows, 20 trees")
    parser.add_argument(
        "--built", type=Path, help="reuse this reproduced, committed project (skips step 1)"
    )
    args = parser.parse_args(argv)
    scratch = (args.dir or Path(tempfile.mkdtemp(prefix="mergeml-demo-"))).resolve()
    inside = scratch == ROOT or ROOT in scratch.parents
    if inside and not scratch.is_relative_to(ROOT / ".demo"):
        raise SystemExit("demo: the scratch directory must be outside the checkout (or .demo/)")
    if scratch.exists() and any(scratch.iterdir()):
        raise SystemExit(f"demo: {scratch} is not empty")
    scratch.mkdir(parents=True, exist_ok=True)
    say(f"scratch directory: {scratch}")
    sh = Shell(environment(scratch))
    built = args.built.resolve() if args.built else build(sh, scratch / "built", args.tiny)
    say("=== scenario 1: drift ON")
    opened = scenario(sh, built, scratch / "drift-on", args.rows, True)
    say("=== scenario 2: drift OFF")
    quiet = not scenario(sh, built, scratch / "drift-off", args.rows, False)
    say(
        f"drift ON opened {BRANCH}: {'yes' if opened else 'NO'}; drift OFF opened nothing: "
        f"{'yes' if quiet else 'NO'}"
    )
    for name in ("drift-on", "drift-off"):
        say(f"inspect: {scratch / name / 'project'} (origin: {scratch / name / 'origin.git'})")
    return 0 if opened and quiet else 1


if __name__ == "__main__":
    sys.exit(main())
