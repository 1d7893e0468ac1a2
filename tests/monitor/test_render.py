"""Drift reports as text, JSON, Markdown and a self-contained HTML page."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from mergeml.monitor import render
from mergeml.monitor.drift_check import DriftReport
from mergeml.monitor.render_html import html_page
from mergeml.monitor.stats import DriftResult, FeatureDrift
from mergeml.monitor.target import MonitorTarget
from mergeml.project import DEFAULT_LAYOUT, workspace_side

EVIL = '<img src="http://x/y.png" onerror=alert(1)>|col'


def feature(column: str, kind: str, drifted: bool | None, **extra: object) -> FeatureDrift:
    values: dict[str, object] = dict(
        column=column,
        kind=kind,
        method="ks" if kind == "numeric" else "chisquare",
        statistic=0.31,
        p_value=0.001,
        threshold=0.05,
        drifted=drifted,
        psi=0.4,
        psi_band="significant",
        n_reference=1000,
        n_current=500,
        missing_ref=0.0,
        missing_cur=0.02,
        out_of_range=0.1,
        unknown_categories=0.0,
        reason="",
    )
    values.update(extra)
    return FeatureDrift(**values)  # type: ignore[arg-type]


def report(tmp_path: Path) -> tuple[DriftReport, pd.DataFrame]:
    rng = np.random.default_rng(0)
    profile = {
        "columns": {
            "amount": {
                "kind": "numeric",
                "dtype": "float",
                "numeric": {"quantiles": np.linspace(0, 10, 1001).tolist()},
            },
            EVIL: {"kind": "categorical", "dtype": "str", "frequencies": {"<b>a</b>": 6, "b": 4}},
            "quiet": {"kind": "numeric", "dtype": "float", "numeric": {"quantiles": [0, 1]}},
        }
    }
    target = MonitorTarget(
        "model <at> abc", None, None, None, workspace_side(tmp_path), DEFAULT_LAYOUT, profile
    )
    result = DriftResult(
        features=(
            feature("amount", "numeric", True),
            feature(EVIL, "categorical", True, p_value=float("nan")),
            feature("quiet", "numeric", None, statistic=None, p_value=None, psi=None),
        ),
        score=feature("score", "numeric", False),
        drifted_share=1.0,
        dataset_drift=True,
        n_current=500,
        correction="none",
    )
    frame = pd.DataFrame(
        {"amount": rng.normal(8, 1, 500), EVIL: rng.choice(["<b>a</b>", "c"], 500), "quiet": 0.0}
    )
    return DriftReport(target, "logs <here>", result, 0.5), frame


def test_the_table_has_a_row_per_feature_and_the_summary(tmp_path: Path) -> None:
    text = render.table(report(tmp_path)[0])
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["column", "method", "statistic"]
    assert "not enough data" in lines[3]
    assert lines[-1] == (
        "dataset drift: 2 of 2 features drifted (share 1.00 >= 0.50): yes; prediction drift: no"
    )


def test_json_is_strict_and_names_every_verdict(tmp_path: Path) -> None:
    doc = json.loads(render.as_json(report(tmp_path)[0]))
    assert [f["verdict"] for f in doc["features"]] == ["yes", "yes", "not enough data"]
    assert doc["features"][1]["p_value"] is None  # NaN is written as null
    assert (doc["drift"], doc["dataset_drift"], doc["prediction_drift"]) == (True, True, False)


def test_markdown_escapes_table_breaking_values(tmp_path: Path) -> None:
    text = render.markdown(report(tmp_path)[0])
    row = next(line for line in text.splitlines() if "onerror" in line)
    assert "\\|col" in row
    assert "<img" not in row
    assert row.count(" | ") == len(render.HEADER) - 1


def test_the_html_page_is_self_contained_and_escaped(tmp_path: Path) -> None:
    page = html_page(*report(tmp_path))
    tags = re.findall(r"<[^>]*>", page)
    assert not [t for t in tags if re.search(r"src=|href=|http|url\(", t)]
    assert not [t for t in tags if t.startswith(("<script", "<link", "<img", "<iframe"))]
    assert "http" not in page.replace(escape(EVIL), "")  # only the escaped text holds it
    assert "<b>a</b>" not in page
    assert "&lt;b&gt;a&lt;/b&gt;" in page
    assert page.count("<svg") == 2  # one per drifted feature, none for "quiet"
    assert re.search(r'<rect class="cur" [^>]*height="[1-9]', page)  # bars are drawn
