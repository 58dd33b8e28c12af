"""dense_s4.c against pnetc.kernels.dense_s4 (int8 activations, packed int4 weights)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack

from pnetc import kernels as K


def _case(rng, n_in, n_out, kind="random", has_bias=True):
    x = rng.integers(-128, 128, size=n_in, dtype=np.int8)
    w = rng.integers(-8, 8, size=(n_out, n_in)).astype(np.int8)
    if kind == "zeros":
        x[:] = 0
        w[:] = 0
    elif kind == "max":
        x[:] = 127
        w[:] = 7
    elif kind == "min":  # the largest products: (-128 - 127) * -8
        x[:] = -128
        w[:] = -8
    bias = rng.integers(-(1 << 16), 1 << 16, size=n_out).astype(np.int32) if has_bias else None
    mult, shift = K.quantize_multiplier(rng.uniform(1e-4, 0.9, size=n_out))
    in_offset = {"min": -127, "max": 128}.get(kind, int(rng.integers(-127, 129)))
    out_offset = int(rng.integers(-128, 128))
    act_min, act_max = (-128, 127) if rng.random() < 0.5 else (out_offset, 127)
    return x, w, bias, in_offset, mult, shift, out_offset, act_min, act_max


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS + ["arm-qemu"])
def test_dense_s4(build_kernel, toolchain, rng):
    kernel = build_kernel("test_dense_s4", ["dense_s4.c", "requantize.c"], toolchain)
    shapes = [(1, 1), (3, 2), (7, 3), (8, 1), (8, 4), (9, 7), (15, 5), (16, 2), (17, 3), (32, 10), (33, 17),
              (128, 10), (128, 64), (1024, 10)]  # one group, group + tail, tails only, pairs + single rows
    cases = [_case(rng, i, o) for i, o in shapes]
    cases += [_case(rng, 64, 8, kind) for kind in ["zeros", "max", "min"]]
    cases += [_case(rng, 67, 9, kind) for kind in ["max", "min"]]
    cases += [_case(rng, 20, 5, has_bias=False)]
    data = b""
    for x, w, bias, io, m, s, oo, lo, hi in cases:
        data += pack(len(x), w.shape[0], bias is not None, io, oo, lo, hi, x, K.pack_s4(w),
                     *([bias] if bias is not None else []), m, s)
    r = Reader(kernel.run(data))
    for x, w, bias, io, m, s, oo, lo, hi in cases:
        got = r.take(np.int8, w.shape[0])
        np.testing.assert_array_equal(got, K.dense_s4(x, K.pack_s4(w), len(x), bias, io, m, s, oo, lo, hi))
        # the twin is dense_s8 on the unpacked weights
        np.testing.assert_array_equal(got, K.dense_s8(x, w, bias, io, m, s, oo, lo, hi))
    assert r.done()


def test_pack_s4_roundtrip_and_layout(rng):
    for n_in in (1, 7, 8, 9, 16, 33):
        w = rng.integers(-8, 8, size=(3, n_in))
        packed = K.pack_s4(w)
        assert packed.shape == (3, K.s4_row_bytes(n_in))
        np.testing.assert_array_equal(K.unpack_s4(packed, n_in), w)
    # byte k of a group: input k low nibble, input k + 4 high nibble; padding nibbles are zero
    np.testing.assert_array_equal(K.pack_s4(np.array([[1, 2, 3, 4, 5, 6, 7, -8, -1]])),
                                  [[0x51, 0x62, 0x73, 0x84, 0x0F, 0, 0, 0]])


def test_pack_s4_rejects_out_of_range():
    from pnetc.errors import PnetcError

    with pytest.raises(PnetcError, match="-8..7"):
        K.pack_s4(np.array([[8]]))
