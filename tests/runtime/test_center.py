"""center.c against pnetc.kernels.center_u8/center_s8 (and hashing.center)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack

from pnetc import hashing as H
from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS)
def test_center(build_kernel, toolchain, rng):
    kernel = build_kernel("test_center", ["center.c"], toolchain)
    cases = []
    for n in [1, 2, 3, 4, 5, 31, 784]:  # the DSP path's 4-input steps and tails
        q = rng.integers(0, 256, size=n, dtype=np.uint8)
        qs = rng.integers(-128, 128, size=n, dtype=np.int8)
        mean = rng.integers(-300, 300, size=n).astype(np.int16)
        cases.append((q, qs, mean))
    n = 4
    cases.append((np.array([0, 255, 255, 0], np.uint8), np.array([-128, 127, -128, 127], np.int8),
                  np.array([255, 0, -255, 255], np.int16)))
    data = b"".join(pack(len(q), q, qs, m) for q, qs, m in cases)
    r = Reader(kernel.run(data))
    for q, qs, mean in cases:
        xu = r.take(np.int16, len(q))
        xs = r.take(np.int16, len(q))
        np.testing.assert_array_equal(xu, K.center_u8(q, mean))
        np.testing.assert_array_equal(xs, K.center_s8(qs, mean))
        np.testing.assert_array_equal(xu, H.center(q, mean))
    assert r.done()
