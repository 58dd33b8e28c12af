"""The streaming text projection (pnet_text_stream_*) against the one-shot twin: the same bits
for the same text cut into chunks of any size, under both char signednesses, the sanitizers
(every chunk is freed right after its feed) and ARM (qemu-arm); and its errors."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import CHAR_VARIANTS, HOST, Reader, pack
from text_cases import (BEGIN, FEED, FINISH, RULE_CASES, big_text, check_misuse, chunked_ops, misuse_scripts,
                        random_texts)
from text_cases import stream_op as _op

from pnetc import kernels as K

PNET_ERR_LENGTH, PNET_ERR_ARG = -2, -3
SOURCES = ["text_project.c", "text_features.c", "hash.c"]
CHUNK_SIZES = (1, 2, 3, 7, 64)


def _case(seed: int, num_bits: int, char_max_n: int, words: int, ops: list[bytes]) -> bytes:
    return pack(seed, num_bits, char_max_n, words, len(ops)) + b"".join(ops)


@pytest.mark.parametrize("toolchain", HOST + CHAR_VARIANTS)
def test_stream_equals_one_shot(build_kernel, toolchain, rng):
    kernel = build_kernel("test_text_stream", SOURCES, toolchain)
    texts = RULE_CASES + random_texts(rng, count=30, max_len=300)
    settings = [(3, 1), (0, 1), (5, 0), (1, 1), (4, 1)]
    cases = []
    for i, t in enumerate(texts):
        n, w = settings[i % len(settings)]
        nb = [1, 33, 64, 200, 1024][i % 5]
        cases += [(t, i, nb, n, w, size) for size in CHUNK_SIZES]
    big = big_text(np.random.default_rng(7), 8192)
    cases += [(big, 9, 1024, 3, 1, size) for size in (1, 7, 1000, len(big))]
    data = b"".join(_case(s, nb, n, w, chunked_ops(t, size)) for t, s, nb, n, w, size in cases)
    r = Reader(kernel.run(data))
    for t, s, nb, n, w, size in cases:
        chunks = -(-len(t) // size)
        for _ in range(1 + chunks + (1 if chunks == 0 else 1)):  # begin, feeds (one empty), then finish
            assert r.i32() == 0
        assert r.i32() == 0
        np.testing.assert_array_equal(r.take(np.uint32, K.num_words(nb)), K.text_project(t, s, nb, n, w),
                                      err_msg=f"{t[:60]!r} ({len(t)} bytes) chunk {size} bits {nb} n {n} words {w}")
    assert r.done()


@pytest.mark.parametrize("toolchain", HOST)
def test_stream_errors(build_kernel, toolchain):
    kernel = build_kernel("test_text_stream", SOURCES, toolchain)
    scripts = misuse_scripts()
    data = b"".join(_case(5, 40, 3, 1, ops) for ops, _ in scripts)
    data += _case(5, 40, 6, 1, [_op(BEGIN), _op(FEED, b"a"), _op(FINISH)])  # char_max_n out of range
    data += _case(5, 0, 3, 1, [_op(BEGIN), _op(FEED, b"a"), _op(FINISH)])  # num_bits < 1
    r = Reader(kernel.run(data))
    check_misuse(r, scripts, lambda text: K.text_project(text, 5, 40))
    assert [r.i32() for _ in range(3)] == [PNET_ERR_ARG] * 3
    assert [r.i32() for _ in range(3)] == [PNET_ERR_LENGTH] * 3
    assert r.done()
