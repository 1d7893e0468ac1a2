"""Stage `train`: fit the Pipeline on the training split; save it with skops."""

from pathlib import Path

from mergeml.config.schema import TrainParams
from mergeml.config.stage import load_stage_params
from mergeml.errors import run_with_boundary
from mergeml.files import read_parquet
from mergeml.model.io import save_model
from mergeml.model.train import train_model

TRAIN = Path("data/prepared/train.parquet")
MODEL = Path("models/model.skops")


def main() -> None:
    params = load_stage_params("train", TrainParams)
    model = train_model(read_parquet(TRAIN), params)
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, MODEL)


if __name__ == "__main__":
    run_with_boundary(main)
