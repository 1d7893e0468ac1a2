"""`mergeml card` from the command line, on a promoted model."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import mergeml
from tests.scm.repos import clone, write_model


def test_card_of_a_promoted_version_names_it_and_its_history(origin: Path) -> None:
    repo = clone(origin, "a")
    rev = write_model(repo, "1" * 32, 0.9, "model one")
    assert mergeml(repo, "promote", "staging", "--message", "first cut").returncode == 0
    out = repo.parent / "card.md"
    proc = mergeml(repo, "card", "--rev", "tabular-model#staging#1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "# Model card: tabular-model" in text
    assert "v0.1.0" in text
    assert rev in text
    assert "1" * 32 in text
    assert "tabular-model#staging#1" in text
    assert "roc_auc" in text
    assert mergeml(repo, "card").stdout == text  # HEAD is the same commit: same card


def test_card_of_an_unknown_rev_is_one_line_and_writes_nothing(origin: Path) -> None:
    repo = clone(origin, "a")
    write_model(repo, "1" * 32, 0.9, "model one")
    out = repo.parent / "card.md"
    proc = mergeml(repo, "card", "--rev", "no-such-ref", "--out", str(out))
    assert proc.returncode != 0
    assert "no-such-ref" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()
