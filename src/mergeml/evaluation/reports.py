"""Write an evaluation result where DVC reads it: metrics.json and the plot tables."""

from __future__ import annotations

from pathlib import Path

from mergeml.evaluation.evaluate import EvaluationResult
from mergeml.files import dumps_json, write_text_atomic


def write_reports(result: EvaluationResult, reports: Path) -> None:
    """Write metrics.json and plots/*: JSON tables, and the confusion pairs as CSV.

    The confusion table has one row per test row, so CSV keeps it small in git.
    """
    write_text_atomic(reports / "metrics.json", dumps_json(result.metrics))
    for name, rows in result.plots.items():
        if name == "confusion":
            lines = ["actual,predicted"] + [f"{r['actual']},{r['predicted']}" for r in rows]
            write_text_atomic(reports / "plots" / "confusion.csv", "\n".join(lines) + "\n")
        else:
            write_text_atomic(reports / "plots" / f"{name}.json", dumps_json(rows))
