"""maxpool_f32.c against pnetc.kernels.maxpool_f32 (identical bits, NaNs and infinities included)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import BOARDS, HOST_AND_ARM, pack
from pool_cases import check_pool, pool_inputs

from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", HOST_AND_ARM + BOARDS)
def test_maxpool_f32(build_kernel, toolchain, rng):
    kernel = build_kernel("test_maxpool_f32", ["maxpool_f32.c"], toolchain)
    cases = [(g, x, {}) for g, x in pool_inputs(rng, np.float32)]
    check_pool(kernel, cases, lambda g, e: pack(g.channels), K.maxpool_f32, np.float32)


def test_twin_nan_order():
    """A NaN first in the window stays; a NaN after a number never replaces it."""
    x = np.array([[[np.nan, 1.0, 2.0, np.nan]]], np.float32)
    y = K.maxpool_f32(x, (1, 2), strides=(1, 2))
    assert np.isnan(y[0, 0, 0]) and y[0, 0, 1] == 2.0
