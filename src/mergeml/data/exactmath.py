"""Portable ``exp``/``log`` and random samplers that give the same bits on every CPU.

NumPy's float64 ``exp``/``log`` dispatch to SIMD kernels (AVX2, AVX-512, NEON) and its
``Generator`` distributions call the platform libm; their last bits differ between
machines. Everything here uses only operations whose result IEEE 754 fixes: ``+ - * /``
and ``sqrt`` (correctly rounded), exact ones (``ldexp``, ``rint``, comparisons,
``minimum``/``maximum``, integer and bit arithmetic), and no float reductions.
Randomness comes only from the raw 64-bit words of a ``np.random.PCG64``.

``exp`` and ``log`` are within a few ulp of NumPy's; determinism, not correct rounding, is
the point. Work is done in blocks of ``BLOCK`` elements with scratch arrays reused across
blocks (fresh temporaries cost page faults). Samplers draw words block by block in a fixed
order: ``BLOCK`` and each sampler's word layout are part of its output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import factorial
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from mergeml.errors import DataError

Floats = npt.NDArray[np.float64]
Words = npt.NDArray[np.uint64]

BLOCK = 1 << 15
"""Elements per block. Part of the samplers' stream layout: changing it changes data."""

# ln 2 split so that k * _LN2_HI is exact for |k| < 2**20; _LN2_LO is the rounded remainder.
_LN2_HI = float.fromhex("0x1.62e42fee00000p-1")
_LN2_LO = float.fromhex("0x1.a39ef35793c76p-33")
_INV_LN2 = float.fromhex("0x1.71547652b82fep+0")
# Bit pattern of sqrt(1/2): subtracting it splits x into 2**k * m with m in [sqrt(1/2), sqrt(2)).
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD
_MIN_NORMAL = 2.0**-1022
# Subnormal inputs of log are scaled up by 2**_SUBNORMAL_SHIFT first (exact).
_SUBNORMAL_SHIFT = 64
# exp is clamped to this range first: +inf above, 0 below (each edge has a margin).
_EXP_HI = 710.0
_EXP_LO = -746.0
# Taylor coefficients 1/i! of exp on |r| <= ln2/2, highest degree first (error < 0.1 ulp).
_EXP_COEFFS: tuple[float, ...] = tuple(1.0 / factorial(i) for i in range(13, 0, -1))
# log((1+s)/(1-s)) = 2s + s*R(s*s), R(z) = sum 2/(2i+1) z**i; |s| <= 0.172 so nine terms
# leave a truncation error below 0.1 ulp. Highest degree first.
_LOG_COEFFS: tuple[float, ...] = tuple(2.0 / (2 * i + 1) for i in range(9, 0, -1))
_TWO_M53 = 2.0**-53
_TWO_M52 = 2.0**-52
# At most this many uniforms are multiplied before a log: 16 stay above 2**-848 (normal).
_PRODUCT_GROUP = 16


class _Scratch(NamedTuple):
    """Reusable work arrays of one length for the exp/log kernels."""

    a: Floats
    b: Floats
    c: Floats
    d: Floats
    ints: npt.NDArray[np.int32]
    wide: npt.NDArray[np.int64]
    mask: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, size: int) -> _Scratch:
        """Fresh (uninitialised) arrays of ``size`` elements."""
        floats = (np.empty(size), np.empty(size), np.empty(size), np.empty(size))
        return cls(
            *floats, np.empty(size, np.int32), np.empty(size, np.int64), np.empty(size, bool)
        )

    def head(self, size: int) -> _Scratch:
        """Views of the first ``size`` elements."""
        a, b, c, d = self.a[:size], self.b[:size], self.c[:size], self.d[:size]
        return _Scratch(a, b, c, d, self.ints[:size], self.wide[:size], self.mask[:size])


def exp(x: npt.ArrayLike) -> Floats:
    """``e**x`` elementwise, the same bits on every platform."""
    return _elementwise(_exp_into, x)


def log(x: npt.ArrayLike) -> Floats:
    """Natural logarithm elementwise (``-inf`` at 0, ``nan`` below), same bits everywhere."""
    return _elementwise(_log_into, x)


