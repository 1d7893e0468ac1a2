"""Model files: canonical skops bytes, and every check made before loading."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import pickle
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import sklearn
import skops.io
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from mergeml.errors import MergemlError, ModelFileError
from mergeml.model import io as model_io
from mergeml.model.io import TRUSTED_TYPES, dumps_canonical, load_model, save_model
from tests.unit import _model_cases as cases

REPO_ROOT = Path(__file__).resolve().parents[2]
CASE_IDS = ["-".join(case) for case in cases.CASES]


@functools.cache
def fitted(pre: str, dtype: str, est: str) -> tuple[Pipeline, Any]:
    """Each supported pipeline is fitted once per test session."""
    return cases.fit_case(pre, dtype, est)


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def rezip(data: bytes, replace: dict[str, bytes | None]) -> bytes:
    """Copy a zip, replacing (or, with None, dropping) some members."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            payload = replace.get(name, src.read(name))
            if payload is not None:
                dst.writestr(name, payload)
    return out.getvalue()


@pytest.fixture
def no_deserialisation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: fail the test if skops is ever asked to construct objects."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        pytest.fail("skops.io.loads was called although a check should have refused the file")

    monkeypatch.setattr(skops.io, "loads", refuse)
    monkeypatch.setattr(skops.io, "load", refuse)


@pytest.fixture
def saved_model(tmp_path: Path) -> Path:
    """A small valid model file."""
    model, _ = fitted("onehot", "str", "logistic")
    path = tmp_path / "model.skops"
    save_model(model, path)
    return path


# --- trusted types ------------------------------------------------------------


def test_trusted_types_are_exactly_what_the_supported_pipelines_need() -> None:
    needed: set[str] = set()
    for case in cases.CASES:
        model, _ = fitted(*case)
        needed.update(skops.io.get_untrusted_types(data=skops.io.dumps(model)))
    assert needed == set(TRUSTED_TYPES)
    assert list(TRUSTED_TYPES) == sorted(set(TRUSTED_TYPES))


# --- round trip and determinism -------------------------------------------------


@pytest.mark.parametrize("case", cases.CASES, ids=CASE_IDS)
def test_every_supported_pipeline_round_trips_with_identical_predictions(
    case: tuple[str, str, str], tmp_path: Path
) -> None:
    model, frame = fitted(*case)
    path = tmp_path / "model.skops"
    md5 = save_model(model, path)

    loaded = load_model(path, expected_md5=md5)

    assert md5 == md5_of(path)
    assert type(loaded) is Pipeline
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))


@pytest.mark.parametrize("case", cases.CASES, ids=CASE_IDS)
def test_same_model_or_same_seed_gives_byte_identical_files(
    case: tuple[str, str, str], tmp_path: Path
) -> None:
    model, _ = fitted(*case)
    refitted, _ = cases.fit_case(*case)

    first = save_model(model, tmp_path / "a.skops")
    again = save_model(model, tmp_path / "b.skops")
    other_fit = save_model(refitted, tmp_path / "c.skops")

    assert first == again == other_fit
    assert (tmp_path / "a.skops").read_bytes() == (tmp_path / "c.skops").read_bytes()


def test_canonical_bytes_do_not_depend_on_the_process(tmp_path: Path) -> None:
    script = (
        "import hashlib\n"
        "from mergeml.model.io import dumps_canonical\n"
        "from tests.unit._model_cases import fit_case\n"
        "for case in [('onehot', 'str', 'hgb_classifier'), ('ordinal', 'category', 'forest')]:\n"
        "    print(hashlib.md5(dumps_canonical(fit_case(*case)[0])).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    here = [
        hashlib.md5(dumps_canonical(fitted(*case)[0])).hexdigest()
        for case in [("onehot", "str", "hgb_classifier"), ("ordinal", "category", "forest")]
    ]
    assert result.stdout.split() == here


def test_canonical_zip_has_fixed_names_order_timestamps_and_modes() -> None:
    model, _ = fitted("onehot", "category", "forest")

    with zipfile.ZipFile(io.BytesIO(dumps_canonical(model))) as archive:
        infos = archive.infolist()
        schema = json.loads(archive.read("schema.json"))

    names = [info.filename for info in infos]
    assert names[:2] == ["mergeml.json", "schema.json"]
    assert names[2:] == [f"{i:05d}.npy" for i in range(1, len(names) - 1)]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_STORED}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}
    ids = set(re.findall(r'"__id__":(\d+)', json.dumps(schema, separators=(",", ":"))))
    assert sorted(map(int, ids)) == list(range(1, len(ids) + 1))


