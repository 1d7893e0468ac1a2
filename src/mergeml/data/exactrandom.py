"""Portable random samplers: the same variates from the same ``np.random.PCG64`` everywhere.

Randomness comes only from the raw 64-bit words of the bit generator, turned into floats
exactly (:func:`~mergeml.data.exactmath.uniform`), and every transformation uses the
portable kernels of :mod:`mergeml.data.exactmath`. Samplers draw words block by block
(``BLOCK`` elements) in a fixed order: ``BLOCK`` and each sampler's word layout are part
of its output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from mergeml.data.exactmath import (
    BLOCK,
    Floats,
    Scratch,
    exp,
    log_into,
    symmetric_uniform_into,
    uniform_into,
)
from mergeml.errors import DataError

# At most this many uniforms are multiplied before a log: 16 stay above 2**-848 (normal).
_PRODUCT_GROUP = 16


def standard_normal(bitgen: np.random.PCG64, n: int) -> Floats:
    """``n`` N(0, 1) variates by Marsaglia's polar method, rejecting block by block.

    A block draws ``2 * pairs`` words, ``x`` from the first half and ``y`` from the second;
    its accepted pairs give their ``x`` values, then their ``y`` values, up to ``n`` in all.
    """
    _check_count(n)
    out = np.empty(n)
    most = _polar_pairs(min(n, BLOCK))
    work = Scratch.of(most)
    xy, picked = np.empty(2 * most), np.empty(2 * most)
    s, factor, keep = np.empty(most), np.empty(most), np.empty(most, bool)
    filled = 0
    while filled < n:
        pairs = _polar_pairs(min(n - filled, BLOCK))
        symmetric_uniform_into(bitgen.random_raw(2 * pairs), xy[: 2 * pairs])
        x, y = xy[:pairs], xy[pairs : 2 * pairs]
        _polar_factor(x, y, s[:pairs], factor[:pairs], work.head(pairs))
        np.less(s[:pairs], 1.0, out=keep[:pairs])
        count = int(np.count_nonzero(keep[:pairs]))
        room = n - filled
        dest = out[filled : filled + 2 * count] if 2 * count <= room else picked
        np.compress(keep[:pairs], x, out=dest[:count])
        np.compress(keep[:pairs], y, out=dest[count : 2 * count])
        if dest is picked:
            out[filled:] = picked[:room]
        filled += min(room, 2 * count)
    return out


def erlang(bitgen: np.random.PCG64, n: int, shape: int, scale: float) -> Floats:
    """Gamma variates with integer ``shape``: ``-scale * log`` of a product of uniforms."""
    _check_count(n)
    _check_positive_int("shape", shape)
    if not scale > 0.0:
        raise DataError(f"scale must be > 0, got {scale!r}")
    size = min(n, BLOCK)
    work = Scratch.of(size)
    product, part = np.empty(size), np.empty(size)

    def block(u: Floats, out: Floats) -> None:
        rows = u.reshape(-1, shape)
        m = rows.shape[0]
        out[:] = 0.0
        for start in range(0, shape, _PRODUCT_GROUP):
            np.copyto(product[:m], rows[:, start])
            for j in range(start + 1, min(start + _PRODUCT_GROUP, shape)):
                product[:m] *= rows[:, j]
            log_into(product[:m], part[:m], work.head(m))
            out -= part[:m]
        out *= scale

    return _fill_uniform(bitgen, n, shape, block)


def beta(bitgen: np.random.PCG64, n: int, a: int, b: int) -> Floats:
    """Beta(``a``, ``b``) for integers: the ``a``-th smallest of ``a + b - 1`` uniforms."""
    _check_count(n)
    _check_positive_int("a", a)
    _check_positive_int("b", b)
    width = a + b - 1
    rank = min(a, b)
    size = min(n, BLOCK)
    best = [np.empty(size) for _ in range(rank)]
    spare, value = np.empty(size), np.empty(size)

    def block(u: Floats, out: Floats) -> None:
        rows = u.reshape(-1, width)
        m = rows.shape[0]
        if a > b:  # the a-th smallest is 1 - (the b-th smallest of 1 - u); all exact
            np.subtract(1.0, rows, out=rows)
        _kth_smallest_into(rows, [x[:m] for x in best], spare[:m], value[:m], out)
        if a > b:
            np.subtract(1.0, out, out=out)

    return _fill_uniform(bitgen, n, width, block)


def poisson(bitgen: np.random.PCG64, n: int, lam: float) -> Floats:
    """Poisson(``lam``) counts (as floats) by inverting a cumulative table."""
    _check_count(n)
    if not 0.0 < lam <= 30.0:
        raise DataError(f"lam must be in (0, 30], got {lam!r}")
    term = float(exp(-float(lam)))
    cumulative = [term]
    k = 0
    while k <= lam or term > 2.0**-60:  # summed in a fixed order, smallest count first
        k += 1
        term = term * lam / k
        cumulative.append(cumulative[-1] + term)
    return _inverse_table(bitgen, n, cumulative).astype(np.float64)


def logistic(bitgen: np.random.PCG64, n: int) -> Floats:
    """Standard logistic variates: ``log(u / (1 - u))`` (``1 - u`` is exact)."""
    _check_count(n)
    size = min(n, BLOCK)
    work = Scratch.of(size)
    odds = np.empty(size)

    def block(u: Floats, out: Floats) -> None:
        m = u.shape[0]
        np.subtract(1.0, u, out=odds[:m])
        np.divide(u, odds[:m], out=odds[:m])
        log_into(odds[:m], out, work.head(m))

    return _fill_uniform(bitgen, n, 1, block)


def choice(bitgen: np.random.PCG64, n: int, p: Sequence[float]) -> npt.NDArray[np.int16]:
    """``n`` category codes drawn with probabilities ``p`` (cumulated in a fixed order)."""
    _check_count(n)
    probs = [float(q) for q in p]
    if not probs or not all(q >= 0.0 for q in probs):
        raise DataError(f"probabilities must be a non-empty list of values >= 0, got {p!r}")
    cumulative: list[float] = []
    running = 0.0
    for q in probs:
        running += q
        cumulative.append(running)
    if not abs(running - 1.0) <= 1e-9:
        raise DataError(f"probabilities must sum to 1, got {running!r}")
    return _inverse_table(bitgen, n, cumulative)


def _inverse_table(
    bitgen: np.random.PCG64, n: int, cumulative: list[float]
) -> npt.NDArray[np.int16]:
    """For each uniform (one word each), how many cumulative probabilities it reaches.

    That is the inverse CDF: the last index takes all the mass above the second-to-last
    entry, rounding gap included. Counting comparisons beats a binary search here.
    """
    edges = [edge for edge in cumulative[:-1] if edge < 1.0]  # uniforms never reach 1
    out = np.zeros(n, dtype=np.int16)
    u = np.empty(min(n, BLOCK))
    reached = np.empty(min(n, BLOCK), dtype=bool)
    for start in range(0, n, BLOCK):
        size = min(BLOCK, n - start)
        uniform_into(bitgen.random_raw(size), u[:size])
        for edge in edges:
            np.greater_equal(u[:size], edge, out=reached[:size])
            out[start : start + size] += reached[:size]
    return out


def _fill_uniform(
    bitgen: np.random.PCG64,
    n: int,
    per_item: int,
    block: Callable[[Floats, Floats], None],
) -> Floats:
    """Fill ``n`` floats block by block from ``per_item`` uniforms each (row-major words)."""
    out = np.empty(n)
    u = np.empty(min(n, BLOCK) * per_item)
    for start in range(0, n, BLOCK):
        size = min(BLOCK, n - start)
        uniform_into(bitgen.random_raw(size * per_item), u[: size * per_item])
        block(u[: size * per_item], out[start : start + size])
    return out


def _polar_pairs(want: int) -> int:
    """Candidate pairs for ``want`` normals: pi/4 are accepted, so ~1.05 * want on average."""
    return want * 2 // 3 + 32


def _polar_factor(x: Floats, y: Floats, s: Floats, factor: Floats, work: Scratch) -> None:
    """Scale ``x`` and ``y`` in place by ``sqrt(-2 log(s) / s)``, ``s = x*x + y*y``.

    Pairs with ``s >= 1`` (to be rejected) get a factor of 0; ``s > 0`` since x, y != 0.
    """
    np.multiply(x, x, out=s)
    s += np.multiply(y, y, out=factor)
    log_into(s, factor, work)
    factor *= -2.0
    factor /= s
    np.maximum(factor, 0.0, out=factor)
    np.sqrt(factor, out=factor)
    x *= factor
    y *= factor


def _kth_smallest_into(
    rows: Floats, best: list[Floats], spare: Floats, value: Floats, out: Floats
) -> None:
    """``out`` = the ``len(best)``-th smallest of each row, by exact min/max insertion."""
    for array in best:
        array.fill(np.inf)
    for j in range(rows.shape[1]):
        np.copyto(value, rows[:, j])
        for i in range(len(best)):
            np.minimum(best[i], value, out=spare)
            np.maximum(best[i], value, out=value)
            best[i], spare = spare, best[i]
    np.copyto(out, best[-1])


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise DataError(f"n must be an integer >= 0, got {n!r}")


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DataError(f"{name} must be an integer >= 1, got {value!r}")
