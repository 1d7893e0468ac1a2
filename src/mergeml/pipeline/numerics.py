"""Pinned numerics: the same floating-point kernels and thread counts on every x86-64 machine.

Floating-point results differ in their last bits between CPUs because libraries pick
kernels by CPU feature (NumPy's SIMD dispatch, OpenBLAS's core type, glibc's FMA variants
of exp/log/pow) and split sums by thread count. Fixing all of them before any library
loads makes model bytes identical across x86-64 Linux machines with the pinned
dependencies, at the price of the slower baseline kernels and one thread. Other
architectures (Apple Silicon) run other code and cannot give the same bytes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from mergeml.errors import ConfigError

Mode = Literal["native", "pinned"]
MODES: tuple[Mode, ...] = ("native", "pinned")

PINNED_ENV: Mapping[str, str] = {
    # NumPy 2.x: only the x86-64-v2 baseline kernels (no AVX2/AVX-512 dispatch).
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
    # OpenBLAS: the SSE4.2 kernels, which every x86-64-v2 machine runs.
    "OPENBLAS_CORETYPE": "Nehalem",
    # Thread counts change how sums are split (BLAS, OpenMP in scikit-learn).
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MKL_CBWR": "COMPATIBLE",
    # glibc: the exp/log/pow variants that use no FMA instructions.
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4",
}


def configured_mode(pyproject: Path) -> Mode:
    """``[tool.mergeml.build] numerics`` of ``pyproject``: "native" (default) or "pinned"."""
    if not pyproject.is_file():
        return "native"
    try:
        doc = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{pyproject} is not valid TOML: {exc}") from exc
    value = doc.get("tool", {}).get("mergeml", {}).get("build", {}).get("numerics", "native")
    if value not in MODES:
        raise ConfigError(
            f"{pyproject}: [tool.mergeml.build] numerics must be one of {', '.join(MODES)}, "
            f"got {value!r}"
        )
    mode: Mode = value
    return mode


def build_env(mode: Mode, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with the pinned variables set (``mode == "pinned"``) or left as they are."""
    env = dict(base)
    if mode == "pinned":
        env.update(PINNED_ENV)
    return env
