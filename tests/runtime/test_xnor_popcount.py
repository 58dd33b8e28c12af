"""xnor_popcount.c against pnetc.kernels.xnor_popcount (+-1 weights on +-1 bits)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import HOST_AND_ARM, Reader, pack

from pnetc import hashing as H
from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", HOST_AND_ARM)
def test_xnor_popcount(build_kernel, toolchain, rng):
    kernel = build_kernel("test_xnor_popcount", ["xnor_popcount.c", "popcount.c"], toolchain)
    cases = []
    for nb, out in [(1, 1), (5, 2), (31, 3), (32, 4), (33, 5), (100, 16), (1024, 10)]:
        b = rng.integers(0, 2, size=nb).astype(np.uint8)
        wb = rng.integers(0, 2, size=(out, nb)).astype(np.uint8)
        wbits = H.pack_bits(wb)
        # garbage in the padding bits of the weights must not count
        if nb % 32:
            wbits[:, -1] |= np.uint32(0xFFFFFFFF) << np.uint32(nb % 32)
        bias = rng.integers(-1000, 1000, size=out).astype(np.int32) if out % 2 else None
        cases.append((H.pack_bits(b), nb, wbits, bias))
        cases.append((H.pack_bits(np.ones(nb, np.uint8)), nb, H.pack_bits(np.ones((out, nb), np.uint8)), None))
        cases.append((H.pack_bits(np.zeros(nb, np.uint8)), nb, H.pack_bits(np.ones((out, nb), np.uint8)), None))
    data = b"".join(pack(nb, wbits.shape[0], bias is not None, bits, wbits, *([bias] if bias is not None else []))
                    for bits, nb, wbits, bias in cases)
    r = Reader(kernel.run(data))
    for bits, nb, wbits, bias in cases:
        got = r.take(np.int32, wbits.shape[0])
        np.testing.assert_array_equal(got, K.xnor_popcount(bits, nb, wbits, bias))
        # the +-1 dot product it stands for
        pm_b = 2 * H.unpack_bits(bits, nb).astype(np.int64) - 1
        pm_w = 2 * H.unpack_bits(wbits, nb).astype(np.int64) - 1
        np.testing.assert_array_equal(got, pm_w @ pm_b + (0 if bias is None else bias))
    assert r.done()
