"""text_project.c against pnetc.kernels.text_project, which must equal hashing.text_bits /
project_text; under both char signednesses, two compilers, the sanitizers and ARM (qemu-arm).
The kernel's acc is scratch for its bit-sliced counters, so the bits are what is compared."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from ckernel_harness import CHAR_VARIANTS, HOST, Reader, pack
from text_cases import RULE_CASES, big_text, random_texts

from pnetc import hashing as H
from pnetc import kernels as K

PNET_ERR_NULL, PNET_ERR_LENGTH, PNET_ERR_ARG = -1, -2, -3


@functools.lru_cache(maxsize=None)
def _expected(text: bytes, seed: int, num_bits: int, char_max_n: int, words: int) -> np.ndarray:
    """The twin's packed bits, cached across toolchains (the 64 KB text is the same for all)."""
    return K.text_project(text, seed, num_bits, char_max_n, words)


def _case(text, seed, num_bits, char_max_n=3, words=1, flags=0, length=None) -> bytes:
    return pack(seed, num_bits, char_max_n, words, flags, len(text) if length is None else length, len(text), text)


def _check(kernel, cases) -> None:
    r = Reader(kernel.run(b"".join(_case(t, s, nb, n, w) for t, s, nb, n, w in cases)))
    for t, s, nb, n, w in cases:
        assert r.i32() == 0
        bits = r.take(np.uint32, K.num_words(nb))
        np.testing.assert_array_equal(bits, _expected(t, s, nb, n, w),
                                      err_msg=f"{t[:60]!r} ({len(t)} bytes) seed {s} bits {nb} n {n} words {w}")
    assert r.done()


def _fallback_edge(num_bits: int, features_per_byte: int) -> int:
    """The longest text whose bit-sliced counters still fit in num_bits int32 of scratch: the kernel
    bounds the count by (len + 2) * features_per_byte and needs bit_length(bound) planes per group."""
    planes = num_bits // K.num_words(num_bits)
    return ((1 << planes) - 1) // features_per_byte - 2


@pytest.mark.parametrize("toolchain", HOST + CHAR_VARIANTS)
def test_text_project(build_kernel, toolchain, rng):
    kernel = build_kernel("test_text_project", ["text_project.c", "text_features.c", "hash.c"], toolchain)
    texts = RULE_CASES + random_texts(rng, count=20)
    bit_sizes = [1, 31, 32, 33, 96, 200, 1440]
    cases = [(t, int(rng.integers(0, 1 << 32)), bit_sizes[i % len(bit_sizes)], 3, 1) for i, t in enumerate(texts)]
    cases += [(t, 7, 64, n, w) for t in RULE_CASES[:12] for n, w in [(0, 1), (5, 0), (1, 1), (0, 0)]]
    big = big_text(np.random.default_rng(64))
    # 64 KB: bit-sliced counters up to plane 19 (128, 1440 bits) and the per-bit fallback (1, 33 bits)
    cases += [(big, 1234, nb, 3, 1) for nb in (1, 33, 128, 1440)]
    _check(kernel, cases)


