"""maxpool_s8.c against pnetc.kernels.maxpool_s8."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import BOARDS, HOST_AND_ARM, pack
from pool_cases import check_pool, clamps, pool_inputs

from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", HOST_AND_ARM + BOARDS)
def test_maxpool_s8(build_kernel, toolchain, rng):
    kernel = build_kernel("test_maxpool_s8", ["maxpool_s8.c"], toolchain)
    cases = [(g, x, clamps(rng)) for g, x in pool_inputs(rng, np.int8)]
    check_pool(kernel, cases, lambda g, e: pack(g.channels, e["act_min"], e["act_max"]), K.maxpool_s8, np.int8)


def test_twin_ignores_padding():
    """All-negative input: padding must not contribute a zero (ONNX MaxPool)."""
    x = np.full((1, 2, 2), -100, np.int8)
    y = K.maxpool_s8(x, (3, 3), pads=(1, 1, 1, 1))
    assert y.tolist() == [[[-100, -100], [-100, -100]]]


def test_window_in_padding_is_refused():
    with pytest.raises(K.PnetcError, match="entirely in the padding"):
        K.maxpool_s8(np.zeros((1, 4, 4), np.int8), (2, 2), strides=(1, 1), pads=(2, 0, 0, 0))
