"""project_binary_table.c against pnetc.kernels; a table and its hash mode give the same bits."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack
from projection_cases import dense_cases

from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS + ["arm-qemu"])
def test_project_binary_table(build_kernel, toolchain, rng):
    kernel = build_kernel("test_project_binary_table", ["project_binary_table.c"], toolchain)
    cases = [(K.binary_table(seed, nb, len(x)), x, nb) for seed, x, nb in dense_cases(rng)]
    # an arbitrary table (not from the hash) with random padding bits, which must be ignored
    x = rng.integers(-255, 256, size=45).astype(np.int16)
    table = rng.integers(0, 1 << 32, size=(50, 2), dtype=np.uint64).astype(np.uint32)
    cases.append((table, x, 50))
    r = Reader(kernel.run(b"".join(pack(len(x), nb, t, x) for t, x, nb in cases)))
    for t, x, nb in cases:
        got = r.take(np.uint32, K.num_words(nb))
        np.testing.assert_array_equal(got, K.project_binary_table(x, t, nb))
    assert r.done()
    for seed, x, nb in dense_cases(rng):
        np.testing.assert_array_equal(K.project_binary_table(x, K.binary_table(seed, nb, len(x)), nb),
                                      K.project_binary(x, seed, nb))
