"""Stage `profile`: the reference profile of the model's inputs (training split) and of
its score (test split), beside the model; drift checks compare windows with it."""

from pathlib import Path

from mergeml.config.lockfile import model_out_path, output_md5
from mergeml.config.profile_params import ProfileParams
from mergeml.config.stage import load_stage_params
from mergeml.errors import DataError, run_with_boundary
from mergeml.evaluation.profile import build_profile, model_scores, profile_path_for, profile_text
from mergeml.files import read_parquet, write_text_atomic
from mergeml.model.io import load_model
from mergeml.model.schema import parse_schema, schema_path_for
from mergeml.model.threads import fixed_threads
from mergeml.model.train import split_xy

TRAIN = Path("data/prepared/train.parquet")
TEST = Path("data/prepared/test.parquet")


def main() -> None:
    params = load_stage_params("profile", ProfileParams)
    model_path = model_out_path(Path("dvc.yaml"))
    md5 = output_md5(Path("dvc.lock"), model_path)
    schema_file = Path(schema_path_for(model_path))
    schema = parse_schema(schema_file.read_text(encoding="utf-8"))
    if schema is None or schema.get("target") != params.data.target:
        raise DataError(f"{schema_file} is not the input schema of this model: run `dvc repro`")
    model = load_model(Path(model_path), expected_md5=md5)
    features, _ = split_xy(read_parquet(TEST), params.data.target)
    with fixed_threads(params.threads):
        name, scores = model_scores(model, features)
    profile = build_profile(
        read_parquet(TRAIN),
        schema,
        scores,
        model_md5=md5 or "",
        settings=params.monitor.drift,
        score_name=name,
    )
    write_text_atomic(Path(profile_path_for(model_path)), profile_text(profile))


if __name__ == "__main__":
    run_with_boundary(main)
