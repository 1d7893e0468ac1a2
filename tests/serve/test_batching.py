"""Natural batching in `mergeml serve`: requests that queue while a worker's scoring thread
is busy are scored in one model call, each still checked alone and answered alone."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from mergeml.errors import RequestError
from mergeml.serve import columns
from mergeml.serve.app import Settings, create_app
from mergeml.serve.batcher import Batcher
from mergeml.serve.service import Scores, Service, load_service
from tests.serve.models import (
    NAME,
    pulled_model,
    rows,
    training_frame,
    v2_body,
    write_model,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # TestClient on httpx


def _hgb_pulled(out: Path) -> Path:
    """A histogram gradient boosting pipeline (row-independent predictions, like the
    project's default model) as a `mergeml pull` directory."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    frame = training_frame(200)
    features = frame.drop(columns=["churn"])
    pre = ColumnTransformer(
        [("city", OrdinalEncoder(), ["city"])], remainder="passthrough", sparse_threshold=0
    )
    model = Pipeline([("pre", pre), ("hgb", HistGradientBoostingClassifier(max_iter=20))])
    model.fit(features, frame["churn"])
    return write_model(out, model, features)


@pytest.fixture(scope="module")
def hgb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _hgb_pulled(tmp_path_factory.mktemp("hgb") / "staging")


@pytest.fixture(scope="module")
def linear_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pulled_model(tmp_path_factory.mktemp("linear") / "staging")


@pytest.fixture
def hgb(hgb_dir: Path) -> Iterator[Service]:
    service = load_service(hgb_dir, max_batch_rows=64)
    yield service
    service.stop()


def _frames(sizes: Sequence[int]) -> list[pd.DataFrame]:
    whole = rows(sum(sizes), seed=3)
    bounds = np.cumsum([0, *sizes])
    return [whole.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(bounds)]


def _score_queued(service: Service, frames: list[pd.DataFrame]) -> tuple[list[Any], list[int]]:
    """Score ``frames`` concurrently while the scoring thread is held busy, so they queue;
    (outcome per frame, rows of each model call)."""
    calls: list[int] = []
    service.on_batch = calls.append
    service.start()
    assert service._executor is not None
    gate = threading.Event()
    service._executor.submit(gate.wait)

    async def scenario() -> list[Any]:
        tasks = [asyncio.ensure_future(service.score(f)) for f in frames]
        await asyncio.sleep(0.05)  # every request is queued
        gate.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    return asyncio.run(scenario()), calls


def _table(scores: Scores) -> pd.DataFrame:
    return pd.DataFrame(dict(zip(scores.names, scores.arrays, strict=True)))


def test_queued_requests_are_scored_in_one_call_with_the_same_predictions(
    hgb: Service,
) -> None:
    frames = _frames([1, 3, 1, 5, 2])
    alone = [_table(hgb.score_now(f)) for f in frames]

    outcomes, calls = _score_queued(hgb, frames)

    assert calls == [1, 11]  # the first went to the idle thread at once, the rest together
    for frame, got, want in zip(frames, outcomes, alone, strict=True):
        assert isinstance(got, Scores)
        pd.testing.assert_frame_equal(_table(got), want)  # bit for bit: HGB is row-wise
        pd.testing.assert_frame_equal(columns.frame(got.inputs), frame, check_column_type=False)


def test_a_bad_request_gets_its_own_error_and_its_neighbours_are_answered(
    hgb: Service,
) -> None:
    frames = _frames([2, 2, 2, 2])
    bad = frames[2].copy()
    bad.loc[1, "city"] = "paris"
    frames[2] = bad
    alone = _table(hgb.score_now(frames[3]))

    outcomes, calls = _score_queued(hgb, frames)

    assert isinstance(outcomes[2], RequestError)
    assert outcomes[2].status == 422
    assert "column 'city'" in str(outcomes[2])
    assert "paris" in str(outcomes[2])
    assert [isinstance(o, Scores) for o in outcomes] == [True, True, False, True]
    assert calls == [2, 4]
    pd.testing.assert_frame_equal(_table(outcomes[3]), alone)


def test_rows_the_model_refuses_fail_only_their_request(linear_dir: Path) -> None:
    service = load_service(linear_dir)
    frames = _frames([1, 1, 1])
    broken = frames[1].copy()
    broken["income"] = np.inf  # passes the schema check, LogisticRegression refuses it
    frames[1] = broken
    try:
        outcomes, calls = _score_queued(service, frames)
    finally:
        service.stop()

    assert isinstance(outcomes[1], RequestError)
    assert str(outcomes[1]).startswith("the model cannot score this input (")
    assert isinstance(outcomes[0], Scores)
    assert isinstance(outcomes[2], Scores)
    assert calls == [1, 1]  # the first alone; the joint call failed, so the good one alone


def test_batches_stop_at_max_batch_rows_and_a_bigger_request_goes_alone(
    hgb: Service,
) -> None:
    frames = _frames([1, 40, 30, 100, 10])  # max_batch_rows is 64

    outcomes, calls = _score_queued(hgb, frames)

    assert all(isinstance(o, Scores) for o in outcomes)
    assert [len(o) for o in outcomes] == [1, 40, 30, 100, 10]
    assert calls == [1, 40, 30, 100, 10]


def test_one_request_at_a_time_is_never_batched_nor_delayed(hgb: Service) -> None:
    frames = _frames([1, 2, 3])
    calls: list[int] = []
    hgb.on_batch = calls.append

    async def one_by_one() -> list[Scores]:
        return [await hgb.score(f) for f in frames]

    got = asyncio.run(one_by_one())

    assert calls == [1, 2, 3]
    assert [len(s) for s in got] == [1, 2, 3]


def test_the_batcher_gives_a_broken_batch_function_error_to_every_request() -> None:
    def broken(items: Sequence[Any]) -> list[Any]:
        raise RuntimeError("boom")

    async def scenario() -> list[Any]:
        with ThreadPoolExecutor(1) as executor:
            batcher = Batcher(broken, executor, 10)
            calls = [batcher.submit(i, 1) for i in range(3)]
            return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(scenario())

    assert [str(o) for o in outcomes] == ["boom"] * 3


def test_concurrent_http_requests_match_and_metrics_show_the_batch_sizes(
    hgb_dir: Path,
) -> None:
    frames = _frames([1, 2, 1, 3, 1, 2, 1, 1])
    app = create_app(Settings(str(hgb_dir)))
    with TestClient(app) as client:
        path = f"/v2/models/{NAME}/infer"
        alone = [client.post(path, json=v2_body(f)).json()["outputs"] for f in frames]
        service = client.app.state.service  # type: ignore[attr-defined]
        gate = threading.Event()
        service._executor.submit(gate.wait)
        with ThreadPoolExecutor(len(frames)) as pool:
            answers = [pool.submit(client.post, path, json=v2_body(f)) for f in frames]
            threading.Timer(0.3, gate.set).start()
            got = [a.result().json()["outputs"] for a in answers]
        text = client.get("/metrics").text

    assert got == alone
    assert "mergeml_batch_rows_bucket" in text
    calls = [line for line in text.splitlines() if line.startswith("mergeml_batch_rows_count")]
    assert float(calls[0].split()[-1]) < 2 * len(frames)  # some requests shared a call


def test_the_small_frame_check_finds_what_the_vectorized_one_finds(
    hgb: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mergeml.serve import schema_check

    frame = rows(12, seed=5)
    frame["city"] = frame["city"].astype(object)
    frame.loc[[2, 7], "city"] = ["paris", None]
    frame.loc[4, "city"] = "rome"
    frame["age"] = frame["age"].astype("float64")
    frame.loc[[1, 9], "age"] = [np.nan, 31.5]
    schema = hgb.require_ready().schema
    for column in schema["columns"]:
        column["nullable"] = False

    small = schema_check.check_frame(frame, schema)
    monkeypatch.setattr(schema_check, "SMALL_ROWS", 0)
    vectorized = schema_check.check_frame(frame, schema)

    assert small == vectorized
    assert {p.kind for p in small} >= {"category", "null", "dtype"}


def test_max_batch_rows_below_one_is_refused(hgb_dir: Path) -> None:
    from mergeml.errors import UsageError
    from mergeml.serve.server import ServeOptions

    with pytest.raises(UsageError, match="--max-batch-rows must be at least 1, not 0"):
        ServeOptions(hgb_dir, max_batch_rows=0).check()
