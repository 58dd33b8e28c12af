"""project_ternary.c against pnetc.kernels.project_ternary, which must equal hashing.dense_bits."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack
from projection_cases import dense_cases

from pnetc import hashing as H
from pnetc import kernels as K


def _nnz(n, i):
    return [1, 2, 3, max(1, round(n ** 0.5)), 2 * n + 1][i % 5]


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS + ["arm-qemu"])
def test_project_ternary(build_kernel, toolchain, rng):
    kernel = build_kernel("test_project_ternary", ["project_ternary.c", "hash.c"], toolchain)
    cases = [(seed, x, nb, _nnz(len(x), i)) for i, (seed, x, nb) in enumerate(dense_cases(rng))]
    big = rng.integers(-255, 256, size=65536).astype(np.int16)  # the largest legal input
    cases.append((5, big, 64, 256))
    # the Arm DSP path's index arithmetic holds for n < 32768; 32768 takes the general path
    for n in (32767, 32768):
        cases.append((11, rng.integers(-255, 256, size=n).astype(np.int16), 40, 25))
    r = Reader(kernel.run(b"".join(pack(seed, len(x), nb, nnz, x) for seed, x, nb, nnz in cases)))
    for seed, x, nb, nnz in cases:
        got = r.take(np.uint32, K.num_words(nb))
        np.testing.assert_array_equal(got, K.project_ternary(x, seed, nb, nnz), err_msg=f"n={len(x)} nnz={nnz}")
    assert r.done()


def test_twin_equals_spec(rng):
    for n, nb, nnz in [(1, 5, 1), (33, 70, 3), (784, 256, 28), (100, 40, 7)]:
        q = rng.integers(0, 256, size=(5, n), dtype=np.uint8)
        mean = rng.integers(0, 256, size=n).astype(np.int16)
        spec = H.ProjectionSpec(seed=int(rng.integers(0, 1 << 32)), num_bits=nb, kind="ternary",
                                input_size=n, nnz=nnz)
        words = K.project_ternary(K.center_u8(q, mean), spec.seed, nb, nnz)
        np.testing.assert_array_equal(H.unpack_bits(words, nb), H.dense_bits(q, mean, spec))
