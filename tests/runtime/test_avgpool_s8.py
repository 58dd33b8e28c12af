"""avgpool_s8.c against pnetc.kernels.avgpool_s8 (mean rounded half away from zero, as TFLite)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import BOARDS, HOST_AND_ARM, pack
from pool_cases import check_pool, clamps, pool_inputs

from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", HOST_AND_ARM + BOARDS)
def test_avgpool_s8(build_kernel, toolchain, rng):
    kernel = build_kernel("test_avgpool_s8", ["avgpool_s8.c"], toolchain)
    cases = [(g, x, dict(clamps(rng), count_include_pad=bool(i % 2)))
             for i, (g, x) in enumerate(pool_inputs(rng, np.int8))]
    check_pool(kernel, cases,
               lambda g, e: pack(g.channels, int(e["count_include_pad"]), e["act_min"], e["act_max"]),
               K.avgpool_s8, np.int8)


@pytest.mark.parametrize("values, want", [([1, 0], 1), ([-1, 0], -1), ([3, 0], 2), ([-3, 0], -2),
                                          ([1, 1, 0], 1), ([-1, -1, 0], -1), ([1, 0, 0], 0), ([127, 127], 127),
                                          ([-128, -127], -128), ([-128, 127], -1)])
def test_twin_rounds_half_away_from_zero(values, want):
    x = np.array(values, np.int8).reshape(1, 1, -1)
    assert K.avgpool_s8(x, (1, len(values)))[0, 0, 0] == want


def test_twin_count_include_pad():
    """count_include_pad divides by the padded window: a corner of ones gives 4/9 -> 0 (vs 1)."""
    x = np.ones((1, 2, 2), np.int8) * 9
    args = dict(kernel=(3, 3), pads=(1, 1, 1, 1))
    assert K.avgpool_s8(x, **args).tolist() == [[[9, 9], [9, 9]]]
    assert K.avgpool_s8(x, count_include_pad=True, **args).tolist() == [[[4, 4], [4, 4]]]