def test_saved_file_records_format_and_sklearn_version(saved_model: Path) -> None:
    with zipfile.ZipFile(saved_model) as archive:
        meta = json.loads(archive.read("mergeml.json"))

    assert meta["format"] == model_io.MODEL_FORMAT
    assert meta["sklearn_version"] == sklearn.__version__


# --- saving ---------------------------------------------------------------------


def test_save_replaces_atomically_and_leaves_nothing_behind_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, _ = fitted("onehot", "str", "ridge")
    path = tmp_path / "model.skops"
    path.write_bytes(b"previous model")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ModelFileError, match="cannot write model file"):
        save_model(model, path)

    assert path.read_bytes() == b"previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skops"]


def _nested_function() -> Any:
    def identity(values: Any) -> Any:
        return values

    return identity


@pytest.mark.parametrize(
    "func",
    [lambda values: values, _nested_function()],
    ids=["lambda", "nested-function"],
)
def test_save_refuses_user_functions_that_cannot_be_imported(func: Any, tmp_path: Path) -> None:
    model = FunctionTransformer(func).fit(np.ones((3, 2)))
    path = tmp_path / "model.skops"

    with pytest.raises(ModelFileError, match="must live in an importable module") as info:
        save_model(model, path)

    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_save_accepts_a_function_from_an_importable_module(tmp_path: Path) -> None:
    model = FunctionTransformer(cases.double).fit(np.ones((3, 2)))
    assert len(save_model(model, tmp_path / "model.skops")) == 32


# --- B1: pickle and joblib are never loaded ---------------------------------------


