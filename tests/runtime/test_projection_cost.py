"""The projection kernels do the promised hash work: binary computes hash_row once per bit and one
fmix32 per 32 inputs; ternary one fmix32 per two nonzeros (both 16-bit halves); text one fmix32 per
feature occurrence and 32 bits, with hash_row once per 32-bit group; text presence one fmix32 per
feature occurrence and hash, whatever the number of bits, with hash_row once per hash."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import Reader, pack

from pnetc import kernels as K


@pytest.mark.parametrize("toolchain", ["gcc"])
def test_hash_counts(build_kernel, toolchain, rng):
    kernel = build_kernel("test_projection_cost",
                          ["project_binary.c", "project_ternary.c", "text_project.c", "text_presence.c",
                           "text_features.c"], toolchain,
                          defines=("PNET_EXTERN_HASH",))  # kernels that inline the hash call hash.c's
    dense = [(1, 1, 1), (31, 5, 1), (32, 33, 2), (33, 64, 3), (784, 256, 28), (1000, 100, 31)]
    texts = [(b"", 40), (b"Hello, wonderful world!", 64), (b"abc def " * 50, 700)]
    data = b""
    for n, nb, nnz in dense:
        x = rng.integers(-255, 256, size=n).astype(np.int16)
        data += pack(0, n, nb, nnz, x) + pack(1, n, nb, nnz, x)
    for t, nb in texts:
        data += pack(2, len(t), nb, 0, t)
    presence = [(t, nb, m) for t, _ in texts for nb, m in [(40, 1), (4096, 2), (65536, 8)]]
    for t, nb, m in presence:
        data += pack(3, len(t), nb, m, t)
    r = Reader(kernel.run(data))
    for n, nb, nnz in dense:
        assert r.take(np.uint32, 3).tolist() == [nb * ((n + 31) // 32), nb, 0]  # binary
        assert r.take(np.uint32, 3).tolist() == [nb * ((nnz + 1) // 2), nb, 0]  # ternary
    for t, nb in texts:
        fmix, rows, hash32 = r.take(np.uint32, 3).tolist()
        features = len(K.text_features(t))
        groups = (nb + 31) // 32
        assert fmix == features * groups
        assert rows == groups
        assert hash32 < 3 * features  # the featurizer's own n-gram and word hashes
    for t, nb, m in presence:
        fmix, rows, hash32 = r.take(np.uint32, 3).tolist()
        features = len(K.text_features(t))
        assert (fmix, rows) == (features * m, m)
        assert hash32 < 3 * features
    assert r.done()
