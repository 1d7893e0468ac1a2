"""Stage `evaluate`: metrics JSON and plot data for the test split (git-tracked)."""

from pathlib import Path

from mergeml.config.lockfile import model_out_path, output_md5
from mergeml.config.schema import EvaluateParams
from mergeml.config.stage import load_stage_params
from mergeml.errors import run_with_boundary
from mergeml.evaluation.evaluate import evaluate_classifier, evaluate_regressor
from mergeml.evaluation.reports import write_reports
from mergeml.files import read_parquet
from mergeml.model.io import load_model
from mergeml.model.threads import fixed_threads
from mergeml.model.train import split_xy

TEST = Path("data/prepared/test.parquet")
REPORTS = Path("reports")


def main() -> None:
    params = load_stage_params("evaluate", EvaluateParams)
    model_path = model_out_path(Path("dvc.yaml"))  # the model artifact dvc.yaml declares
    model = load_model(Path(model_path), expected_md5=output_md5(Path("dvc.lock"), model_path))
    features, target = split_xy(read_parquet(TEST), params.data.target)
    with fixed_threads(params.threads):
        if params.data.task == "classification":
            names = params.evaluate.classification_metrics
            result = evaluate_classifier(model, features, target.to_numpy(), names=names)
        else:
            names = params.evaluate.regression_metrics
            result = evaluate_regressor(model, features, target.to_numpy(), names=names)
    write_reports(result, REPORTS)


if __name__ == "__main__":
    run_with_boundary(main)
