"""The streaming text projection (pnet_text_stream_*) against the one-shot twin: the same bits
for the same text cut into chunks of any size, under both char signednesses, the sanitizers
(every chunk is freed right after its feed) and ARM (qemu-arm); and its errors."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import CHAR_VARIANTS, HOST, Reader, pack
from text_cases import RULE_CASES, big_text, random_texts

from pnetc import kernels as K

PNET_ERR_NULL, PNET_ERR_LENGTH, PNET_ERR_ARG = -1, -2, -3
FEED, FINISH, BEGIN = 0, 1, 2
SOURCES = ["text_project.c", "text_features.c", "hash.c"]
CHUNK_SIZES = (1, 2, 3, 7, 64)


def _op(kind: int, chunk: bytes = b"", *, null: bool = False, length: int | None = None) -> bytes:
    return pack(kind, int(null), len(chunk) if length is None else length, len(chunk), chunk)


def _case(seed: int, num_bits: int, char_max_n: int, words: int, ops: list[bytes]) -> bytes:
    return pack(seed, num_bits, char_max_n, words, len(ops)) + b"".join(ops)


def _chunked(text: bytes, size: int) -> list[bytes]:
    """BEGIN, the text in chunks of `size` bytes (an empty chunk in between), FINISH."""
    chunks = [text[i:i + size] for i in range(0, len(text), size)]
    ops = [_op(BEGIN)] + [_op(FEED, c) for c in chunks[:1]] + [_op(FEED, b"")] + [_op(FEED, c) for c in chunks[1:]]
    return ops + [_op(FINISH)]


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
    data = b"".join(_case(s, nb, n, w, _chunked(t, size)) for t, s, nb, n, w, size in cases)
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
    scripts = [
        # never begun (zeroed state): feed and finish refuse
        ([_op(FEED, b"abc"), _op(FINISH)], [PNET_ERR_ARG, PNET_ERR_ARG]),
        # finished: a further feed or finish refuses until the next begin, which starts afresh
        ([_op(BEGIN), _op(FEED, b"abc"), _op(FINISH), _op(FEED, b"x"), _op(FINISH),
          _op(BEGIN), _op(FEED, b"abc"), _op(FEED, b"def"), _op(FINISH)],
         [0, 0, 0, PNET_ERR_ARG, PNET_ERR_ARG, 0, 0, 0, 0]),
        # NULL chunk: allowed when empty; with bytes an error that sticks
        ([_op(BEGIN), _op(FEED, null=True), _op(FEED, b"x", null=True), _op(FEED, b"abc"), _op(FINISH)],
         [0, 0, PNET_ERR_NULL, PNET_ERR_NULL, PNET_ERR_NULL]),
        # 2^26 bytes in total is too long: refused before reading, and the error sticks
        ([_op(BEGIN), _op(FEED, b"abc"), _op(FEED, b"d", length=(1 << 26) - 3), _op(FINISH)],
         [0, 0, PNET_ERR_LENGTH, PNET_ERR_LENGTH]),
    ]
    data = b"".join(_case(5, 40, 3, 1, ops) for ops, _ in scripts)
    data += _case(5, 40, 6, 1, [_op(BEGIN), _op(FEED, b"a"), _op(FINISH)])  # char_max_n out of range
    data += _case(5, 0, 3, 1, [_op(BEGIN), _op(FEED, b"a"), _op(FINISH)])  # num_bits < 1
    r = Reader(kernel.run(data))
    for ops, rcs in scripts:
        text = b""
        for op, rc in zip(ops, rcs):
            assert r.i32() == rc
            kind, chunk = int.from_bytes(op[:4], "little"), op[16:]
            text = b"" if kind == BEGIN else text + chunk
            if kind == FINISH and rc == 0:  # the bits of the text fed since the last begin
                np.testing.assert_array_equal(r.take(np.uint32, 2), K.text_project(text, 5, 40))
    assert [r.i32() for _ in range(3)] == [PNET_ERR_ARG] * 3
    assert [r.i32() for _ in range(3)] == [PNET_ERR_LENGTH] * 3
    assert r.done()
