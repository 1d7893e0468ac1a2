"""Digests of the embedded synthetic datasets, pinned (cheap to import in a child process)."""

from __future__ import annotations

import hashlib

import pandas as pd

from mergeml.data.synthetic import generate_transactions

# The default embedded dataset (params/data/synthetic.yaml, seed 42), whose bytes dvc.lock
# pins. Changing the generator on purpose means updating this digest and dvc.lock together;
# a mismatch anywhere else means the data is not portable to this machine.
DEFAULT_DIGEST = "7a5c44fa23fcb3ab9582bcee1130d700"
DRIFT_NOISE_DIGEST = "14411c88a9502c38900fdbadaa3cf154"


def frame_digest(frame: pd.DataFrame) -> str:
    """md5 over every column's name, dtype and bytes (categoricals: categories and codes)."""
    digest = hashlib.md5(usedforsecurity=False)
    for name in frame.columns:
        column = frame[name]
        digest.update(f"{name}:{column.dtype}".encode())
        if isinstance(column.dtype, pd.CategoricalDtype):
            digest.update(",".join(column.cat.categories).encode())
            values = column.cat.codes.to_numpy()
        else:
            values = column.to_numpy()
        digest.update(values.tobytes())
    return digest.hexdigest()


def digests() -> dict[str, str]:
    """Digests of the default dataset and of a drifted one with noise columns."""
    return {
        "default": frame_digest(generate_transactions(50_000, seed=42)),
        "drift_noise": frame_digest(
            generate_transactions(50_000, seed=42, drift=True, n_noise_features=3)
        ),
    }
