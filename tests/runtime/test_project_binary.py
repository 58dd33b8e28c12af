"""project_binary.c against pnetc.kernels.project_binary, which must equal hashing.dense_bits."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack
from projection_cases import dense_cases

from pnetc import hashing as H
from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS + ["arm-qemu"])
def test_project_binary(build_kernel, toolchain, rng):
    kernel = build_kernel("test_project_binary", ["project_binary.c", "hash.c"], toolchain)
    cases = dense_cases(rng)
    r = Reader(kernel.run(b"".join(pack(seed, len(x), nb, x) for seed, x, nb in cases)))
    for seed, x, nb in cases:
        got = r.take(np.uint32, K.num_words(nb))
        np.testing.assert_array_equal(got, K.project_binary(x, seed, nb), err_msg=f"n={len(x)} bits={nb}")
    assert r.done()


def test_twin_equals_spec(rng):
    """kernels.project_binary (the C algorithm) == hashing.dense_bits (the spec), batched."""
    for n, nb in [(1, 5), (33, 70), (784, 256)]:
        q = rng.integers(0, 256, size=(6, n), dtype=np.uint8)
        mean = rng.integers(0, 256, size=n).astype(np.int16)
        spec = H.ProjectionSpec(seed=int(rng.integers(0, 1 << 32)), num_bits=nb, kind="binary", input_size=n)
        words = K.project_binary(K.center_u8(q, mean), spec.seed, nb)
        np.testing.assert_array_equal(H.unpack_bits(words, nb), H.dense_bits(q, mean, spec))
    q = np.full((1, 40), 100, np.uint8)
    spec = H.ProjectionSpec(seed=3, num_bits=9, kind="binary", input_size=40)
    assert not K.project_binary(K.center_u8(q, q[0].astype(np.int16)), 3, 9).any()  # all ties -> 0
