"""Stage `train`: fit the Pipeline on the training split; save it with skops."""

from pathlib import Path

from mergeml.config.lockfile import model_out_path
from mergeml.config.schema import TrainParams
from mergeml.config.stage import load_stage_params
from mergeml.errors import run_with_boundary
from mergeml.files import read_parquet
from mergeml.model.io import save_model
from mergeml.model.train import train_model

TRAIN = Path("data/prepared/train.parquet")


def main() -> None:
    params = load_stage_params("train", TrainParams)
    model_path = Path(model_out_path(Path("dvc.yaml")))  # the model artifact dvc.yaml declares
    model = train_model(read_parquet(TRAIN), params)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, model_path)


if __name__ == "__main__":
    run_with_boundary(main)
