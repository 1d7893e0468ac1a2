"""Two `mergeml exp run --queue` at once in one workspace: each reports only its own tasks.

The real queue is run once, by `test_experiments.py::test_two_queued_runs_at_once_...`; here a
fake `dvc` injects the interleavings a real run cannot be made to produce on demand."""

from __future__ import annotations

import subprocess

import pytest

from mergeml.errors import Interrupted
from mergeml.pipeline import exp_queue, experiments

pytestmark = pytest.mark.pipeline


# --- the bookkeeping with a fake `dvc`: another run's task shares the queue ----------------

HEADER = "Task     Name        Created        Status"


class SharedQueue:
    """Plays `dvc` for run_queued; another run queues ``other`` right after ours."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self.calls: list[list[str]] = []
        self.polls = 0

    def __call__(self, args: list[str], *, capture: bool = False) -> subprocess.CompletedProcess:
        self.calls.append(list(args))
        out = ""
        if args[:3] == ["exp", "run", "--queue"]:
            self.rows["mine"] = "Queued"
            self.rows["other"] = "Queued"  # the other run queues at the same moment
            out = "Queued experiment 'mine' for future execution."
        elif args[:2] == ["queue", "status"]:
            self.polls += 1
            if self.polls == 2:
                self.rows["mine"] = "Running"
            elif self.polls >= 3:
                self.rows["mine"] = "Success"
            out = self.status()
        return subprocess.CompletedProcess(args, 0, out, "")

    def status(self) -> str:
        lines = [f"{n[:7]:7}  {n}  02:44 PM  {s}" for n, s in self.rows.items()]
        return "\n".join([HEADER, *lines, "", "Worker status: 1 active, 0 idle"])


def test_a_run_counts_only_its_tasks_and_leaves_the_workers_to_the_other() -> None:
    planned = [experiments.Experiment(("model.max_iter=5",), ("p:++model.max_iter=5",), {})]
    fake = SharedQueue()
    shown: list[str] = []
    failed = exp_queue.run_queued(
        planned, jobs=1, timeout=5, poll=0, runner=fake, progress=shown.append
    )
    assert failed == []
    assert shown == [
        "queued experiment 'mine': model.max_iter=5",
        "queue: 1 queued",
        "queue: 1 running",
        "queue: 1 success",
    ]
    assert fake.rows["other"] == "Queued"
    assert ["queue", "stop"] not in fake.calls  # the other run's task still needs a worker


class InterruptedQueue(SharedQueue):
    """Ctrl-C arrives while the run polls, with its task running."""

    def __call__(self, args: list[str], *, capture: bool = False) -> subprocess.CompletedProcess:
        if args[:2] == ["queue", "status"] and self.polls >= 2:
            self.polls += 1
            if self.polls == 3:
                raise KeyboardInterrupt
            self.calls.append(list(args))
            return subprocess.CompletedProcess(args, 0, self.status(), "")
        return super().__call__(args, capture=capture)


def test_ctrl_c_takes_only_this_runs_tasks_out_of_the_queue() -> None:
    planned = [experiments.Experiment(("model.max_iter=5",), ("p:++model.max_iter=5",), {})]
    fake = InterruptedQueue()
    with pytest.raises(Interrupted) as caught:
        exp_queue.run_queued(planned, jobs=1, timeout=5, poll=0, runner=fake)
    assert caught.value.outcome == ("1 queued experiment(s) stopped and taken out of DVC's queue")
    assert ["queue", "kill", "mine"] in fake.calls
    assert not [call for call in fake.calls if "other" in call]
