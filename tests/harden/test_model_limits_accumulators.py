"""The int32 accumulators of the C kernels and their numpy twins stay exact at the model limits
(pnetc/ir/limits.py, whose docstring has the bounds). Each case drives a kernel at the largest
sizes a model may set, with the inputs and weights that make the sum largest, through the C
kernel built with UBSan (a signed overflow aborts the driver) and on the Arm SIMD paths, and
compares with pnetc.kernels, which raises or would differ on an overflow."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from ckernel_harness import Reader, build_kernel, pack  # noqa: E402,F401 (build_kernel is a fixture)

from pnetc import kernels as K  # noqa: E402
from pnetc.ir import limits as L  # noqa: E402

TOOLCHAINS = ["gcc-sanitize", "armv7-dsp-qemu", "aarch64-qemu"]
X_MAX = 255  # |q - mean| for a mean inside the input range


def test_bounds_hold():
    """The arithmetic of the limits docstring."""
    int32_max = 2**31 - 1
    assert L.MAX_BIAS_Q + L.MAX_INT8_DENSE_INPUTS * 255 * 127 < int32_max
    assert L.MAX_BIAS_Q + L.MAX_BITS * 128 < int32_max
    assert 3 * L.MAX_INPUT_SIZE * X_MAX < int32_max  # ternary (nnz <= N) and binary (2 * N * 255)
    assert (L.MAX_INPUT_SIZE - 1) * L.MAX_INPUT_SIZE < 2**32  # the ternary index (u * N) >> 15, u < 2^15


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_dense_s8_at_the_input_limit(build_kernel, toolchain):
    kernel = build_kernel("test_dense_s8", ["dense_s8.c", "requantize.c"], toolchain)
    n = L.MAX_INT8_DENSE_INPUTS
    mult, shift = K.quantize_multiplier(2.0**-25)  # acc ~ 2.1e9 -> about 64: a wrapped acc would be negative
    cases = []
    for sign in (1, -1):
        x = np.full(n, 127 if sign > 0 else -128, np.int8)
        in_offset = 128 if sign > 0 else -127  # x + in_offset = +-255
        w = np.full((2, n), 127, np.int8)
        w[1] = -127
        bias = np.array([sign * L.MAX_BIAS_Q, -sign * L.MAX_BIAS_Q], np.int32)
        cases.append((x, w, bias, in_offset))
    data = b"".join(pack(n, 2, True, io, 0, -128, 127, x, w, b, np.repeat(mult, 2), np.repeat(shift, 2))
                    for x, w, b, io in cases)
    r = Reader(kernel.run(data))
    for x, w, b, io in cases:
        want = K.dense_s8(x, w, b, io, np.repeat(mult, 2), np.repeat(shift, 2), 0)  # raises on an int32 overflow
        np.testing.assert_array_equal(r.take(np.int8, 2), want)
        assert abs(int(want[0])) == 64  # (2^30 + 32768 * 255 * 127) * 2^-25 = 63.6
    assert r.done()


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_bitsum_at_the_bits_limit(build_kernel, toolchain):
    kernel = build_kernel("test_bitsum_s32", ["bitsum_s32.c"], toolchain)
    nb = L.MAX_BITS
    bits = K.pack_bits(np.ones(nb, np.uint8))
    w = np.full((nb, 2), 127, np.int8)
    w[:, 1] = -128
    bias = np.array([L.MAX_BIAS_Q, -L.MAX_BIAS_Q], np.int32)
    r = Reader(kernel.run(pack(nb, 2, True, bits, w, bias)))
    got = r.take(np.int32, 2)
    assert got.tolist() == [L.MAX_BIAS_Q + nb * 127, -L.MAX_BIAS_Q - nb * 128]
    np.testing.assert_array_equal(got, K.bitsum_s32(bits, nb, w, bias))


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_projections_at_the_work_limit(build_kernel, toolchain):
    """The largest N with nnz = N, and the largest B * N, with all inputs at +-255."""
    ternary = build_kernel("test_project_ternary", ["project_ternary.c", "hash.c"], toolchain)
    binary = build_kernel("test_project_binary", ["project_binary.c", "hash.c"], toolchain)
    n = L.MAX_INPUT_SIZE
    nb = L.MAX_PROJECTION_WORK // n
    dsp_n = 32767  # the Arm DSP path of project_ternary takes n < 32768
    t_cases = [(5, np.full(n, X_MAX, np.int16), nb, n), (6, np.full(n, -X_MAX, np.int16), nb, n),
               (7, np.full(dsp_n, X_MAX, np.int16), L.MAX_PROJECTION_WORK // dsp_n, dsp_n)]
    r = Reader(ternary.run(b"".join(pack(seed, len(x), b, nnz, x) for seed, x, b, nnz in t_cases)))
    for seed, x, b, nnz in t_cases:
        np.testing.assert_array_equal(r.take(np.uint32, K.num_words(b)), K.project_ternary(x, seed, b, nnz))
    assert r.done()
    b_cases = [(5, np.full(n, X_MAX, np.int16), nb), (6, np.full(n, -X_MAX, np.int16), nb)]
    r = Reader(binary.run(b"".join(pack(seed, len(x), b, x) for seed, x, b in b_cases)))
    for seed, x, b in b_cases:
        np.testing.assert_array_equal(r.take(np.uint32, K.num_words(b)), K.project_binary(x, seed, b))
    assert r.done()
