"""conv2d_f32.c against pnetc.kernels.conv2d_f32: the same float32 accumulation order and no fused
multiply-adds, so the results are identical bit for bit, also on the Cortex-M4F board (whose FPU
has VFMA and whose firmware flags, -std=gnu99, would let gcc fuse)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import BOARDS, HOST_AND_ARM, Reader, pack
from window_cases import Geometry, all_geometries

from pnetc import kernels as K


def _case(rng, g: Geometry, out_c=None, has_bias=True, scale=1.0):
    if g.ceil_mode:
        g = Geometry(g.channels, g.in_hw, g.kernel, g.strides, g.pads, g.dilations)
    out_c = int(rng.integers(1, 5)) if out_c is None else out_c
    x = (rng.standard_normal(g.in_shape) * scale).astype(np.float32)
    w = rng.standard_normal((out_c, g.channels) + g.kernel).astype(np.float32)
    bias = rng.standard_normal(out_c).astype(np.float32) if has_bias else None
    return g, x, w, bias


@pytest.mark.parametrize("toolchain", HOST_AND_ARM + BOARDS)
def test_conv2d_f32(build_kernel, toolchain, rng):
    kernel = build_kernel("test_conv2d_f32", ["conv2d_f32.c"], toolchain)
    cases = [_case(rng, g, has_bias=bool(i % 2)) for i, g in enumerate(all_geometries(rng))]
    edge = Geometry(3, (6, 6), (3, 3), pads=(1, 1, 1, 1))
    cases.append(_case(rng, edge, scale=1e30))  # overflow to inf, and inf - inf = NaN
    cases.append(_case(rng, Geometry(64, (4, 4), (3, 3), pads=(1, 1, 1, 1)), out_c=8))
    g, x, w, _ = _case(rng, edge)
    cases.append((g, np.zeros_like(x), w, None))
    data = b"".join(pack(g.channels, w.shape[0], b is not None, g.packed_window(), x, w,
                         *([b] if b is not None else [])) for g, x, w, b in cases)
    r = Reader(kernel.run(data))
    for g, x, w, b in cases:
        want = K.conv2d_f32(x, w, b, **g.twin_args(pool=False))
        got = r.take(np.float32, want.size).reshape(want.shape)
        np.testing.assert_array_equal(got, want, err_msg=repr(g))
    assert r.done()


def test_twin_close_to_float64(rng):
    x = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 2)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    args = dict(strides=(2, 1), pads=(1, 0, 1, 1), dilations=(1, 2))
    got = K.conv2d_f32(x, w, b, **args)
    # float64 reference by the integer twin's route: sum over taps of x * w (exact order does not matter)
    win = K.window((9, 8), (3, 2), **args)
    ref = np.zeros((2, 5, win.out_h, win.out_w))
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1 + 3), (0, 1 + 3)))
    for kh in range(3):
        for kw in range(2):
            patch = xp[:, :, kh: kh + 2 * win.out_h: 2, 2 * kw: 2 * kw + win.out_w]
            ref += np.einsum("nchw,oc->nohw", patch, w[:, :, kh, kw].astype(np.float64))
    np.testing.assert_allclose(got, ref + b[:, None, None], rtol=1e-4, atol=1e-4)
