"""requantize.c (TFLite MultiplyByQuantizedMultiplier) against pnetc.kernels.requantize and an
independent big-integer model of gemmlowp, for all int32 inputs including the extremes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack

from pnetc import kernels as K

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


def _wrap32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def reference(v: int, mult: int, shift: int) -> int:
    """gemmlowp in exact Python integers (the definition, written independently of the twin)."""
    x = _wrap32(v << max(shift, 0))
    if x == mult == I32_MIN:
        high = I32_MAX
    else:
        ab = x * mult
        nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
        t = ab + nudge
        high = abs(t) >> 31 if t >= 0 else -(abs(t) >> 31)  # truncating division
    e = max(-shift, 0)
    mask = (1 << e) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> e) + (1 if remainder > threshold else 0)


def _triples(rng):
    values = [0, 1, -1, 2, -2, 3, 127, -128, 255, 1 << 15, I32_MAX, I32_MIN, I32_MAX - 1, I32_MIN + 1,
              1 << 30, -(1 << 30), 12345678, -12345678]
    mults = [0, 1, 1 << 30, (1 << 30) + 1, I32_MAX, I32_MAX - 1, I32_MIN, -1, 1518500250, 1073741823]
    shifts = [-31, -30, -17, -8, -2, -1, 0, 1, 2, 7, 30]
    triples = list(itertools.product(values, mults, shifts))
    n = 20000
    v = rng.integers(I32_MIN, I32_MAX + 1, size=n, dtype=np.int64)
    small = rng.integers(-(1 << 16), 1 << 16, size=n)
    v = np.where(rng.random(n) < 0.5, v, small)
    m = rng.integers(1 << 30, 1 << 31, size=n)
    m = np.where(rng.random(n) < 0.1, rng.integers(I32_MIN, I32_MAX + 1, size=n, dtype=np.int64), m)
    s = rng.integers(-31, 31, size=n)
    s = np.where(rng.random(n) < 0.7, rng.integers(-12, 1, size=n), s)
    # exact halves: v * mult / 2^31 / 2^e lands on .5, the rounding corner
    e = rng.integers(1, 20, size=2000)
    halves = [(int((2 * k + 1) << (ei - 1)), 1 << 30, -int(ei) + 1) for k, ei in zip(rng.integers(-5000, 5000, 2000), e)]
    return triples + list(zip(v.tolist(), m.tolist(), s.tolist())) + halves


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS + ["arm-qemu"])
def test_requantize(build_kernel, toolchain, rng):
    kernel = build_kernel("test_requantize", ["requantize.c"], toolchain)
    triples = [t for t in _triples(rng) if -31 <= t[2] <= 30 and I32_MIN <= t[0] <= I32_MAX]
    arr = np.array(triples, dtype=np.int64)
    got = Reader(kernel.run(arr.astype("<i4").tobytes())).take(np.int32, len(triples))
    twin = K.requantize(arr[:, 0], arr[:, 1], arr[:, 2])
    np.testing.assert_array_equal(got, twin)
    ref = np.array([reference(*t) for t in triples[:4000]], dtype=np.int64)
    np.testing.assert_array_equal(twin[:4000].astype(np.int64), ref)


def test_twin_matches_reference_model(rng):
    triples = _triples(rng)
    arr = np.array(triples, dtype=np.int64)
    twin = K.requantize(arr[:, 0], arr[:, 1], arr[:, 2])
    assert twin.tolist() == [reference(*t) for t in triples]


def test_known_values():
    # multiplier 0.5 (2^30, shift 0): 3 * 0.5 = 1.5 -> 2 ; -3 * 0.5 = -1.5 -> -1 (half up in SRDHM)
    assert K.requantize([3, -3, 5, -5], 1 << 30, 0).tolist() == [2, -1, 3, -2]
    # shift -1 divides by 2 with rounding half away from zero: 6 * 0.5 = 3 -> 1.5 -> 2 ; -3 -> -2
    assert K.requantize([6, -6], 1 << 30, -1).tolist() == [2, -2]
    assert int(K.requantize(I32_MIN, I32_MIN, 0)) == I32_MAX  # the one saturating case


def test_quantize_multiplier_roundtrip(rng):
    reals = np.concatenate([rng.uniform(1e-6, 0.999, 500), [0.5, 0.25, 1.0 / 3, 0.0, 0.9999999999, 2.5]])
    mult, shift = K.quantize_multiplier(reals)
    approx = mult.astype(np.float64) * np.exp2(shift.astype(np.float64) - 31)
    np.testing.assert_allclose(approx, reals, rtol=1e-9, atol=0)
    assert np.all((mult == 0) | ((mult >= 1 << 30) & (mult <= I32_MAX)))


def cmsis_nn_requantize(v: int, mult: int, shift: int) -> int:
    """CMSIS-NN arm_nn_requantize, default path: arm_nn_doubling_high_mult_no_sat (64-bit SMLAL with
    a 2^30 offset, >> 31) then arm_nn_divide_by_power_of_two."""
    x = _wrap32(v << max(shift, 0))
    high = _wrap32((x * mult + (1 << 30)) >> 31)
    e = max(-shift, 0)
    mask = (1 << e) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> e) + (1 if remainder > threshold else 0)


def test_equals_cmsis_nn_except_the_saturating_corner(rng):
    triples = _triples(rng)
    arr = np.array(triples, dtype=np.int64)
    twin = K.requantize(arr[:, 0], arr[:, 1], arr[:, 2]).tolist()
    corner = 0
    for (v, m, s), t in zip(triples, twin):
        if _wrap32(v << max(s, 0)) == m == I32_MIN:
            corner += 1
            continue
        assert t == cmsis_nn_requantize(v, m, s), (v, m, s)
    assert corner > 0
