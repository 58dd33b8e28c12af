"""project_ternary_table.c against pnetc.kernels; a table and its hash mode give the same bits."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import SIMD_VARIANTS, Reader, pack
from projection_cases import dense_cases

from pnetc import kernels as K
from pnetc.errors import PnetcError


@pytest.mark.parametrize("toolchain", SIMD_VARIANTS + ["arm-qemu"])
def test_project_ternary_table(build_kernel, toolchain, rng):
    kernel = build_kernel("test_project_ternary_table", ["project_ternary_table.c"], toolchain)
    cases = []
    for i, (seed, x, nb) in enumerate(dense_cases(rng)):
        nnz = [1, 2, 5, 17][i % 4]
        cases.append((K.ternary_table(seed, nb, len(x), nnz), x, nb, nnz, seed))
    x = rng.integers(-255, 256, size=32768).astype(np.int16)  # the largest table-mode input
    cases.append((K.ternary_table(11, 48, len(x), 181), x, 48, 181, 11))
    r = Reader(kernel.run(b"".join(pack(len(x), nb, nnz, t, x) for t, x, nb, nnz, _ in cases)))
    for t, x, nb, nnz, seed in cases:
        got = r.take(np.uint32, K.num_words(nb))
        np.testing.assert_array_equal(got, K.project_ternary_table(x, t, nb, nnz))
        np.testing.assert_array_equal(got, K.project_ternary(x, seed, nb, nnz))
    assert r.done()


def test_table_too_large_for_16_bit_entries():
    with pytest.raises(PnetcError, match="hash projection mode"):
        K.ternary_table(1, 8, 32769, 4)
