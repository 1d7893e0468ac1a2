"""What `mergeml pull` checks and how it writes, on in-memory models (no git, no DVC)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import sklearn
from sklearn.pipeline import Pipeline

import tests.unit._model_cases as cases
from mergeml.errors import PullError
from mergeml.model.io import dumps_canonical
from mergeml.serve.fetch import MANIFEST, verify, write_pulled
from mergeml.serve.resolve import Target


def _target(data: bytes, **changes: object) -> Target:
    fields: dict = {
        "name": "tabular-model",
        "version": "v1.2.0",
        "stage": "staging",
        "commit": "a" * 40,
        "model_path": "models/model.skops",
        "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "schema": {"format": 1, "target": "y", "columns": []},
    }
    return Target(**(fields | changes))


def _model(*, untrusted: bool = False) -> bytes:
    frame, y_class, _ = cases.make_frame("str", missing=False)
    steps = [("preprocess", cases.preprocessor("ordinal"))]
    steps += [("clip", cases.ClippedScaler())] if untrusted else []
    steps += [("estimator", cases.ESTIMATORS["logistic"][0](0))]
    return dumps_canonical(Pipeline(steps).fit(frame, y_class))


def test_a_model_matching_its_lock_passes() -> None:
    data = _model()
    verify(_target(data), data)


def test_bytes_that_differ_from_the_lock_are_refused_before_parsing() -> None:
    with pytest.raises(PullError, match=r"^md5 mismatch: models/model.skops of tabular-model"):
        verify(_target(b"x"), b"not the model")


def test_an_untrusted_type_is_refused_naming_it_and_the_commit() -> None:
    data = _model(untrusted=True)
    with pytest.raises(PullError, match="does not trust") as info:
        verify(_target(data), data)
    assert str(info.value).startswith("models/model.skops at aaaaaaa holds types")
    assert "ClippedScaler" in str(info.value)


def test_the_model_and_manifest_appear_together_and_replace_an_earlier_pull(
    tmp_path: Path,
) -> None:
    out = tmp_path / "models/staging"
    target = _target(b"model bytes")
    write_pulled(out, target, b"old")

    doc = write_pulled(out, target, b"model bytes")

    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "model.skops"]
    assert (out / "model.skops").read_bytes() == b"model bytes"
    assert json.loads((out / MANIFEST).read_text()) == doc
    assert doc["sklearn_version"] == sklearn.__version__
    assert (doc["name"], doc["version"], doc["stage"]) == ("tabular-model", "v1.2.0", "staging")
    assert (doc["md5"], doc["file"]) == (target.md5, "model.skops")
    assert sorted(p.name for p in out.parent.iterdir()) == ["staging"]  # no temporary left


def test_a_failed_write_leaves_the_earlier_pull_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "staging"
    write_pulled(out, _target(b"old"), b"old")

    def fail(self: Path, target: Path) -> None:  # the fault: the final rename fails
        raise OSError(28, "No space left on device")

    original = Path.rename
    monkeypatch.setattr(
        Path,
        "rename",
        lambda self, t: fail(self, t) if self.suffix == ".tmp" else original(self, t),
    )
    with pytest.raises(OSError, match="No space"):
        write_pulled(out, _target(b"new"), b"new")

    assert (out / "model.skops").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["staging"]


def test_a_directory_that_is_not_a_pull_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(PullError, match="is not an earlier `mergeml pull` output"):
        write_pulled(tmp_path, _target(b"m"), b"m")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
