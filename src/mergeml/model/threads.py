"""A fixed thread count for fitting and scoring, whatever the machine's cores.

Some results depend on the thread count in their last bits: histogram gradient
boosting sums gradients in parallel chunks, BLAS splits dot products. Using the count from
params.yaml on every machine makes the bytes the same on a laptop and a CI runner.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def fixed_threads(n_threads: int) -> Iterator[None]:
    """Run the block with exactly ``n_threads`` OpenMP and BLAS threads.

    scikit-learn caps OpenMP threads at the number of cores unless OMP_NUM_THREADS is
    set, so it is set for the block (and restored after) along with the runtime limits.
    """
    from threadpoolctl import threadpool_limits

    before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before
