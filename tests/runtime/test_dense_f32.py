"""dense_f32.c against pnetc.kernels.dense_f32 (same float32 accumulation order; 1e-5 relative)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import HOST_AND_ARM, Reader, pack

from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", HOST_AND_ARM)
def test_dense_f32(build_kernel, toolchain, rng):
    kernel = build_kernel("test_dense_f32", ["dense_f32.c"], toolchain)
    cases = []
    for n_in, n_out in [(1, 1), (3, 2), (33, 17), (128, 64), (1024, 10)]:
        x = rng.standard_normal(n_in).astype(np.float32)
        w = (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(np.float32)
        bias = rng.standard_normal(n_out).astype(np.float32) if n_out % 2 else None
        cases.append((x, w, bias))
    cases.append((np.zeros(16, np.float32), rng.standard_normal((4, 16)).astype(np.float32), None))
    cases.append((np.full(8, 1e30, np.float32), np.full((2, 8), 1e-30, np.float32), np.ones(2, np.float32)))
    data = b"".join(pack(len(x), w.shape[0], b is not None, x, w, *([b] if b is not None else []))
                    for x, w, b in cases)
    r = Reader(kernel.run(data))
    for x, w, b in cases:
        got = r.take(np.float32, w.shape[0])
        want = K.dense_f32(x, w, b)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert r.done()


def test_twin_close_to_float64(rng):
    x = rng.standard_normal((7, 300)).astype(np.float32)
    w = rng.standard_normal((20, 300)).astype(np.float32)
    b = rng.standard_normal(20).astype(np.float32)
    ref = x.astype(np.float64) @ w.T.astype(np.float64) + b
    np.testing.assert_allclose(K.dense_f32(x, w, b), ref, rtol=1e-4, atol=1e-4)