def uniform(words: Words) -> Floats:
    """Uniforms in (0, 1), exactly: odd multiples of 2**-53 built from the top 52 bits."""
    words = np.array(words, dtype=np.uint64)
    out = np.empty(words.shape)
    _uniform_into(words, out)
    return out


def symmetric_uniform(words: Words) -> Floats:
    """Uniforms in (-1, 1), exactly and never 0: odd multiples of 2**-52 (signed words)."""
    words = np.array(words, dtype=np.uint64)
    out = np.empty(words.shape)
    _symmetric_uniform_into(words, out)
    return out


def standard_normal(bitgen: np.random.PCG64, n: int) -> Floats:
    """``n`` N(0, 1) variates by Marsaglia's polar method, rejecting block by block.

    A block draws ``2 * pairs`` words, ``x`` from the first half and ``y`` from the second;
    its accepted pairs give their ``x`` values, then their ``y`` values, up to ``n`` in all.
    """
    _check_count(n)
    out = np.empty(n)
    most = _polar_pairs(min(n, BLOCK))
    work = _Scratch.of(most)
    xy, picked = np.empty(2 * most), np.empty(2 * most)
    s, factor, keep = np.empty(most), np.empty(most), np.empty(most, bool)
    filled = 0
    while filled < n:
        pairs = _polar_pairs(min(n - filled, BLOCK))
        _symmetric_uniform_into(bitgen.random_raw(2 * pairs), xy[: 2 * pairs])
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
    work = _Scratch.of(size)
    product, part = np.empty(size), np.empty(size)

    def block(u: Floats, out: Floats) -> None:
        rows = u.reshape(-1, shape)
        m = rows.shape[0]
        out[:] = 0.0
        for start in range(0, shape, _PRODUCT_GROUP):
            np.copyto(product[:m], rows[:, start])
            for j in range(start + 1, min(start + _PRODUCT_GROUP, shape)):
                product[:m] *= rows[:, j]
            _log_into(product[:m], part[:m], work.head(m))
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
    work = _Scratch.of(size)
    odds = np.empty(size)

    def block(u: Floats, out: Floats) -> None:
        m = u.shape[0]
        np.subtract(1.0, u, out=odds[:m])
        np.divide(u, odds[:m], out=odds[:m])
        _log_into(odds[:m], out, work.head(m))

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
        _uniform_into(bitgen.random_raw(size), u[:size])
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
        _uniform_into(bitgen.random_raw(size * per_item), u[: size * per_item])
        block(u[: size * per_item], out[start : start + size])
    return out


def _elementwise(kernel: Callable[[Floats, Floats, _Scratch], None], x: npt.ArrayLike) -> Floats:
    """Apply a kernel block by block into a new array of ``x``'s shape."""
    arr = np.asarray(x, dtype=np.float64)
    flat = arr.ravel()
    out = np.empty(flat.shape[0])
    work = _Scratch.of(min(flat.shape[0], BLOCK))
    for start in range(0, flat.shape[0], BLOCK):
        stop = min(start + BLOCK, flat.shape[0])
        kernel(flat[start:stop], out[start:stop], work.head(stop - start))
    return out.reshape(arr.shape)


def _uniform_into(words: Words, out: Floats) -> None:
    """(0, 1) uniforms of ``words`` (overwritten): ``((w >> 11) | 1) * 2**-53``, exact."""
    signed = words.view(np.int64)
    np.right_shift(words, np.uint64(11), out=words)  # < 2**53: exact as int64 and float64
    np.bitwise_or(signed, 1, out=signed)
    np.multiply(signed, _TWO_M53, out=out)


def _symmetric_uniform_into(words: Words, out: Floats) -> None:
    """(-1, 1) uniforms of ``words`` (overwritten): arithmetic shift, then odd, exact."""
    signed = words.view(np.int64)
    np.right_shift(signed, 11, out=signed)
    np.bitwise_or(signed, 1, out=signed)
    np.multiply(signed, _TWO_M52, out=out)


