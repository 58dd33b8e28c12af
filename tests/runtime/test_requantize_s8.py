"""requantize_s8.c against pnetc.kernels.requantize_s8 (per-channel, offset, activation clamp)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack

from pnetc import kernels as K

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS)
def test_requantize_s8(build_kernel, toolchain, rng):
    kernel = build_kernel("test_requantize_s8", ["requantize_s8.c", "requantize.c"], toolchain)
    cases = []
    for n in [1, 7, 64, 300]:
        for out_offset, act_min, act_max in [(0, -128, 127), (-128, -128, 127), (127, -128, 127), (-5, -5, 127),
                                             (3, -20, 20)]:
            acc = rng.integers(-(1 << 20), 1 << 20, size=n).astype(np.int32)
            acc[: n // 3] = rng.choice([I32_MIN, I32_MAX, 0, -1, 1], size=n // 3)
            mult = rng.integers(1 << 30, 1 << 31, size=n).astype(np.int32)
            shift = rng.integers(-20, 3, size=n).astype(np.int32)
            cases.append((acc, mult, shift, out_offset, act_min, act_max))
    data = b"".join(pack(len(a), o, lo, hi, a, m, s) for a, m, s, o, lo, hi in cases)
    r = Reader(kernel.run(data))
    for a, m, s, o, lo, hi in cases:
        got = r.take(np.int8, len(a))
        np.testing.assert_array_equal(got, K.requantize_s8(a, m, s, o, lo, hi))
        assert got.min() >= lo and got.max() <= hi
    assert r.done()
