"""The model `mergeml serve` answers with: loaded once, its identity, whether it is ready,
and the scoring of one request's frame (checked against the input schema, limited in rows,
run on the one scoring thread of the worker).

A model that cannot be loaded (no manifest, md5 mismatch, untrusted types, another
scikit-learn) does not stop the server: the service is not ready, says why in one line, and
every scoring request is answered 503.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.errors import MergemlError, RequestError, one_line
from mergeml.serve.predict import METADATA_KEYS, Pulled, load_pulled, output_schema, score
from mergeml.serve.schema_check import Problem, check_frame, summary

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

DEFAULT_MAX_ROWS = 10_000
DEFAULT_MAX_BODY_MB = 8.0
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MAX_REASON = 300  # characters of the model's own error message kept


def one_thread_env() -> None:
    """One OpenMP/BLAS thread for every library loaded from now on (scikit-learn #30662:
    more threads than cores under concurrent requests multiplies the tail latency)."""
    for name in THREAD_ENV:
        os.environ[name] = "1"


def _limit_thread() -> None:
    """Runs on the scoring thread as it starts: one thread in every loaded runtime."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def problem_dicts(problems: list[Problem]) -> tuple[dict[str, object], ...]:
    """The JSON form of schema problems."""
    return tuple(
        {
            "column": p.column,
            "kind": p.kind,
            "count": p.count,
            "first_row": p.first_row,
            "detail": p.detail,
        }
        for p in problems
    )


@dataclass
class Service:
    """One worker's model (None when it failed to load: ``reason`` says why)."""

    pulled: Pulled | None
    reason: str
    directory: Path
    max_rows: int = DEFAULT_MAX_ROWS
    _executor: ThreadPoolExecutor | None = field(default=None, repr=False)
    _schema: pa.Schema | None = field(default=None, repr=False)

    @property
    def ready(self) -> bool:
        return self.pulled is not None

    @property
    def identity(self) -> dict[str, str]:
        """name, version, stage, commit, md5 (empty strings for what is unknown)."""
        manifest = self.pulled.manifest if self.pulled else {}
        return {k: str(manifest.get(k) or "") for k in METADATA_KEYS}

    @property
    def name(self) -> str:
        return self.identity["name"] or "model"

    @property
    def columns(self) -> list[dict[str, Any]]:
        """The input schema's columns ([] when not loaded)."""
        return list(self.pulled.schema["columns"]) if self.pulled else []

    @property
    def classes(self) -> list[Any] | None:
        """A classifier's classes, as JSON values; None for a regressor."""
        model = self.pulled.model if self.pulled else None
        if model is None or not hasattr(model, "predict_proba"):
            return None
        return [c.item() if hasattr(c, "item") else c for c in getattr(model, "classes_", [])]

    def output_schema(self) -> pa.Schema:
        if self._schema is None:
            assert self.pulled is not None
            self._schema = output_schema(self.pulled)
        return self._schema

    def start(self) -> None:
        """Start the scoring thread (one per worker)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, "mergeml-score", initializer=_limit_thread)

    def stop(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def require_ready(self) -> Pulled:
        if self.pulled is None:
            raise RequestError(f"the model is not ready: {self.reason}", status=503)
        return self.pulled

    def check(self, frame: pd.DataFrame) -> None:
        """Refuse too many rows, then any schema problem (RequestError)."""
        pulled = self.require_ready()
        if len(frame) > self.max_rows:
            raise RequestError(
                f"{len(frame)} rows in one request; at most {self.max_rows} (--max-rows)",
                status=413,
            )
        if len(frame) == 0:
            raise RequestError("the request holds no rows")
        problems = check_frame(frame, pulled.schema)
        if problems:
            raise RequestError(summary(problems), problems=problem_dicts(problems))

    def score_now(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The predictions for ``frame`` (checked first), on the calling thread."""
        self.check(frame)
        assert self.pulled is not None
        features = frame[[c["name"] for c in self.columns]]
        try:
            batch = score(self.pulled.model, features, self.output_schema())
        except Exception as exc:  # what the schema check cannot foresee: never a 500
            reason = one_line(str(exc))[:MAX_REASON]
            raise RequestError(f"the model cannot score this input ({reason})") from exc
        out = batch.to_pandas()
        _require_finite(out)
        return out

    async def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """:meth:`score_now` on the scoring thread, off the event loop."""
        self.start()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.score_now, frame)


def _require_finite(out: pd.DataFrame) -> None:
    """JSON has no NaN or infinity: a model answering one is refused, not a 500."""
    import numpy as np

    floats = out.select_dtypes("number")
    bad = ~np.isfinite(floats.to_numpy(dtype="float64"))
    if bad.any():
        column = str(floats.columns[int(np.argwhere(bad)[0][1])])
        raise RequestError(f"the model returned a non-finite {column} for this input")


def load_service(directory: Path, *, max_rows: int = DEFAULT_MAX_ROWS) -> Service:
    """The service of the `mergeml pull` directory ``directory``; not ready (with the
    reason) when the model cannot be loaded and verified."""
    try:
        pulled = load_pulled(directory)
    except MergemlError as exc:
        return Service(None, one_line(str(exc)), directory, max_rows)
    except Exception as exc:  # a broken file may raise anything: still start, not ready
        return Service(None, one_line(f"{type(exc).__name__}: {exc}"), directory, max_rows)
    return Service(pulled, "", directory, max_rows)
