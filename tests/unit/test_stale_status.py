"""Which `dvc status` entries make the workspace stale for gate, report and verify-built."""

from __future__ import annotations

from mergeml.review.reproduced import stale_changes


def test_changed_inputs_count_and_outputs_or_missing_files_do_not() -> None:
    status = {
        "compose": [{"changed outs": {"params.yaml": "modified"}}],
        "prepare": [{"changed outs": {"data/prepared": "deleted"}}],
        "train": [
            {"changed deps": {"data/prepared/train.parquet": "deleted"}},
            {"changed deps": {"params.yaml": {"model": "modified", "threads": "deleted"}}},
        ],
        "evaluate": [{"changed deps": {"src/mergeml/model": "modified"}}, "changed command"],
        "dvc.yaml:publish": ["always changed"],
    }
    assert stale_changes(status) == {
        "train": ["model in params.yaml", "threads in params.yaml"],
        "evaluate": ["src/mergeml/model", "command"],
    }


def test_a_clean_status_has_no_changes() -> None:
    assert stale_changes({}) == {}
