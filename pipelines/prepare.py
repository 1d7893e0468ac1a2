"""Stage `prepare`: load the declared source, validate, split, write Parquet."""

from pathlib import Path

from mergeml.config.schema import FileData, PrepareParams
from mergeml.config.stage import load_stage_params
from mergeml.data.prepare import prepare
from mergeml.errors import run_with_boundary
from mergeml.files import atomic_path, dumps_json, write_text_atomic

OUT = Path("data/prepared")
SUMMARY = Path("reports/data.json")


def main() -> None:
    params = load_stage_params("prepare", PrepareParams)
    if isinstance(params.data, FileData):
        from mergeml.data.sources import require_tracked
        from mergeml.scm import tracked_by_git

        require_tracked(Path(), params.data.path, tracked_by_git)
    prepared = prepare(params, Path())
    OUT.mkdir(parents=True, exist_ok=True)
    for name, frame in (("train", prepared.train), ("test", prepared.test)):
        with atomic_path(OUT / f"{name}.parquet") as tmp:
            frame.to_parquet(tmp, index=False)
    write_text_atomic(SUMMARY, dumps_json(prepared.summary))


if __name__ == "__main__":
    run_with_boundary(main)
