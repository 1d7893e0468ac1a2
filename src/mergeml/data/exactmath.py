"""Portable ``exp``/``log`` and uniforms that give the same bits on every CPU.

NumPy's float64 ``exp``/``log`` dispatch to SIMD kernels (AVX2, AVX-512, NEON) and its
``Generator`` distributions call the platform libm; their last bits differ between
machines. Everything here uses only operations whose result IEEE 754 fixes: ``+ - * /``
and ``sqrt`` (correctly rounded), exact ones (``ldexp``, ``rint``, comparisons,
``minimum``/``maximum``, integer and bit arithmetic), and no float reductions.
Uniforms are built exactly from raw 64-bit words; the samplers that draw those words
from a ``np.random.PCG64`` live in :mod:`mergeml.data.exactrandom`.

``exp`` and ``log`` are within a few ulp of NumPy's; determinism, not correct rounding, is
the point. Work is done in blocks of ``BLOCK`` elements with scratch arrays reused across
blocks (fresh temporaries cost page faults); the samplers draw words in the same blocks,
so ``BLOCK`` is part of their output.
"""

from __future__ import annotations

from collections.abc import Callable
from math import factorial
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

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


class Scratch(NamedTuple):
    """Reusable work arrays of one length for the exp/log kernels."""

    a: Floats
    b: Floats
    c: Floats
    d: Floats
    ints: npt.NDArray[np.int32]
    wide: npt.NDArray[np.int64]
    mask: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, size: int) -> Scratch:
        """Fresh (uninitialised) arrays of ``size`` elements."""
        floats = (np.empty(size), np.empty(size), np.empty(size), np.empty(size))
        return cls(
            *floats, np.empty(size, np.int32), np.empty(size, np.int64), np.empty(size, bool)
        )

    def head(self, size: int) -> Scratch:
        """Views of the first ``size`` elements."""
        a, b, c, d = self.a[:size], self.b[:size], self.c[:size], self.d[:size]
        return Scratch(a, b, c, d, self.ints[:size], self.wide[:size], self.mask[:size])


def exp(x: npt.ArrayLike) -> Floats:
    """``e**x`` elementwise, the same bits on every platform."""
    return _elementwise(_exp_into, x)


def log(x: npt.ArrayLike) -> Floats:
    """Natural logarithm elementwise (``-inf`` at 0, ``nan`` below), same bits everywhere."""
    return _elementwise(log_into, x)


def uniform(words: Words) -> Floats:
    """Uniforms in (0, 1), exactly: odd multiples of 2**-53 built from the top 52 bits."""
    words = np.array(words, dtype=np.uint64)
    out = np.empty(words.shape)
    uniform_into(words, out)
    return out


def symmetric_uniform(words: Words) -> Floats:
    """Uniforms in (-1, 1), exactly and never 0: odd multiples of 2**-52 (signed words)."""
    words = np.array(words, dtype=np.uint64)
    out = np.empty(words.shape)
    symmetric_uniform_into(words, out)
    return out


def _elementwise(kernel: Callable[[Floats, Floats, Scratch], None], x: npt.ArrayLike) -> Floats:
    """Apply a kernel block by block into a new array of ``x``'s shape."""
    arr = np.asarray(x, dtype=np.float64)
    flat = arr.ravel()
    out = np.empty(flat.shape[0])
    work = Scratch.of(min(flat.shape[0], BLOCK))
    for start in range(0, flat.shape[0], BLOCK):
        stop = min(start + BLOCK, flat.shape[0])
        kernel(flat[start:stop], out[start:stop], work.head(stop - start))
    return out.reshape(arr.shape)


def uniform_into(words: Words, out: Floats) -> None:
    """(0, 1) uniforms of ``words`` (overwritten): ``((w >> 11) | 1) * 2**-53``, exact."""
    signed = words.view(np.int64)
    np.right_shift(words, np.uint64(11), out=words)  # < 2**53: exact as int64 and float64
    np.bitwise_or(signed, 1, out=signed)
    np.multiply(signed, _TWO_M53, out=out)


def symmetric_uniform_into(words: Words, out: Floats) -> None:
    """(-1, 1) uniforms of ``words`` (overwritten): arithmetic shift, then odd, exact."""
    signed = words.view(np.int64)
    np.right_shift(signed, 11, out=signed)
    np.bitwise_or(signed, 1, out=signed)
    np.multiply(signed, _TWO_M52, out=out)


def _exp_into(x: Floats, out: Floats, work: Scratch) -> None:
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


def log_into(x: Floats, out: Floats, work: Scratch) -> None:
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


def _log_normal(x: Floats, out: Floats, work: Scratch) -> None:
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
