"""conv2d_s8.c against pnetc.kernels.conv2d_s8 (int8 convolution, TFLite/CMSIS-NN convention)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import BOARDS, SIMD_VARIANTS, Reader, pack
from window_cases import Geometry, all_geometries

from pnetc import kernels as K


def _case(rng, g: Geometry, out_c=None, kind="random", in_offset=None, out_offset=None, has_bias=True, relu=None):
    if g.ceil_mode:  # conv has no ceil mode
        g = Geometry(g.channels, g.in_hw, g.kernel, g.strides, g.pads, g.dilations)
    out_c = int(rng.integers(1, 5)) if out_c is None else out_c
    x = rng.integers(-128, 128, size=g.in_shape, dtype=np.int8)
    w = rng.integers(-127, 128, size=(out_c, g.channels) + g.kernel, dtype=np.int8)
    if kind in ("max", "min"):
        x[:] = 127 if kind == "max" else -128
        w[:] = 127 if kind == "max" else -127
    bias = rng.integers(-(1 << 16), 1 << 16, size=out_c).astype(np.int32) if has_bias else None
    mult, shift = K.quantize_multiplier(rng.uniform(1e-5, 0.05, size=out_c))
    in_offset = int(rng.integers(-127, 129)) if in_offset is None else in_offset
    out_offset = int(rng.integers(-128, 128)) if out_offset is None else out_offset
    relu = rng.random() < 0.5 if relu is None else relu
    act_min, act_max = (max(out_offset, -128), 127) if relu else (-128, 127)
    return g, x, w, bias, in_offset, mult, shift, out_offset, act_min, act_max


def _cases(rng):
    cases = [_case(rng, g) for g in all_geometries(rng)]
    edge = Geometry(3, (6, 6), (3, 3), pads=(1, 1, 1, 1))
    cases += [_case(rng, edge, kind=k, in_offset=io, out_offset=oo)
              for k in ("max", "min") for io in (-128, 127, 128, -127) for oo in (-128, 127)]
    cases += [_case(rng, edge, has_bias=False), _case(rng, edge, relu=True, out_offset=-128),
              _case(rng, edge, relu=True, out_offset=127)]
    # many channels: in_c * k_h * k_w = 51,200 taps of 255 * 127, a sum of 1.66e9 (int32 holds 2.15e9)
    big = Geometry(2048, (5, 5), (5, 5))
    g, x, w, _, _, m, s, oo, lo, hi = _case(rng, big, out_c=2, kind="max", in_offset=128)
    bias = np.array([(1 << 31) - 1 - 255 * 127 * 51200, -(1 << 31) + 255 * 127 * 51200], np.int32)
    w[1] = -127  # the second channel sums to -1.66e9, with the bias near INT32_MIN
    cases.append((g, x, w, bias, 128, m, s, oo, lo, hi))
    cases.append(_case(rng, Geometry(300, (3, 1), (3, 1)), out_c=3))  # wide input, H-only kernel
    # the Arm DSP path's column: exactly full (256 taps), one tap too many (portable), every tail length
    cases += [_case(rng, Geometry(16, (6, 6), (4, 4), pads=(2, 1, 1, 2)), out_c=5),
              _case(rng, Geometry(257, (2, 3), (1, 1)), out_c=3)]
    cases += [_case(rng, Geometry(c, (5, 5), (1, 3), pads=(0, 1, 0, 1)), out_c=o) for c, o in [(1, 1), (2, 2), (3, 3)]]
    return cases


SOURCES = ["conv2d_s8.c", "dense_s8.c", "requantize.c"]


def _check(kernel, cases):
    data = b""
    for g, x, w, bias, io, m, s, oo, lo, hi in cases:
        data += pack(g.channels, w.shape[0], bias is not None, io, oo, lo, hi, g.packed_window(), x, w,
                     *([bias] if bias is not None else []), m, s)
    r = Reader(kernel.run(data))
    for g, x, w, bias, io, m, s, oo, lo, hi in cases:
        win = g.window
        want = K.conv2d_s8(x, w, bias, io, m, s, oo, lo, hi, **g.twin_args(pool=False))
        assert want.shape == (w.shape[0], win.out_h, win.out_w)
        np.testing.assert_array_equal(r.take(np.int8, want.size).reshape(want.shape), want, err_msg=repr(g))
    assert r.done()


# the column path (im2col + dense_s8) everywhere, with dense_s8's SIMD loops on the Arm DSP / NEON
# builds; the direct loops (PNET_PORTABLE) on the host under the sanitizers and on Arm
@pytest.mark.parametrize("toolchain", SIMD_VARIANTS + ["arm-qemu", "gcc-sanitize-portable"] + BOARDS)
def test_conv2d_s8(build_kernel, toolchain, rng):
    defines = ("PNET_PORTABLE",) if toolchain.endswith("-portable") else ()
    kernel = build_kernel("test_conv2d_s8", SOURCES, toolchain.removesuffix("-portable"), defines=defines)
    _check(kernel, _cases(rng))


def test_conv2d_s8_on_cortex_m0(build_kernel, rng):
    """Thumb-1 cores take a 256-byte column: exactly full, one tap over, and small edge layers
    (the micro:bit has 16 KB of RAM for the driver and its cases)."""
    kernel = build_kernel("test_conv2d_s8", SOURCES, "board:microbit")
    cases = [_case(rng, Geometry(16, (4, 4), (4, 4), pads=(1, 2, 2, 1)), out_c=3),
             _case(rng, Geometry(257, (1, 2), (1, 1)), out_c=2),
             _case(rng, Geometry(3, (6, 5), (3, 3), (2, 1), (1, 1, 1, 1)), kind="min", in_offset=128),
             _case(rng, Geometry(2, (1, 12), (1, 5), pads=(0, 2, 0, 2)), kind="max", in_offset=-127)]
    _check(kernel, cases)


def test_twin_is_dense_s8_on_1x1_and_global_windows(rng):
    """A 1x1 conv is dense_s8 at each pixel; a kernel as large as the input is dense_s8 of the flattened input."""
    x = rng.integers(-128, 128, size=(5, 4, 3), dtype=np.int8)
    w = rng.integers(-127, 128, size=(6, 5, 1, 1), dtype=np.int8)
    bias = rng.integers(-1000, 1000, size=6).astype(np.int32)
    m, s = K.quantize_multiplier(rng.uniform(1e-4, 0.05, size=6))
    conv = K.conv2d_s8(x, w, bias, 7, m, s, -3)
    dense = K.dense_s8(x.reshape(5, -1).T, w.reshape(6, 5), bias, 7, m, s, -3).T.reshape(6, 4, 3)
    np.testing.assert_array_equal(conv, dense)
    wg = rng.integers(-127, 128, size=(6, 5, 4, 3), dtype=np.int8)
    conv = K.conv2d_s8(x, wg, bias, 7, m, s, -3)
    np.testing.assert_array_equal(conv.reshape(6), K.dense_s8(x.reshape(-1), wg.reshape(6, -1), bias, 7, m, s, -3))


def test_twin_batched_and_overflow(rng):
    g, x, w, bias, io, m, s, oo, lo, hi = _case(rng, Geometry(3, (7, 6), (3, 3), (2, 1), (1, 1, 1, 0)))
    xb = rng.integers(-128, 128, size=(2, 3) + x.shape, dtype=np.int8)
    batched = K.conv2d_s8(xb, w, bias, io, m, s, oo, lo, hi, **g.twin_args(pool=False))
    for i in range(2):
        for j in range(3):
            np.testing.assert_array_equal(
                batched[i, j], K.conv2d_s8(xb[i, j], w, bias, io, m, s, oo, lo, hi, **g.twin_args(pool=False)))
    too_wide = np.full((4096, 5, 5), 127, np.int8)
    with pytest.raises(K.PnetcError, match="overflows int32"):
        K.conv2d_s8(too_wide, np.full((1, 4096, 5, 5), 127, np.int8), None, 128, m[:1], s[:1], 0)
