"""A fresh clone reproduces exactly what is committed: `git status` stays empty."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import dvc, git, mergeml, run
from tests.projects import ROOT

pytestmark = pytest.mark.pipeline


def clone_working_tree(dest: Path) -> Path:
    """Every file git tracks, as it is in the working tree, committed in a new repo."""
    listed = git(ROOT, "ls-files", "-z").split("\0")
    files = [f for f in listed if f and (ROOT / f).is_file()]
    assert "dvc.lock" in files, "dvc.lock must be committed"
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "clone")
    return dest


def test_default_repro_in_a_fresh_clone_reproduces_every_tracked_byte(tmp_path: Path) -> None:
    repo = clone_working_tree(tmp_path / "clone")
    assert mergeml(repo, "params", "check").returncode == 0
    dvc(repo, "repro")
    changed = git(repo, "status", "--porcelain")
    assert changed == "", (
        "params.yaml, dvc.lock or reports/ differ from what is committed; run `make repro` "
        f"and commit the results:\n{changed}\n{git(repo, 'diff', '--stat')}"
    )
    assert "up to date" in dvc(repo, "status").stdout


# Other CPUs, as far as one machine can show them: NumPy's SIMD dispatch without AVX-512
# (a no-op where the CPU has none) or without AVX2 too, and other OpenBLAS kernels and
# thread counts. The default pipeline (generated data, a tree model) must not care.
CPU_VARIANTS = {
    "numpy-no-avx512": {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"},
    "numpy-no-avx2": {"NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"},
    "openblas-sandybridge-1-thread": {
        "OPENBLAS_CORETYPE": "Sandybridge",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    },
}


@pytest.mark.parametrize("variant", sorted(CPU_VARIANTS))
def test_the_default_pipeline_builds_the_same_bytes_under_other_cpu_features(
    project: Path, variant: str
) -> None:
    run([sys.executable, "-m", "dvc", "repro", "-f", "-q"], project, env=CPU_VARIANTS[variant])
    changed = git(project, "status", "--porcelain")
    assert changed == "", f"{variant} rebuilt other bytes:\n{changed}"
