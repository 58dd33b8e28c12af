"""dense_pm1.c against pnetc.kernels.dense_pm1 (int8 activations, +-1 weights: adds, no multiplies)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack

from pnetc import hashing as H
from pnetc import kernels as K


def _case(rng, n_in, n_out, kind="random", has_bias=True):
    x = rng.integers(-128, 128, size=n_in, dtype=np.int8)
    plus = rng.integers(0, 2, size=(n_out, n_in)).astype(np.uint8)
    in_offset = int(rng.integers(-127, 129))
    if kind == "all_plus":
        x[:], plus[:], in_offset = 127, 1, 128
    elif kind == "all_minus":
        x[:], plus[:], in_offset = 127, 0, 128
    elif kind == "min":
        x[:], in_offset = -128, -127
    wbits = H.pack_bits(plus)
    if n_in % 32:  # garbage in the padding bits must not count
        wbits[:, -1] |= np.uint32(0xFFFFFFFF) << np.uint32(n_in % 32)
    bias = rng.integers(-(1 << 16), 1 << 16, size=n_out).astype(np.int32) if has_bias else None
    mult, shift = K.quantize_multiplier(rng.uniform(1e-4, 0.9, size=n_out))
    out_offset = int(rng.integers(-128, 128))
    act_min, act_max = (-128, 127) if rng.random() < 0.5 else (out_offset, 127)
    return x, wbits, plus, bias, in_offset, mult, shift, out_offset, act_min, act_max


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS + ["arm-qemu"])
def test_dense_pm1(build_kernel, toolchain, rng):
    kernel = build_kernel("test_dense_pm1", ["dense_pm1.c", "requantize.c"], toolchain)
    shapes = [(1, 1), (3, 2), (4, 3), (5, 2), (31, 3), (32, 4), (33, 5), (36, 3), (64, 2), (100, 16), (128, 10),
              (1024, 10)]  # groups of 4 (DSP), tails, word boundaries
    cases = [_case(rng, i, o) for i, o in shapes]
    cases += [_case(rng, n, 9, kind) for n in (67, 64) for kind in ["all_plus", "all_minus", "min"]]  # DSP and tails
    cases += [_case(rng, 20, 5, has_bias=False)]
    data = b""
    for x, wbits, _, bias, io, m, s, oo, lo, hi in cases:
        data += pack(len(x), wbits.shape[0], bias is not None, io, oo, lo, hi, x, wbits,
                     *([bias] if bias is not None else []), m, s)
    r = Reader(kernel.run(data))
    for x, wbits, plus, bias, io, m, s, oo, lo, hi in cases:
        got = r.take(np.int8, wbits.shape[0])
        np.testing.assert_array_equal(got, K.dense_pm1(x, wbits, len(x), bias, io, m, s, oo, lo, hi))
        # the +-1 product it stands for, through the int8 kernel's twin
        signs = 2 * plus.astype(np.int8) - 1
        np.testing.assert_array_equal(got, K.dense_s8(x, signs, bias, io, m, s, oo, lo, hi))
    assert r.done()
