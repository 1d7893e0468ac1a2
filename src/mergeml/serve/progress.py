"""A one-line progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30
REDRAW_S = 0.2  # at most five redraws a second


class Progress:
    """Rows done out of ``total`` (None: unknown), redrawn in place; silent off a terminal."""

    def __init__(self, total: int | None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total, self.done, self.drawn = total, 0, 0.0
        self.active = self.stream.isatty()
        self.start = time.monotonic()

    def advance(self, rows: int) -> None:
        self.done += rows
        now = time.monotonic()
        if self.active and now - self.drawn >= REDRAW_S:
            self.drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.done / max(now - self.start, 1e-9)
        if self.total:
            filled = min(WIDTH, WIDTH * self.done // self.total)
            bar = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {self.done:,}/{self.total:,} rows"
        else:
            bar = f"{self.done:,} rows"
        self.stream.write(f"\rpredict {bar} ({rate:,.0f} rows/s)")
        self.stream.flush()

    def close(self, *, ok: bool) -> None:
        """Draw the final state and end the line, or (``ok`` False) erase the bar, so that
        an error is the only line left; nothing off a terminal."""
        if not self.active:
            return
        if ok:
            self._draw(time.monotonic())
            self.stream.write("\n")
        else:
            self.stream.write("\r\x1b[K")
        self.stream.flush()