class TouchOnUnpickle:
    """Unpickling this creates ``marker``: proof that a payload ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Path.touch, (self.marker,))


def test_pickle_payload_used_below_really_runs_when_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(TouchOnUnpickle(marker)))  # the test's own payload
    assert marker.exists()


@pytest.mark.parametrize(
    "name",
    [
        "model.pkl",
        "model.joblib",
        "model.joblib.gz",
        "renamed-pickle.skops",
        "renamed-joblib.skops",
    ],
)
@pytest.mark.usefixtures("no_deserialisation")
def test_pickle_and_joblib_files_are_refused_without_running_them(
    name: str, tmp_path: Path
) -> None:
    marker = tmp_path / "payload-ran"
    path = tmp_path / name
    if "joblib" in name:
        joblib.dump(TouchOnUnpickle(marker), path, compress=3 if name.endswith(".gz") else 0)
    else:
        path.write_bytes(pickle.dumps(TouchOnUnpickle(marker)))

    with pytest.raises(ModelFileError, match="not a skops file") as info:
        load_model(path)

    assert "pickle and joblib files are never loaded" in str(info.value)
    assert str(path) in str(info.value)
    assert not marker.exists()


@pytest.mark.usefixtures("no_deserialisation")
def test_zip_without_skops_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.pkl", pickle.dumps({"a": 1}))

    with pytest.raises(ModelFileError, match=r"not a skops file \(zip without schema.json\)"):
        load_model(path)


# --- B2: untrusted types ----------------------------------------------------------


@pytest.mark.usefixtures("no_deserialisation")
def test_valid_skops_file_with_an_untrusted_type_is_refused_naming_it(tmp_path: Path) -> None:
    frame, y_class, _ = cases.make_frame("str", missing=False)
    model = Pipeline(
        [
            ("preprocess", cases.preprocessor("ordinal")),
            ("clip", cases.ClippedScaler()),
            ("estimator", cases.ESTIMATORS["logistic"][0](0)),
        ]
    ).fit(frame, y_class)
    path = tmp_path / "model.skops"
    save_model(model, path)

    with pytest.raises(ModelFileError, match="does not trust") as info:
        load_model(path)

    assert "tests.unit._model_cases.ClippedScaler" in str(info.value)


@pytest.mark.usefixtures("no_deserialisation")
def test_untrusted_function_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    save_model(FunctionTransformer(cases.double).fit(np.ones((3, 2))), path)

    with pytest.raises(ModelFileError, match=r"tests\.unit\._model_cases\.double"):
        load_model(path)


# --- B3: md5 against dvc.lock -----------------------------------------------------


@pytest.mark.usefixtures("no_deserialisation")
def test_md5_mismatch_is_refused_before_deserialisation(saved_model: Path) -> None:
    actual = md5_of(saved_model)
    expected = "0123456789abcdef0123456789abcdef"

    with pytest.raises(ModelFileError, match=r"does not match dvc\.lock") as info:
        load_model(saved_model, expected_md5=expected)

    assert actual[:8] in str(info.value)
    assert expected[:8] in str(info.value)


def test_matching_md5_in_upper_case_is_accepted(saved_model: Path) -> None:
    assert load_model(saved_model, expected_md5=md5_of(saved_model).upper()) is not None


# --- B4: scikit-learn version -----------------------------------------------------


@pytest.mark.usefixtures("no_deserialisation")
def test_other_recorded_sklearn_version_is_an_error_naming_both(
    saved_model: Path, tmp_path: Path
) -> None:
    meta = {"format": model_io.MODEL_FORMAT, "sklearn_version": "0.24.2"}
    path = tmp_path / "old.skops"
    path.write_bytes(rezip(saved_model.read_bytes(), {"mergeml.json": json.dumps(meta).encode()}))

    with pytest.raises(ModelFileError, match=r"scikit-learn 0\.24\.2") as info:
        load_model(path)

    assert sklearn.__version__ in str(info.value)


@pytest.mark.usefixtures("no_deserialisation")
def test_missing_version_record_is_an_error(saved_model: Path, tmp_path: Path) -> None:
    path = tmp_path / "bare.skops"
    path.write_bytes(rezip(saved_model.read_bytes(), {"mergeml.json": None}))

    with pytest.raises(ModelFileError, match="records no scikit-learn version"):
        load_model(path)


def test_plain_skops_dump_without_mergeml_record_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.skops"
    path.write_bytes(skops.io.dumps(fitted("onehot", "str", "logistic")[0]))

    with pytest.raises(ModelFileError, match="records no scikit-learn version"):
        load_model(path)


def test_version_inside_estimator_states_is_checked_too(saved_model: Path, tmp_path: Path) -> None:
    data = saved_model.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = archive.read("schema.json")
    stamp = json.dumps(json.dumps(sklearn.__version__)).encode()
    assert stamp in schema
    path = tmp_path / "mixed.skops"
    forged = schema.replace(stamp, json.dumps(json.dumps("0.24.2")).encode())
    path.write_bytes(rezip(data, {"schema.json": forged}))

    with pytest.raises(ModelFileError, match="InconsistentVersionWarning"):
        load_model(path)


# --- corrupted files ----------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "flipped-byte", "empty", "bad-schema-json"])
@pytest.mark.usefixtures("no_deserialisation")
def test_damaged_file_raises_model_file_error(
    damage: str, saved_model: Path, tmp_path: Path
) -> None:
    data = saved_model.read_bytes()
    if damage == "truncated":
        broken = data[: len(data) // 2]
    elif damage == "flipped-byte":
        at = data.index(b"\x93NUMPY") + 200
        broken = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    elif damage == "empty":
        broken = b""
    else:
        broken = rezip(data, {"schema.json": b"{not json"})
    path = tmp_path / "broken.skops"
    path.write_bytes(broken)

    with pytest.raises(ModelFileError) as info:
        load_model(path)

    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_is_a_model_file_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="model file not found"):
        load_model(tmp_path / "absent.skops")


def test_model_file_error_is_a_mergeml_error() -> None:
    assert issubclass(ModelFileError, MergemlError)


# --- B5: no unsafe loaders in src/ --------------------------------------------------

UNSAFE_LOADING = re.compile(
    r"\b(?:cloudpickle|pickle|joblib|dill)\.loads?\b"
    r"|^\s*import\s+(?:cloudpickle|pickle|joblib|dill)\b"
    r"|^\s*from\s+(?:cloudpickle|pickle|joblib|dill)\b"
    r"|\bread_pickle\b"
    r"|allow_pickle\s*=\s*True",
    re.MULTILINE,
)


def unsafe_loading_lines(text: str) -> list[str]:
    """Lines of ``text`` that load (or import a loader of) pickled data."""
    return [match.group(0).strip() for match in UNSAFE_LOADING.finditer(text)]


@pytest.mark.parametrize(
    "snippet",
    [
        "model = pickle.load(handle)",
        "obj = pickle.loads(blob)",
        "m = joblib.load(path)",
        "m = cloudpickle.loads(b)",
        "import pickle",
        "from joblib import load",
        "df = pd.read_pickle(p)",
        "np.load(p, allow_pickle=True)",
    ],
)
def test_unsafe_loading_scanner_catches(snippet: str) -> None:
    assert unsafe_loading_lines(f"x = 1\n{snippet}\n")


def test_src_never_loads_pickle_joblib_or_cloudpickle() -> None:
    offenders = [
        f"{path.relative_to(REPO_ROOT)}: {line}"
        for path in sorted((REPO_ROOT / "src").rglob("*.py"))
        for line in unsafe_loading_lines(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
