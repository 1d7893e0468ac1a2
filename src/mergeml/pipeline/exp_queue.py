"""`mergeml exp run --queue`: experiments through DVC's queue, each run minding its own.

DVC has one queue per workspace, shared by every `mergeml exp run --queue` running there
and by earlier runs' leftovers. A run therefore remembers the names DVC gave the tasks it
queued, waits for and reports only those, and stops the queue's workers only when no one
else's task is waiting either.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence

from mergeml.errors import Interrupted, PipelineError, signum_of
from mergeml.pipeline.experiments import Experiment, Progress, Runner, dvc

log = logging.getLogger(__name__)

PENDING = frozenset({"Queued", "Running"})
STATES = PENDING | {"Success", "Failed", "Unknown"}
QUEUED = re.compile(r"Queued experiment '([^']+)' for future execution")
WORKERS = re.compile(r"Worker status: (\d+) active, (\d+) idle")
BUSY_RETRIES = 5  # DVC's experiment lock does not wait: another run may be queueing
RESTART_AFTER = 15.0  # seconds without a worker while our tasks wait: start one again

Row = tuple[str, str, str]


def _parse_rows(stdout: str) -> list[Row]:
    rows = []
    for line in stdout.splitlines()[1:]:
        cells = line.split()
        if len(cells) < 3 or cells[-1] not in STATES:
            continue
        created = 1 if cells[-2] == "-" else 2 if cells[-2] in {"AM", "PM"} else 3
        rest = cells[: -1 - created]
        if rest:
            rows.append((rest[0], rest[1] if len(rest) > 1 else rest[0], cells[-1]))
    return rows


def queue_status(runner: Runner = dvc) -> list[Row]:
    """(task id, name or task id, status) for every task DVC's queue knows about.

    Parses `dvc queue status`; its columns are Task, Name (may be empty), Created
    ("-", "02:44 PM" or "Nov 21, 2026") and Status, so the row is read from the right.
    """
    return _parse_rows(runner(["queue", "status"], capture=True).stdout or "")


def _snapshot(runner: Runner) -> tuple[list[Row], int]:
    """Every task of the queue, and how many workers are alive (active or idle)."""
    stdout = runner(["queue", "status"], capture=True).stdout or ""
    found = WORKERS.search(stdout)
    return _parse_rows(stdout), sum(map(int, found.groups())) if found else 0


def _enqueue(exp: Experiment, runner: Runner) -> str:
    """Queue one experiment; the name DVC gave it (or its task id)."""
    args = ["exp", "run", "--queue"] + [a for s in exp.set_params for a in ("-S", s)]
    for attempt in range(BUSY_RETRIES):
        proc = runner(args, capture=True)
        named = QUEUED.search(proc.stdout or "")
        if proc.returncode == 0 and named:
            return named.group(1)
        said = [line for line in (proc.stderr or proc.stdout or "").splitlines() if line.strip()]
        if "is busy" not in (proc.stderr or "") or attempt == BUSY_RETRIES - 1:
            reason = f": {said[0]}" if said else ""
            raise PipelineError(f"could not queue experiment {' '.join(exp.overrides)}{reason}")
        time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def _cancel(rows: Sequence[Row], runner: Runner) -> None:
    """Take these tasks out of the queue: remove the waiting ones, kill the running ones."""
    waiting = [name for _, name, state in rows if state == "Queued"]
    running = [name for _, name, state in rows if state == "Running"]
    if waiting:
        runner(["queue", "remove", *waiting], capture=True)
    if running:
        runner(["queue", "kill", *running], capture=True)


def _summary(rows: Sequence[Row]) -> str:
    counts = {state: sum(row[2] == state for row in rows) for state in sorted(STATES)}
    return ", ".join(f"{n} {state.lower()}" for state, n in counts.items() if n)


def run_queued(
    experiments: Sequence[Experiment],
    *,
    jobs: int,
    timeout: float,
    poll: float = 2.0,
    runner: Runner = dvc,
    progress: Progress = log.info,
) -> list[str]:
    """Queue every experiment, start ``jobs`` workers, and poll until done or ``timeout``.

    Only the tasks queued by this call are waited for and reported. Returns the names of
    those that failed. A signal removes this call's tasks from the queue (Interrupted).
    """
    mine: list[str] = []
    try:
        for exp in experiments:
            mine.append(_enqueue(exp, runner))
            label = " ".join(exp.overrides) or "(no overrides)"
            progress(f"queued experiment '{mine[-1]}': {label}")
        if runner(["queue", "start", "--jobs", str(jobs)], capture=True).returncode != 0:
            raise PipelineError("`dvc queue start` failed")
        return _wait(mine, jobs=jobs, timeout=timeout, poll=poll, runner=runner, progress=progress)
    except PipelineError:
        _cancel([(name, name, "Queued") for name in mine], runner)
        raise
    except KeyboardInterrupt as exc:
        _cancel(_ours(queue_status(runner), mine), runner)
        stopped = f"{len(mine)} queued experiment(s) stopped and taken out of DVC's queue"
        raise Interrupted(signum_of(exc), stopped) from None


def _ours(rows: Sequence[Row], mine: Sequence[str]) -> list[Row]:
    """This run's rows, in the order queued; a task gone from the queue counts as failed."""
    by_name = {name: row for row in rows for name in row[:2]}
    return [by_name.get(name, (name, name, "Failed")) for name in mine]


def _wait(
    mine: Sequence[str],
    *,
    jobs: int,
    timeout: float,
    poll: float,
    runner: Runner,
    progress: Progress,
) -> list[str]:
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    shown = ""
    while True:
        rows, workers = _snapshot(runner)
        status = _ours(rows, mine)
        if (summary := _summary(status)) != shown:
            progress(f"queue: {summary}")
            shown = summary
        pending = [row for row in status if row[2] in PENDING]
        if not pending:
            if not any(row[2] in PENDING for row in rows):  # nobody else's task waits
                runner(["queue", "stop"], capture=True)
            return [name for _, name, state in status if state != "Success"]
        if time.monotonic() > deadline:
            _cancel(pending, runner)
            raise PipelineError(
                f"{len(pending)} queued experiment(s) did not finish within {timeout:.0f} s;"
                " they were stopped (see `dvc queue logs NAME`)"
            )
        waiting = any(row[2] == "Queued" for row in pending)
        if waiting and not workers and time.monotonic() - started > RESTART_AFTER:
            # another run stopped the workers as ours were queued: start them again
            runner(["queue", "start", "--jobs", str(jobs)], capture=True)
            started = time.monotonic()
        time.sleep(poll)
