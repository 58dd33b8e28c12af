"""sigmoid_f32.c against pnetc.kernels.sigmoid_f32 (1e-5 relative)."""

from __future__ import annotations

import pytest
from ckernel_harness import HOST_AND_ARM
from unary_f32_cases import check_unary_f32


@pytest.mark.parametrize("toolchain", HOST_AND_ARM)
def test_sigmoid_f32(build_kernel, toolchain, rng):
    check_unary_f32(build_kernel, toolchain, rng, "sigmoid_f32")
