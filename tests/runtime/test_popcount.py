"""popcount.c (SWAR) against pnetc.kernels.popcount32 and Python's bit count."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import HOST_AND_ARM, Reader

from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", HOST_AND_ARM)
def test_popcount(build_kernel, toolchain, rng):
    kernel = build_kernel("test_popcount", ["popcount.c"], toolchain)
    v = np.concatenate([
        np.array([0, 1, 0x80000000, 0xFFFFFFFF, 0x55555555, 0xAAAAAAAA, 0x0F0F0F0F, 0x7FFFFFFF], np.uint32),
        (np.uint32(1) << np.arange(32, dtype=np.uint32)),
        rng.integers(0, 1 << 32, size=2000, dtype=np.uint64).astype(np.uint32),
    ])
    got = Reader(kernel.run(v.astype("<u4").tobytes())).take(np.uint32, len(v))
    np.testing.assert_array_equal(got, K.popcount32(v))
    assert got.tolist() == [bin(int(x)).count("1") for x in v]
