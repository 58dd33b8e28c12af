"""bitsum_s32.c against pnetc.kernels.bitsum_s32 (first layer over bits, int8 weights)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack

from pnetc import hashing as H
from pnetc import kernels as K


def _cases(rng):
    cases = []
    # out 16/32/48/256 and 200 rows cover the SIMD blocks, their tails and several 64-row chunks
    for nb, out in [(1, 1), (31, 3), (32, 10), (33, 7), (100, 64), (512, 10), (200, 16), (300, 37),
                    (720, 256), (65, 48)]:
        for fill in ["random", "zeros", "ones"]:
            b = {"random": rng.integers(0, 2, size=nb), "zeros": np.zeros(nb), "ones": np.ones(nb)}[fill]
            w = rng.integers(-128, 128, size=(nb, out), dtype=np.int8)
            if fill == "ones":
                w[:] = -128  # saturated weights
            bias = rng.integers(-(1 << 20), 1 << 20, size=out).astype(np.int32) if fill != "zeros" else None
            cases.append((H.pack_bits(b.astype(np.uint8)), nb, w, bias))
    return cases


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS)
def test_bitsum_s32(build_kernel, toolchain, rng):
    kernel = build_kernel("test_bitsum_s32", ["bitsum_s32.c"], toolchain)
    cases = _cases(rng)
    data = b"".join(pack(nb, w.shape[1], bias is not None, bits, w, *([bias] if bias is not None else []))
                    for bits, nb, w, bias in cases)
    r = Reader(kernel.run(data))
    for bits, nb, w, bias in cases:
        np.testing.assert_array_equal(r.take(np.int32, w.shape[1]), K.bitsum_s32(bits, nb, w, bias))
    assert r.done()


def test_twin_is_a_matmul(rng):
    b = rng.integers(0, 2, size=(5, 70)).astype(np.uint8)
    w = rng.integers(-128, 128, size=(70, 9), dtype=np.int8)
    bias = rng.integers(-100, 100, size=9).astype(np.int32)
    np.testing.assert_array_equal(K.bitsum_s32(H.pack_bits(b), 70, w, bias), b.astype(np.int64) @ w + bias)
