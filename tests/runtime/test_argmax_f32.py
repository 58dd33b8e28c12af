"""argmax_f32.c against pnetc.kernels.argmax_f32 (first maximum wins)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import HOST, Reader, pack

from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", HOST)
def test_argmax_f32(build_kernel, toolchain, rng):
    kernel = build_kernel("test_argmax_f32", ["argmax_f32.c"], toolchain)
    cases = [np.array([0.5], np.float32), np.array([-1.0, -1.0], np.float32), np.array([0.0, -0.0, 0.0], np.float32),
             np.array([-np.inf, 3.0, np.inf, np.inf], np.float32), np.array([1e-30, 2e-30], np.float32)]
    cases += [rng.integers(-3, 3, size=int(n)).astype(np.float32) * 0.25 for n in rng.integers(1, 40, size=200)]
    cases += [rng.standard_normal(int(n)).astype(np.float32) for n in rng.integers(1, 40, size=50)]
    r = Reader(kernel.run(b"".join(pack(len(x), x) for x in cases)))
    got = [r.i32() for _ in cases]
    assert got == [int(K.argmax_f32(x)) for x in cases]
    assert got[:5] == [0, 0, 0, 2, 1]
    assert r.done()
