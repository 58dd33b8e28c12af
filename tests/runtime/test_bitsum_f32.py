"""bitsum_f32.c against pnetc.kernels.bitsum_f32 (same float32 addition order)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import HOST, Reader, pack

from pnetc import hashing as H
from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", HOST)
def test_bitsum_f32(build_kernel, toolchain, rng):
    kernel = build_kernel("test_bitsum_f32", ["bitsum_f32.c"], toolchain)
    cases = []
    for nb, out in [(1, 1), (31, 3), (33, 7), (100, 64), (512, 10)]:
        for kind in ["random", "zeros", "ones"]:
            b = {"random": rng.integers(0, 2, size=nb), "zeros": np.zeros(nb), "ones": np.ones(nb)}[kind]
            w = rng.standard_normal((nb, out)).astype(np.float32)
            bias = None if kind == "zeros" else rng.standard_normal(out).astype(np.float32)
            cases.append((H.pack_bits(b.astype(np.uint8)), nb, w, bias))
    data = b"".join(pack(nb, w.shape[1], bias is not None, bits, w, *([bias] if bias is not None else []))
                    for bits, nb, w, bias in cases)
    r = Reader(kernel.run(data))
    for bits, nb, w, bias in cases:
        got = r.take(np.float32, w.shape[1])
        want = K.bitsum_f32(bits, nb, w, bias)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(got, want)  # same order, same float32 roundings
    assert r.done()
