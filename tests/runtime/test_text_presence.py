"""text_presence.c (one-shot and streaming) against pnetc.kernels.text_presence, which must equal
hashing.presence_bits (the spec); under both char signednesses, two compilers, the sanitizers,
ARM (qemu-arm) and a Cortex-M0 board (no 32x32->64 multiply: the exact 16-bit-halves scaling)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from ckernel_harness import CHAR_VARIANTS, HOST, Reader, pack
from text_cases import (BEGIN, FEED, FINISH, RULE_CASES, big_text, check_misuse, chunked_ops, misuse_scripts,
                        random_texts)
from text_cases import stream_op as _op

from pnetc import hashing as H
from pnetc import kernels as K

PNET_ERR_NULL, PNET_ERR_LENGTH, PNET_ERR_ARG = -1, -2, -3
ONE_SHOT, STREAM = 0, 1
SOURCES = ["text_presence.c", "text_features.c", "hash.c"]
ALL_BYTES = bytes(range(256)) + bytes(range(255, -1, -1))


@functools.lru_cache(maxsize=None)
def _expected(text: bytes, seed: int, num_bits: int, hashes: int, char_max_n: int, words: int) -> np.ndarray:
    return K.text_presence(text, seed, num_bits, hashes, char_max_n, words)


def _one_shot(text, seed, num_bits, hashes, char_max_n=3, words=1, flags=0, length=None) -> bytes:
    return pack(ONE_SHOT, seed, num_bits, hashes, char_max_n, words, flags, len(text) if length is None else length,
                len(text), text)


def _stream(seed, num_bits, hashes, char_max_n, words, ops) -> bytes:
    return pack(STREAM, seed, num_bits, hashes, char_max_n, words, len(ops)) + b"".join(ops)


def _cases(rng) -> list[tuple]:
    """Texts x settings: every rule case, random bytes, all 256 byte values, 1 byte, a long text;
    bit counts that are and are not multiples of 32 (the multiply-shift needs no power of two),
    1..8 hashes, every featurizer setting."""
    texts = RULE_CASES + random_texts(rng, count=24, max_len=300) + [ALL_BYTES, b"\xff", b"Q"]
    bit_sizes = [1, 2, 31, 32, 33, 100, 1000, 4096, 12345, 65536]
    settings = [(3, 1), (0, 1), (5, 0), (1, 1), (4, 1), (2, 0)]
    cases = []
    for i, t in enumerate(texts):
        n, w = settings[i % len(settings)]
        cases.append((t, int(rng.integers(0, 1 << 32)), bit_sizes[i % len(bit_sizes)], 1 + i % 8, n, w))
    big = big_text(np.random.default_rng(64))
    cases += [(big, 1234, nb, m, 3, 1) for nb, m in [(1, 1), (4096, 2), (65536, 8), (16000, 3)]]
    return cases


def _check_one_shot(kernel, cases) -> None:
    r = Reader(kernel.run(b"".join(_one_shot(*c) for c in cases)))
    for t, s, nb, m, n, w in cases:
        assert r.i32() == 0
        np.testing.assert_array_equal(r.take(np.uint32, K.num_words(nb)), _expected(t, s, nb, m, n, w),
                                      err_msg=f"{t[:60]!r} ({len(t)} bytes) seed {s} bits {nb} hashes {m}")
    assert r.done()


@pytest.mark.parametrize("toolchain", HOST + CHAR_VARIANTS)
def test_text_presence(build_kernel, toolchain, rng):
    _check_one_shot(build_kernel("test_text_presence", SOURCES, toolchain), _cases(rng))


@pytest.mark.parametrize("toolchain", ["board:microbit"])
def test_text_presence_cortex_m0(build_kernel, toolchain, rng):
    """ARMv6-M: only 32x32->32 multiplies, so the exact scaling from 16-bit halves is what runs.
    16 KB of RAM: the cases go a few at a time, with at most 4096 bits."""
    kernel = build_kernel("test_text_presence", SOURCES, toolchain)
    cases = [c for c in _cases(rng) if len(c[0]) < 1024 and c[2] <= 4096]
    for start in range(0, len(cases), 8):
        _check_one_shot(kernel, cases[start:start + 8])


@pytest.mark.parametrize("toolchain", HOST + ["gcc-signed-char", "arm-qemu"])
def test_stream_equals_one_shot(build_kernel, toolchain, rng):
    kernel = build_kernel("test_text_presence", SOURCES, toolchain)
    cases = [(t, s, nb, m, n, w, size) for t, s, nb, m, n, w in _cases(rng)[::2] for size in (1, 2, 3, 7, 64)]
    big = big_text(np.random.default_rng(7), 8192)
    cases += [(big, 9, 1024, 2, 3, 1, size) for size in (1, 7, 1000, len(big))]
    r = Reader(kernel.run(b"".join(_stream(s, nb, m, n, w, chunked_ops(t, size)) for t, s, nb, m, n, w, size in cases)))
    for t, s, nb, m, n, w, size in cases:
        chunks = -(-len(t) // size)
        for _ in range(1 + chunks + 1):  # begin, the chunks and one empty feed
            assert r.i32() == 0
        assert r.i32() == 0  # finish
        np.testing.assert_array_equal(r.take(np.uint32, K.num_words(nb)), _expected(t, s, nb, m, n, w),
                                      err_msg=f"{t[:60]!r} chunk {size} bits {nb} hashes {m}")
    assert r.done()


@pytest.mark.parametrize("toolchain", HOST)
def test_text_presence_errors(build_kernel, toolchain):
    kernel = build_kernel("test_text_presence", SOURCES, toolchain)
    cases = [
        (_one_shot(b"", 5, 40, 2, flags=1), 0),  # NULL with len 0: the empty text
        (_one_shot(b"abc", 5, 40, 2, flags=1), PNET_ERR_NULL),
        (_one_shot(b"abc", 5, 40, 2, length=1 << 26), PNET_ERR_LENGTH),  # rejected before reading
        (_one_shot(b"abc", 5, 40, 2, char_max_n=6), PNET_ERR_ARG),
        (_one_shot(b"abc", 5, 40, 2, words=3), PNET_ERR_ARG),
        (_one_shot(b"abc", 5, 40, 0), PNET_ERR_ARG),  # hashes outside 1..8
        (_one_shot(b"abc", 5, 40, 9), PNET_ERR_ARG),
        (_one_shot(b"abc", 5, 40, -1), PNET_ERR_ARG),
    ]
    data = b"".join(c for c, _ in cases)
    data += b"".join(_one_shot(b"abc", 5, nb, 2) for nb in (0, -4, 65537, 1 << 30))  # num_bits out of range
    scripts = misuse_scripts()
    data += b"".join(_stream(5, 40, 2, 3, 1, ops) for ops, _ in scripts)
    bad_begins = [(40, 0, 3, 1, PNET_ERR_ARG), (40, 9, 3, 1, PNET_ERR_ARG), (40, 2, 6, 1, PNET_ERR_ARG),
                  (0, 2, 3, 1, PNET_ERR_LENGTH), (65537, 2, 3, 1, PNET_ERR_LENGTH)]
    data += b"".join(_stream(5, nb, m, n, w, [_op(BEGIN), _op(FEED, b"a"), _op(FINISH)])
                     for nb, m, n, w, _ in bad_begins)
    r = Reader(kernel.run(data))
    for _, rc_expected in cases:
        assert r.i32() == rc_expected
        bits = r.take(np.uint32, 2)
        if rc_expected == 0:
            np.testing.assert_array_equal(bits, K.text_presence(b"", 5, 40, 2))
        else:
            assert not bits.any(), "bits must be cleared on error"
    assert [r.i32() for _ in range(4)] == [PNET_ERR_LENGTH] * 4
    check_misuse(r, scripts, lambda text: K.text_presence(text, 5, 40, 2))
    for *_, rc in bad_begins:
        assert [r.i32() for _ in range(3)] == [rc] * 3
    assert r.done()


def test_twin_equals_spec(rng):
    """kernels.text_presence == hashing.presence_bits (the spec) == a per-feature loop of the rule."""
    for i, t in enumerate(RULE_CASES + random_texts(rng, count=10) + [ALL_BYTES]):
        n, w = [(3, 1), (0, 1), (4, 0)][i % 3]
        spec = H.TextFeatureSpec(char_max_n=n, words=bool(w))
        nb, m = [1, 33, 64, 1000, 65536][i % 5], 1 + i % 8
        bits = H.presence_bits(t, i, nb, m, spec)
        np.testing.assert_array_equal(H.unpack_bits(K.text_presence(t, i, nb, m, n, w), nb), bits)
        want = np.zeros(nb, dtype=np.uint8)
        for f in H.text_features(t, spec):
            for j in range(m):
                want[(H.hash32_int(i, j, f) * nb) >> 32] = 1
        np.testing.assert_array_equal(bits, want)


def test_scaling_is_exact_at_the_extremes():
    """(h * B) >> 32 at h = 0, 2^32 - 1 and B = 1, 2^16: the top position is B - 1, never B."""
    ids = np.array([0, 1, 0xFFFFFFFF], dtype=np.uint32)
    for nb in (1, 3, 65535, 65536):
        pos = H.presence_positions(7, nb, 8, ids)
        assert pos.min() >= 0 and pos.max() < nb
