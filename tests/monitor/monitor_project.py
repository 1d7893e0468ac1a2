"""A tiny monitored project for the monitor command tests: a real git repository holding
dvc.yaml, dvc.lock (the model's md5), the reference profile, input schema, metrics and
gates (no DVC run), a model fitted directly, and a real prediction log written through
`PredictionLog` (the server's writer)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mergeml.data.synthetic import generate_transactions
from mergeml.model.io import dumps_canonical
from mergeml.model.schema import input_schema
from mergeml.serve.predlog import PredictionLog
from tests.helpers import git
from tests.scm.repos import DVC_YAML, lock

TARGET = "is_fraud"
NAME = "tabular-model"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
GATES = {"min": {"roc_auc": 0.6}, "max": {}, "vs_base": {"roc_auc": {"absolute": 0.05}}}


def features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[TARGET])


def fit(frame: pd.DataFrame) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    x = features(frame)
    numeric = [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c])]
    other = [c for c in x.columns if c not in numeric]
    pre = ColumnTransformer(
        [
            ("n", StandardScaler(), numeric),
            ("c", OneHotEncoder(handle_unknown="ignore"), other),
        ]
    )
    model = Pipeline([("pre", pre), ("lr", LogisticRegression(max_iter=500))])
    return model.fit(x, frame[TARGET])


def scored(model: Any, x: pd.DataFrame) -> pd.DataFrame:
    proba = model.predict_proba(x)
    classes = list(model.classes_)
    out = pd.DataFrame({f"proba_{c}": proba[:, i] for i, c in enumerate(classes)})
    out.insert(0, "prediction", np.asarray(classes)[proba.argmax(axis=1)])
    return out


def make_profile(train: pd.DataFrame, schema: dict[str, Any], md5: str, scores: Any) -> str:
    """The reference profile's text, as the profile stage writes it."""
    from mergeml.config.monitor import DriftSettings
    from mergeml.evaluation.profile import build_profile, profile_text

    profile = build_profile(
        features(train),
        schema,
        scores,
        model_md5=md5,
        settings=DriftSettings(),
        score_name="proba_1",
    )
    return profile_text(profile)


@dataclass(frozen=True)
class Project:
    root: Path
    commit: str
    md5: str
    model: Any
    train: pd.DataFrame


def make_project(dest: Path, *, rows: int = 3000, auc: float | None = None) -> Project:
    """The repository at ``dest`` (committed on main) and the fitted model; the recorded
    roc_auc is ``auc``, else the model's on a fresh test set (as evaluation records it)."""
    train = generate_transactions(rows, seed=11, positive_rate=0.1)
    model = fit(train)
    md5 = hashlib.md5(dumps_canonical(model), usedforsecurity=False).hexdigest()
    scores = model.predict_proba(features(train))[:, 1]
    dest.mkdir(parents=True)
    git(dest, "init", "-q", "-b", "main")
    (dest / "dvc.yaml").write_text(DVC_YAML)
    (dest / "dvc.lock").write_text(lock(md5))
    params = {"evaluate": {"gates": GATES}, "monitor": {"performance": {"bootstrap": 200}}}
    (dest / "params.yaml").write_text(yaml.safe_dump(params))
    (dest / "models").mkdir()
    schema = input_schema(features(train), TARGET, [0, 1])
    (dest / "models/reference_profile.json").write_text(make_profile(train, schema, md5, scores))
    (dest / "models/input_schema.json").write_text(json.dumps(schema))
    (dest / "reports").mkdir()
    if auc is None:
        from sklearn.metrics import roc_auc_score

        test = generate_transactions(rows, seed=12, positive_rate=0.1)
        auc = float(roc_auc_score(test[TARGET], model.predict_proba(features(test))[:, 1]))
    (dest / "reports/metrics.json").write_text(json.dumps({"roc_auc": auc, "accuracy": 0.9}))
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "model")
    return Project(dest, git(dest, "rev-parse", "HEAD").strip(), md5, model, train)


def write_log(
    url: Path,
    project: Project,
    frame: pd.DataFrame,
    *,
    stage: str = "production",
    when: datetime = NOW - timedelta(days=1),
    md5: str | None = None,
    batch: int = 500,
    unlogged: tuple[str, ...] = (),
) -> list[str]:
    """Log ``frame``'s rows as requests of ``batch`` rows scored by the project's model;
    the request ids."""
    log = PredictionLog(str(url), flush_seconds=60)
    model = {"name": NAME, "version": "v1.0.0", "stage": stage, "md5": md5 or project.md5}
    ids = []
    x = features(frame) if TARGET in frame else frame
    for start in range(0, len(x), batch):
        part = x.iloc[start : start + batch].reset_index(drop=True)
        request = f"req-{stage}-{start}"
        logged = part.drop(columns=list(unlogged))
        log.record(request, when, model, logged, scored(project.model, part))
        ids.append(request)
    log.close()
    return ids


def labels_for(frame: pd.DataFrame, ids: list[str], batch: int = 500) -> pd.DataFrame:
    """Feedback rows: the true ``is_fraud`` of every logged row."""
    rows = []
    for n, request in enumerate(ids):
        part = frame.iloc[n * batch : (n + 1) * batch]
        rows += [(request, i, int(v)) for i, v in enumerate(part[TARGET])]
    return pd.DataFrame(rows, columns=["request_id", "row", "label"])
