"""Stage `train`: fit the Pipeline on the training split; save it with skops."""

from pathlib import Path

from mergeml.config.lockfile import model_out_path
from mergeml.config.schema import TrainParams
from mergeml.config.stage import load_stage_params
from mergeml.errors import run_with_boundary
from mergeml.files import read_parquet
from mergeml.model.io import save_model
from mergeml.model.progress import show_progress
from mergeml.model.train import train_model
from mergeml.project import allowed_targets

TRAIN = Path("data/prepared/train.parquet")


def main() -> None:
    params = load_stage_params("train", TrainParams)
    targets = allowed_targets()  # checked before any `_target_` is imported
    model_path = Path(model_out_path(Path("dvc.yaml")))  # the model artifact dvc.yaml declares
    model = train_model(read_parquet(TRAIN), params, targets=targets)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, model_path)


if __name__ == "__main__":
    show_progress()  # "train: fitting ...", a line a minute, "train: fitted in ..." on stderr
    run_with_boundary(main)