@pytest.mark.parametrize("toolchain", HOST + ["arm-qemu"])
def test_text_project_counters(build_kernel, toolchain, rng):
    """The bit-sliced counters against the twin where they are most likely to go wrong."""
    kernel = build_kernel("test_text_project", ["text_project.c", "text_features.c", "hash.c"], toolchain)
    cases = []
    # every tail length 0..15 and batch boundary: feature counts sweep 3..~200 one char at a time
    prose = b"the quick brown fox jumps over the lazy dog; " * 2
    cases += [(prose[:k], 11, 96, 3, 1) for k in range(len(prose) + 1)]
    # ties (acc == 0) are common when few features meet: short texts under many seeds
    for t in [b"", b"a", b"ab", b"a b", b"ab cd", b"abc def g", b"x y z w"]:
        cases += [(t, s, 64, 3, 1) for s in range(24)]
    # one id repeated n times among n + 2 features: a counter can reach the total, so the plane
    # count must cover it at totals just below, at and above powers of two (char_max_n 1, no words)
    for n in [13, 14, 15, 16, 29, 30, 31, 32, 61, 62, 63, 64, 125, 126, 127, 128, 254, 255, 256]:
        cases += [(b"a" * n, s, nb, 1, 0) for s in (1, 2, 3) for nb in (32, 64, 1440)]
    # large counts: every feature repeated ~20,000 times; the densest text for char_max_n 5 + words
    cases += [(b"a " * 20000, 5, 1440, 3, 1), (b"ab " * 9000, 6, 200, 5, 1), (b"a a " * 3000, 8, 320, 5, 1)]
    # both sides of the fallback edge: 33 bits keep 16 planes per group, 34 bits 17
    for nb, char_max_n in [(33, 3), (34, 5)]:
        edge = _fallback_edge(nb, char_max_n + 3)
        text = bytes(rng.choice(list(b"abcdefgh  .XYZ"), size=edge + 1).astype(np.uint8))
        cases += [(text[:edge], 3, nb, char_max_n, 1), (text, 3, nb, char_max_n, 1)]
    cases += [(t, int(rng.integers(0, 1 << 32)), int(rng.integers(1, 2000)), int(rng.integers(0, 6)),
               int(rng.integers(0, 2))) for t in random_texts(rng, count=40, max_len=600)]
    _check(kernel, cases)


@pytest.mark.parametrize("toolchain", HOST)
def test_text_project_errors(build_kernel, toolchain):
    kernel = build_kernel("test_text_project", ["text_project.c", "text_features.c", "hash.c"], toolchain)
    cases = [
        (_case(b"", 5, 40, flags=1), 0),  # NULL with len 0: the empty text
        (_case(b"abc", 5, 40, flags=1), PNET_ERR_NULL),
        (_case(b"abc", 5, 40, flags=2), PNET_ERR_NULL),  # NULL acc
        (_case(b"abc", 5, 40, length=1 << 26), PNET_ERR_LENGTH),  # rejected before reading
        (_case(b"abc", 5, 40, length=(1 << 26) - 1 + (1 << 31)), PNET_ERR_LENGTH),
        (_case(b"abc", 5, 40, char_max_n=6), PNET_ERR_ARG),
        (_case(b"abc", 5, 40, words=3), PNET_ERR_ARG),
    ]
    data = b"".join(c for c, _ in cases) + _case(b"abc", 5, 0) + _case(b"abc", 5, -4)
    r = Reader(kernel.run(data))
    for i, (_, rc_expected) in enumerate(cases):
        assert r.i32() == rc_expected
        bits = r.take(np.uint32, 2)
        if rc_expected == 0:
            np.testing.assert_array_equal(bits, K.text_project(b"", 5, 40))
        else:
            assert not bits.any(), "bits must be cleared on error"
    assert r.i32() == PNET_ERR_LENGTH  # num_bits = 0
    assert r.i32() == PNET_ERR_LENGTH  # num_bits < 0
    assert r.done()


def test_twin_equals_spec(rng):
    """kernels.text_project (the C algorithm) == hashing.text_bits/project_text (the spec)."""
    for i, t in enumerate(RULE_CASES + random_texts(rng, count=10) + [big_text(rng, 4096)]):
        for n, w in [(3, 1), (0, 1), (4, 0)]:
            spec = H.TextFeatureSpec(char_max_n=n, words=bool(w))
            nb = [1, 33, 64, 100][i % 4]
            np.testing.assert_array_equal(K.text_project_acc(t, i, nb, n, w), H.project_text(t, i, nb, spec))
            np.testing.assert_array_equal(H.unpack_bits(K.text_project(t, i, nb, n, w), nb),
                                          H.text_bits(t, i, nb, spec))
