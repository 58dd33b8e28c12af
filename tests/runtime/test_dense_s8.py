"""dense_s8.c against pnetc.kernels.dense_s8 (TFLite/CMSIS-NN int8 fully connected)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack

from pnetc import kernels as K


def _case(rng, n_in, n_out, kind="random", has_bias=True):
    x = rng.integers(-128, 128, size=n_in, dtype=np.int8)
    w = rng.integers(-127, 128, size=(n_out, n_in), dtype=np.int8)
    if kind == "zeros":
        x[:] = 0
        w[:] = 0
    elif kind == "max":
        x[:] = 127
        w[:] = 127
    elif kind == "min":
        x[:] = -128
        w[:] = -128
    bias = rng.integers(-(1 << 16), 1 << 16, size=n_out).astype(np.int32) if has_bias else None
    mult, shift = K.quantize_multiplier(rng.uniform(1e-4, 0.9, size=n_out))
    in_offset = int(rng.integers(-127, 129))
    out_offset = int(rng.integers(-128, 128))
    act_min, act_max = (-128, 127) if rng.random() < 0.5 else (out_offset, 127)  # fused ReLU clamps at zero
    return x, w, bias, in_offset, mult, shift, out_offset, act_min, act_max


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS + ["arm-qemu"])
def test_dense_s8(build_kernel, toolchain, rng):
    kernel = build_kernel("test_dense_s8", ["dense_s8.c", "requantize.c"], toolchain)
    cases = [_case(rng, i, o) for i, o in [(1, 1), (3, 2), (32, 10), (33, 17), (128, 64), (1024, 10),
                                                   (256, 10), (7, 3), (6, 5), (12, 4), (9, 7), (40, 11)]]  # SIMD blocks and tails
    cases += [_case(rng, 64, 8, kind) for kind in ["zeros", "max", "min"]]
    cases += [_case(rng, 67, 9, kind) for kind in ["max", "min"]]  # extremes through the tails
    cases += [_case(rng, 20, 5, has_bias=False)]
    data = b""
    for x, w, bias, io, m, s, oo, lo, hi in cases:
        data += pack(len(x), w.shape[0], bias is not None, io, oo, lo, hi, x, w,
                     *([bias] if bias is not None else []), m, s)
    r = Reader(kernel.run(data))
    for x, w, bias, io, m, s, oo, lo, hi in cases:
        got = r.take(np.int8, w.shape[0])
        np.testing.assert_array_equal(got, K.dense_s8(x, w, bias, io, m, s, oo, lo, hi))
    assert r.done()


def test_twin_batched(rng):
    x, w, bias, io, m, s, oo, lo, hi = _case(rng, 40, 6)
    xb = rng.integers(-128, 128, size=(9, 40), dtype=np.int8)
    batched = K.dense_s8(xb, w, bias, io, m, s, oo, lo, hi)
    for row, y in zip(xb, batched):
        np.testing.assert_array_equal(K.dense_s8(row, w, bias, io, m, s, oo, lo, hi), y)
