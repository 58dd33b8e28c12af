"""avgpool_f32.c against pnetc.kernels.avgpool_f32 (same summation order: identical bits)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import BOARDS, HOST_AND_ARM, pack
from pool_cases import check_pool, pool_inputs

from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", HOST_AND_ARM + BOARDS)
def test_avgpool_f32(build_kernel, toolchain, rng):
    kernel = build_kernel("test_avgpool_f32", ["avgpool_f32.c"], toolchain)
    cases = [(g, x, dict(count_include_pad=bool(i % 2))) for i, (g, x) in enumerate(pool_inputs(rng, np.float32))]
    check_pool(kernel, cases, lambda g, e: pack(g.channels, int(e["count_include_pad"])), K.avgpool_f32,
               np.float32)


def test_twin_matches_onnx_semantics(rng):
    """Against a float64 mean over the inside taps (count_include_pad=0) and the padded window (=1)."""
    x = rng.standard_normal((3, 5, 6)).astype(np.float32)
    xp = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1)))
    ones = np.pad(np.ones((5, 6)), 1)
    got0 = K.avgpool_f32(x, (3, 3), pads=(1, 1, 1, 1), strides=(2, 2))
    got1 = K.avgpool_f32(x, (3, 3), pads=(1, 1, 1, 1), strides=(2, 2), count_include_pad=True)
    for oh in range(got0.shape[1]):
        for ow in range(got0.shape[2]):
            win = xp[:, 2 * oh: 2 * oh + 3, 2 * ow: 2 * ow + 3].sum(axis=(1, 2))
            n = ones[2 * oh: 2 * oh + 3, 2 * ow: 2 * ow + 3].sum()
            np.testing.assert_allclose(got0[:, oh, ow], win / n, rtol=1e-6)
            np.testing.assert_allclose(got1[:, oh, ow], win / 9, rtol=1e-6)
