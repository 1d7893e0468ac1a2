"""Stage `schema`: the model's input schema, from the training split, next to the model."""

from pathlib import Path

from mergeml.config.lockfile import model_out_path
from mergeml.config.schema import SchemaParams
from mergeml.config.stage import load_stage_params
from mergeml.errors import run_with_boundary
from mergeml.files import read_parquet, write_text_atomic
from mergeml.model.schema import schema_path_for, schema_text, training_schema

TRAIN = Path("data/prepared/train.parquet")


def main() -> None:
    params = load_stage_params("schema", SchemaParams)
    out = Path(schema_path_for(model_out_path(Path("dvc.yaml"))))  # beside the model
    schema = training_schema(read_parquet(TRAIN), params.data.target, params.data.task)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, schema_text(schema))


if __name__ == "__main__":
    run_with_boundary(main)
