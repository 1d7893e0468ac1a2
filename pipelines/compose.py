"""Stage `compose`: params/ (Hydra) -> params.yaml.

Estimator arguments are checked by the `train` stage, so this stage never imports
scikit-learn; `mergeml params compose` checks them up front.
"""

from pathlib import Path

from mergeml.config.compose import compose_to_file
from mergeml.errors import run_with_boundary

if __name__ == "__main__":
    run_with_boundary(
        lambda: compose_to_file(Path("params"), Path("params.yaml"), check_estimators=False)
    )
