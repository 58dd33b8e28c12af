"""quantize_f32.c against pnetc.kernels.quantize_f32 (pnetc's one rounding, pnetc.quantization)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack

from pnetc import kernels as K
from pnetc import quantization


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS)
def test_quantize_f32(build_kernel, toolchain, rng):
    kernel = build_kernel("test_quantize_f32", ["quantize_f32.c"], toolchain)
    cases = []
    for n, scale, zero_point in [(1, 0.5, 0), (7, 0.0123, -128), (784, 0.1, -3), (33, 3.0e-3, 127)]:
        x = (rng.standard_normal(n) * 200 * scale).astype(np.float32)
        cases.append((x, np.float32(scale), zero_point))
    # ties to even, both signs, the clamps, infinities and NaN
    edge = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1e30, -1e30, np.inf, -np.inf, np.nan, 127.49, -128.5],
                    np.float32)
    cases.append((edge, np.float32(1.0), 0))
    cases.append((edge, np.float32(0.25), -128))
    data = b"".join(pack(len(x), np.array([s], np.float32), zp, x) for x, s, zp in cases)
    r = Reader(kernel.run(data))
    for x, scale, zero_point in cases:
        q = r.take(np.int8, len(x))
        np.testing.assert_array_equal(q, K.quantize_f32(x, np.array([scale], np.float32), zero_point))
        np.testing.assert_array_equal(q, quantization.quantize(x, scale, zero_point, -128, 127))
    assert r.done()
