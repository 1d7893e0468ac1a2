"""A drift report as one self-contained HTML page: the table, the verdict, and for every
drifted feature an inline SVG plot of its reference and current distributions.

No script, no stylesheet link, no image source: the page opens offline and makes no
request. Every value from the data (column names, categories, the source) is escaped.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from mergeml.monitor.drift_check import profile_columns
from mergeml.monitor.render import HEADER, rows, summary

if TYPE_CHECKING:
    import pandas as pd

    from mergeml.monitor.drift_check import DriftReport

BINS = 30
TOP_CATEGORIES = 20
WIDTH, HEIGHT, PAD = 560, 180, 24
STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
    ".yes{background:#fdd}.ref{fill:#4c78a8;opacity:.6}.cur{fill:#f58518;opacity:.6}"
)


def _numeric_shares(
    entry: dict[str, Any], values: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Bin labels and the reference / current share of each bin."""
    summary = entry.get("numeric") or {}
    ref = np.asarray(summary.get("quantiles") or summary.get("sample") or [], dtype=float)
    ref = ref[np.isfinite(ref)]
    both = np.concatenate([ref, values]) if values.size else ref
    low, high = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    edges = np.linspace(low, high if high > low else low + 1.0, BINS + 1)
    ref_counts = np.histogram(ref, edges)[0].astype(float)
    cur_counts = np.histogram(values, edges)[0].astype(float)
    labels = [f"{edges[i]:.4g}" for i in range(BINS)]
    return labels, ref_counts / max(ref_counts.sum(), 1.0), cur_counts / max(cur_counts.sum(), 1.0)


def _category_shares(
    entry: dict[str, Any], values: pd.Series
) -> tuple[list[str], np.ndarray, np.ndarray]:
    from mergeml.evaluation.profile import value_counts

    freq = {str(k): float(v) for k, v in (entry.get("frequencies") or {}).items()}
    total = (sum(freq.values()) + float(entry.get("other") or 0)) or 1.0
    counts = value_counts(values)
    present = sum(counts.values()) or 1
    current = {k: v / present for k, v in counts.items()}
    names = sorted(
        set(freq) | set(current),
        key=lambda c: -(freq.get(c, 0.0) / total + current.get(c, 0.0)),
    )
    names = names[:TOP_CATEGORIES]
    ref = np.array([freq.get(c, 0.0) / total for c in names])
    cur = np.array([float(current.get(c, 0.0)) for c in names])
    return names, ref, cur


def svg_plot(labels: list[str], ref: np.ndarray, cur: np.ndarray) -> str:
    """Side-by-side bars of two distributions over ``labels``, as inline SVG."""
    top = float(max(ref.max(initial=0.0), cur.max(initial=0.0))) or 1.0
    step = (WIDTH - 2 * PAD) / max(len(labels), 1)
    bar = max(step / 2 - 1, 1)
    parts = [
        f'<svg width="{WIDTH}" height="{HEIGHT + PAD}" '
        'role="img" aria-label="reference (blue) and current (orange) distribution">'
    ]
    for i, label in enumerate(labels):
        x = PAD + i * step
        for offset, share, cls in ((0.0, ref[i], "ref"), (bar, cur[i], "cur")):
            h = (HEIGHT - PAD) * float(share) / top
            parts.append(
                f'<rect class="{cls}" x="{x + offset:.1f}" y="{HEIGHT - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}"><title>{escape(label)}: '
                f"{float(share):.1%}</title></rect>"
            )
    first, last = (escape(labels[0]), escape(labels[-1])) if labels else ("", "")
    parts.append(f'<text x="{PAD}" y="{HEIGHT + 16}" font-size="11">{first}</text>')
    parts.append(
        f'<text x="{WIDTH - PAD}" y="{HEIGHT + 16}" font-size="11" text-anchor="end">{last}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _plot(entry: dict[str, Any], values: pd.Series | None) -> str:
    import pandas as pd

    series = values if values is not None else pd.Series([], dtype=float)
    if entry.get("kind") == "numeric":
        numbers = pd.to_numeric(series, errors="coerce").dropna().to_numpy(dtype=float)
        return svg_plot(*_numeric_shares(entry, numbers))
    return svg_plot(*_category_shares(entry, series))


def _table(report: DriftReport) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADER)
    body = []
    for row in rows(report):
        cls = ' class="yes"' if row[6] == "yes" else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def html_page(report: DriftReport, frame: pd.DataFrame) -> str:
    """The page; ``frame`` is the current data the report was computed on."""
    columns = profile_columns(report.target.profile)
    plots = []
    for feature in report.result.features:
        if feature.drifted and feature.column in columns:
            values = frame.get(feature.column)
            plots.append(
                f"<h3>{escape(feature.column)} ({escape(feature.method)})</h3>"
                + _plot(columns[feature.column], values)
            )
    title = escape(f"Data drift: {report.target.label}")
    legend = (
        '<p><span style="color:#4c78a8">&#9632; reference</span> '
        '<span style="color:#f58518">&#9632; current</span></p>'
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{title}</title><style>{STYLE}</style></head><body>",
            f"<h1>{title}</h1>",
            f"<p>Current data: {escape(report.source)} ({report.result.n_current:,} rows)</p>",
            _table(report),
            f"<p><strong>{escape(summary(report))}</strong></p>",
            "<h2>Drifted features</h2>" + (legend if plots else "<p>none</p>"),
            *plots,
            "</body></html>",
        ]
    )
