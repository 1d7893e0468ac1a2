"""Natural (adaptive) batching on a worker's one scoring thread, without a timer.

A request that arrives while the thread is idle is handed to it at once: nothing waits at
concurrency 1. Requests that arrive while it is busy queue up; when it frees, the queue is
handed over as one batch (first come first, up to ``max_rows`` rows; a request bigger than
that goes alone), so the cost a model pays per call (pandas preprocessing, tree traversal
setup) is paid once for the batch. What the thread answers per request (a result or an
exception) goes back to that request alone.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_BATCH_ROWS = 512

# Runs on the scoring thread: one outcome (a result, or the exception to raise) per item.
BatchFunction = Callable[[Sequence[Any]], list[Any]]


@dataclass(frozen=True, slots=True)
class _Job:
    item: Any
    rows: int
    future: asyncio.Future[Any]


class Batcher:
    """Gathers the items submitted on one event loop into calls of ``run`` on ``executor``
    (one call at a time)."""

    def __init__(self, run: BatchFunction, executor: Executor, max_rows: int) -> None:
        self.run = run
        self.executor = executor
        self.max_rows = max(1, max_rows)
        self._pending: deque[_Job] = deque()
        self._busy = False

    async def submit(self, item: Any, rows: int) -> Any:
        """The outcome of ``item`` (``rows`` rows), raised when it is an exception."""
        loop = asyncio.get_running_loop()
        job = _Job(item, rows, loop.create_future())
        self._pending.append(job)
        if not self._busy:
            self._next(loop)
        return await job.future

    def _take(self) -> list[_Job]:
        """The next batch: the oldest job, then the following ones while they fit."""
        jobs = [self._pending.popleft()]
        rows = jobs[0].rows
        while self._pending and rows + self._pending[0].rows <= self.max_rows:
            job = self._pending.popleft()
            rows += job.rows
            jobs.append(job)
        return jobs

    def _next(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._pending and self._pending[0].future.done():  # cancelled while queued
            self._pending.popleft()
        if not self._pending:
            self._busy = False
            return
        self._busy = True
        jobs = self._take()
        try:
            running = loop.run_in_executor(self.executor, self.run, [j.item for j in jobs])
        except RuntimeError as exc:  # the executor has been shut down
            self._settle(jobs, [exc] * len(jobs))
            self._busy = False
            return
        running.add_done_callback(lambda done: self._finished(loop, jobs, done))

    def _finished(
        self, loop: asyncio.AbstractEventLoop, jobs: list[_Job], done: asyncio.Future[Any]
    ) -> None:
        try:
            outcomes = done.result()
        except BaseException as exc:  # the batch function itself broke: every job says so
            outcomes = [exc] * len(jobs)
        self._settle(jobs, outcomes)
        self._next(loop)

    @staticmethod
    def _settle(jobs: list[_Job], outcomes: list[Any]) -> None:
        for job, outcome in zip(jobs, outcomes, strict=True):
            if job.future.done():  # the request was cancelled (client gone)
                continue
            if isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)
