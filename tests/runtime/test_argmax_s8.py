"""argmax_s8.c against pnetc.kernels.argmax_s8 (first maximum wins)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import HOST, Reader, pack

from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", HOST)
def test_argmax_s8(build_kernel, toolchain, rng):
    kernel = build_kernel("test_argmax_s8", ["argmax_s8.c"], toolchain)
    cases = [np.array([5], np.int8), np.array([-128, -128, -128], np.int8), np.array([1, 127, 127, 3], np.int8),
             np.array([-128, -127], np.int8), np.array([127, -128, 127], np.int8)]
    cases += [rng.integers(-4, 4, size=int(n), dtype=np.int8) for n in rng.integers(1, 40, size=200)]
    r = Reader(kernel.run(b"".join(pack(len(x), x) for x in cases)))
    got = [r.i32() for _ in cases]
    assert got == [int(K.argmax_s8(x)) for x in cases]
    assert got[:5] == [0, 0, 1, 1, 0]
    assert r.done()