def _exp_into(x: Floats, out: Floats, work: _Scratch) -> None:
    """``out = exp(x)``: x = k ln2 + r with |r| <= ln2/2, then ``ldexp(poly(r), k)``."""
    xc = np.clip(x, _EXP_LO, _EXP_HI, out=work.a)
    nan = np.isnan(xc, out=work.mask)
    has_nan = bool(nan.any())
    if has_nan:
        xc[nan] = 0.0
    k = np.multiply(xc, _INV_LN2, out=work.b)
    np.rint(k, out=k)
    r = np.multiply(k, _LN2_HI, out=work.c)  # exact: |k| < 2**11
    np.subtract(xc, r, out=r)
    r -= np.multiply(k, _LN2_LO, out=work.a)
    np.multiply(r, _EXP_COEFFS[0], out=out)
    for c in _EXP_COEFFS[1:]:
        out += c
        out *= r
    out += 1.0
    np.copyto(work.ints, k, casting="unsafe")  # integral values: exact
    np.ldexp(out, work.ints, out=out)
    if has_nan:
        out[nan] = np.nan


def _log_into(x: Floats, out: Floats, work: _Scratch) -> None:
    """``out = log(x)``; subnormals, zeros, negatives, infinities and NaN take a slow path."""
    normal = np.greater_equal(x, _MIN_NORMAL, out=work.mask)
    normal &= x < np.inf
    if normal.all():
        _log_normal(x, out, work)
        return
    normal = normal.copy()  # the kernel reuses work.mask
    subnormal = (x > 0.0) & (x < _MIN_NORMAL)
    scaled = np.where(normal, x, 1.0)
    scaled[subnormal] = x[subnormal] * 2.0**_SUBNORMAL_SHIFT
    _log_normal(scaled, out, work)
    out[subnormal] -= _SUBNORMAL_SHIFT * _LN2_HI
    out[subnormal] -= _SUBNORMAL_SHIFT * _LN2_LO
    special = ~(normal | subnormal)
    odd = x[special]
    out[special] = np.where(odd == 0.0, -np.inf, np.where(odd == np.inf, np.inf, np.nan))


def _log_normal(x: Floats, out: Floats, work: _Scratch) -> None:
    """log for finite normal x > 0: x = 2**k * m with m in [sqrt(1/2), sqrt(2)), by bits."""
    bits = x.view(np.int64)
    k = np.subtract(bits, _SQRT_HALF_BITS, out=work.wide)
    np.right_shift(k, 52, out=k)  # arithmetic: floor
    m_bits = np.left_shift(k, 52, out=work.a.view(np.int64))
    np.subtract(bits, m_bits, out=m_bits)  # the exponent field minus k: m = x / 2**k, exact
    f = np.subtract(work.a, 1.0, out=work.a)  # exact (Sterbenz)
    s = np.add(f, 2.0, out=work.b)
    np.divide(f, s, out=s)  # s = f / (2 + f), so 1 + f = (1 + s) / (1 - s)
    z = np.multiply(s, s, out=work.c)
    tail = np.multiply(z, _LOG_COEFFS[0], out=out)
    for c in _LOG_COEFFS[1:]:
        tail += c
        tail *= z
    # log(1 + f) = f - (hf2 - s * (hf2 + tail)) with hf2 = f*f/2: the split keeps accuracy.
    hf2 = np.multiply(f, f, out=work.c)
    hf2 *= 0.5
    tail += hf2
    tail *= s
    dk = work.b
    np.copyto(dk, k)  # exact
    tail += np.multiply(dk, _LN2_LO, out=work.d)
    np.subtract(hf2, tail, out=hf2)
    np.subtract(f, hf2, out=f)
    np.multiply(dk, _LN2_HI, out=out)  # exact: |k| < 2**11
    out += f


def _polar_pairs(want: int) -> int:
    """Candidate pairs for ``want`` normals: pi/4 are accepted, so ~1.05 * want on average."""
    return want * 2 // 3 + 32


def _polar_factor(x: Floats, y: Floats, s: Floats, factor: Floats, work: _Scratch) -> None:
    """Scale ``x`` and ``y`` in place by ``sqrt(-2 log(s) / s)``, ``s = x*x + y*y``.

    Pairs with ``s >= 1`` (to be rejected) get a factor of 0; ``s > 0`` since x, y != 0.
    """
    np.multiply(x, x, out=s)
    s += np.multiply(y, y, out=factor)
    _log_into(s, factor, work)
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
