"""lut_s8.c against pnetc.kernels.lut_s8."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import HOST, Reader, pack

from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", HOST)
def test_lut_s8(build_kernel, toolchain, rng):
    kernel = build_kernel("test_lut_s8", ["lut_s8.c"], toolchain)
    every = np.arange(-128, 128, dtype=np.int8)
    cases = [(rng.integers(-128, 128, size=256, dtype=np.int8), every),
             (np.arange(255, -1, -1).astype(np.uint8).view(np.int8), every),
             (rng.integers(-128, 128, size=256, dtype=np.int8), rng.integers(-128, 128, size=1000, dtype=np.int8)),
             (rng.integers(-128, 128, size=256, dtype=np.int8), np.array([-128], np.int8))]
    r = Reader(kernel.run(b"".join(pack(len(x), lut, x) for lut, x in cases)))
    for lut, x in cases:
        np.testing.assert_array_equal(r.take(np.int8, len(x)), K.lut_s8(x, lut))
    assert r.done()
    lut = rng.integers(-128, 128, size=256, dtype=np.int8)
    assert K.lut_s8(every, lut).tolist() == lut.tolist()
