"""text_project.c against pnetc.kernels.text_project(_acc), which must equal hashing.text_bits /
project_text; under both char signednesses, two compilers and ARM (qemu-arm)."""

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
def _expected(text: bytes, seed: int, num_bits: int, char_max_n: int, words: int):
    """The twin's (acc, bits), cached across toolchains (the 64 KB text is the same for all)."""
    return (K.text_project_acc(text, seed, num_bits, char_max_n, words),
            K.text_project(text, seed, num_bits, char_max_n, words))


def _case(text, seed, num_bits, char_max_n=3, words=1, flags=0, length=None) -> bytes:
    return pack(seed, num_bits, char_max_n, words, flags, len(text) if length is None else length, len(text), text)


@pytest.mark.parametrize("toolchain", HOST + CHAR_VARIANTS)
def test_text_project(build_kernel, toolchain, rng):
    kernel = build_kernel("test_text_project", ["text_project.c", "text_features.c", "hash.c"], toolchain)
    texts = RULE_CASES + random_texts(rng, count=20)
    bit_sizes = [1, 31, 32, 33, 96, 200]
    cases = [(t, int(rng.integers(0, 1 << 32)), bit_sizes[i % len(bit_sizes)], 3, 1) for i, t in enumerate(texts)]
    cases += [(t, 7, 64, n, w) for t in RULE_CASES[:12] for n, w in [(0, 1), (5, 0), (1, 1)]]
    cases.append((big_text(np.random.default_rng(64)), 1234, 128, 3, 1))
    cases.append((b"word " * 40, 99, 600, 2, 1))  # more than 16 groups: rows beyond the cache
    r = Reader(kernel.run(b"".join(_case(t, s, nb, n, w) for t, s, nb, n, w in cases)))
    for t, s, nb, n, w in cases:
        assert r.i32() == 0
        acc = r.take(np.int32, nb)
        bits = r.take(np.uint32, K.num_words(nb))
        want_acc, want_bits = _expected(t, s, nb, n, w)
        np.testing.assert_array_equal(acc, want_acc, err_msg=repr(t[:60]))
        np.testing.assert_array_equal(bits, want_bits, err_msg=repr(t[:60]))
    assert r.done()


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
        acc = r.take(np.int32, 40)
        bits = r.take(np.uint32, 2)
        if rc_expected == 0:
            np.testing.assert_array_equal(acc, K.text_project_acc(b"", 5, 40))
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
