"""The model `mergeml serve` answers with: loaded once, its identity, whether it is ready,
and the scoring of one request's columns (`mergeml.serve.columns`; a DataFrame is taken
apart into them): checked against the input schema, limited in rows, batched with the
requests queued behind it and run on the one scoring thread of the worker.

A model that cannot be loaded (no manifest, md5 mismatch, untrusted types, another
scikit-learn) does not stop the server: the service is not ready, says why in one line, and
every scoring request is answered 503.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mergeml.errors import MergemlError, RequestError, one_line
from mergeml.serve import columns
from mergeml.serve.batcher import DEFAULT_MAX_BATCH_ROWS, Batcher
from mergeml.serve.columns import Columns
from mergeml.serve.predict import METADATA_KEYS, Pulled, load_pulled, output_schema, score_arrays
from mergeml.serve.schema_check import Problem, check_columns, summary

if TYPE_CHECKING:
    import numpy as np
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


@dataclass(frozen=True, slots=True)
class Scores:
    """One request's predictions: the output columns (numpy arrays, `output_schema`
    order) and the feature columns they were scored from, in schema order (for the
    prediction log)."""

    names: list[str]
    arrays: list[np.ndarray]
    inputs: Columns

    def __len__(self) -> int:
        return columns.length(self.inputs)

    def outputs(self) -> Columns:
        """The output columns by name (what the prediction log takes)."""
        return dict(zip(self.names, self.arrays, strict=True))


_UNSCORED = RequestError("not scored")  # a placeholder, replaced before anyone sees it


@dataclass
class Service:
    """One worker's model (None when it failed to load: ``reason`` says why)."""

    pulled: Pulled | None
    reason: str
    directory: Path
    max_rows: int = DEFAULT_MAX_ROWS
    max_batch_rows: int = DEFAULT_MAX_BATCH_ROWS
    on_batch: Callable[[int], None] | None = None  # rows of each model call
    _executor: ThreadPoolExecutor | None = field(default=None, repr=False)
    _batcher: Batcher | None = field(default=None, repr=False)
    _schema: pa.Schema | None = field(default=None, repr=False)
    _names: list[str] | None = field(default=None, repr=False)
    _features: list[str] | None = field(default=None, repr=False)

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

    @property
    def output_names(self) -> list[str]:
        if self._names is None:
            self._names = list(self.output_schema().names)
        return self._names

    def start(self) -> None:
        """Start the scoring thread (one per worker) and its batcher."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, "mergeml-score", initializer=_limit_thread)
            self._batcher = Batcher(self.score_batch, self._executor, self.max_batch_rows)

    def stop(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
            self._batcher = None

    def require_ready(self) -> Pulled:
        if self.pulled is None:
            raise RequestError(f"the model is not ready: {self.reason}", status=503)
        return self.pulled

    @property
    def feature_names(self) -> list[str]:
        """The input schema's column names, in order."""
        if self._features is None:
            self._features = [c["name"] for c in self.columns]
        return self._features

    def check(self, data: Columns | pd.DataFrame) -> Columns:
        """``data`` as columns, refused (RequestError) for too many rows, then for any
        schema problem."""
        pulled = self.require_ready()
        try:
            given = columns.as_columns(data)
        except ValueError as exc:  # a column name given twice
            raise RequestError(str(exc), status=400) from exc
        rows = columns.length(given)
        if rows > self.max_rows:
            raise RequestError(
                f"{rows} rows in one request; at most {self.max_rows} (--max-rows)",
                status=413,
            )
        if rows == 0:
            raise RequestError("the request holds no rows")
        problems = check_columns(given, pulled.schema)
        if problems:
            raise RequestError(summary(problems), problems=problem_dicts(problems))
        return given

    def features(self, data: Columns | pd.DataFrame) -> Columns:
        """``data`` checked, as the model's feature columns in schema order."""
        return columns.pick(self.check(data), self.feature_names)

    def score_batch(self, items: Sequence[Columns | pd.DataFrame]) -> list[Scores | RequestError]:
        """Each item's predictions, or the RequestError it gets (on the calling thread).

        Each item is checked alone; the good ones with the same column dtypes are scored in
        one model call and the outputs split back per item (a model that refuses the joint
        call scores each item alone, so one bad item fails nobody else)."""
        outcomes: list[Scores | RequestError] = []
        groups: dict[tuple[Any, ...], list[tuple[int, Columns]]] = {}
        for i, item in enumerate(items):
            try:
                features = self.features(item)
            except RequestError as exc:
                outcomes.append(exc)
                continue
            outcomes.append(_UNSCORED)
            alone = len(items) == 1  # no grouping
            kinds = () if alone else tuple(str(v.dtype) for v in features.values())
            groups.setdefault(kinds, []).append((i, features))
        for group in groups.values():
            scored = self._score_group([f for _, f in group])
            for (i, _), outcome in zip(group, scored, strict=True):
                outcomes[i] = outcome
        return outcomes

    def _score_group(self, parts: list[Columns]) -> list[Scores | RequestError]:
        if len(parts) == 1:
            return [self._score_one(parts[0])]
        try:
            whole = columns.concat(parts)
            arrays = self._arrays(whole)
        except RequestError:  # find whose rows the model refuses: each alone
            return [self._score_one(p) for p in parts]
        if self.on_batch is not None:
            self.on_batch(columns.length(whole))
        outcomes: list[Scores | RequestError] = []
        start = 0
        for part in parts:
            stop = start + columns.length(part)
            mine = [a[start:stop] for a in arrays]
            outcomes.append(self._finite(Scores(self.output_names, mine, part)))
            start = stop
        return outcomes

    def _score_one(self, features: Columns) -> Scores | RequestError:
        try:
            arrays = self._arrays(features)
        except RequestError as exc:
            return exc
        if self.on_batch is not None:
            self.on_batch(columns.length(features))
        return self._finite(Scores(self.output_names, arrays, features))

    def _arrays(self, features: Columns) -> list[np.ndarray]:
        assert self.pulled is not None
        try:
            return score_arrays(self.pulled.model, columns.frame(features))
        except Exception as exc:  # what the schema check cannot foresee: never a 500
            reason = one_line(str(exc))[:MAX_REASON]
            raise RequestError(f"the model cannot score this input ({reason})") from exc

    @staticmethod
    def _finite(scores: Scores) -> Scores | RequestError:
        """JSON has no NaN or infinity: a model answering one is refused, not a 500."""
        import numpy as np

        for name, array in zip(scores.names, scores.arrays, strict=True):
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                return RequestError(f"the model returned a non-finite {name} for this input")
        return scores

    def score_now(self, data: Columns | pd.DataFrame) -> Scores:
        """The predictions for ``data`` (checked first), on the calling thread."""
        outcome = self.score_batch([data])[0]
        if isinstance(outcome, RequestError):
            raise outcome
        return outcome

    async def score(self, data: Columns | pd.DataFrame) -> Scores:
        """:meth:`score_now` on the scoring thread, off the event loop, batched with the
        requests that queue while the thread is busy."""
        self.start()
        assert self._batcher is not None
        rows = columns.length(data) if isinstance(data, Mapping) else len(data)
        result: Scores = await self._batcher.submit(data, rows)
        return result


def load_service(
    directory: Path,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_batch_rows: int = DEFAULT_MAX_BATCH_ROWS,
) -> Service:
    """The service of the `mergeml pull` directory ``directory``; not ready (with the
    reason) when the model cannot be loaded and verified."""
    reason = ""
    pulled = None
    try:
        pulled = load_pulled(directory)
    except MergemlError as exc:
        reason = one_line(str(exc))
    except Exception as exc:  # a broken file may raise anything: still start, not ready
        reason = one_line(f"{type(exc).__name__}: {exc}")
    return Service(pulled, reason, directory, max_rows, max_batch_rows)
