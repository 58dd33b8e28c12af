"""text_features.c (the streaming featurizer) against pnetc.kernels.text_features / hashing.text_features,
under both char signednesses, two compilers and ARM (qemu-arm)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from ckernel_harness import CHAR_VARIANTS, HOST, Reader, pack
from text_cases import RULE_CASES, big_text, random_texts

from pnetc import hashing as H
from pnetc import kernels as K

PNET_ERR_NULL, PNET_ERR_LENGTH, PNET_ERR_ARG = -1, -2, -3
SETTINGS = [(3, 1), (0, 1), (1, 0), (5, 1), (2, 0), (0, 0)]


def _case(text: bytes, char_max_n: int, words: int, flags: int = 0, length: int | None = None) -> bytes:
    return pack(char_max_n, words, flags, len(text) if length is None else length, len(text), text)


@functools.lru_cache(maxsize=None)
def _expected(text: bytes, char_max_n: int, words: int) -> tuple[int, ...]:
    """The twin's ids, cached across toolchains (the 64 KB text is the same for all)."""
    return tuple(K.text_features(text, char_max_n, words).tolist())


def _read(r: Reader):
    rc = r.i32()
    count = int(r.take(np.uint32, 1)[0])
    return rc, r.take(np.uint32, count)


@pytest.mark.parametrize("toolchain", HOST + CHAR_VARIANTS)
def test_text_features(build_kernel, toolchain, rng):
    kernel = build_kernel("test_text_features", ["text_features.c", "hash.c"], toolchain)
    texts = RULE_CASES + random_texts(rng) + [big_text(np.random.default_rng(64))]
    cases = [(t, n, w) for t in texts for n, w in SETTINGS[:2]]
    cases += [(t, n, w) for t in RULE_CASES for n, w in SETTINGS[2:]]
    r = Reader(kernel.run(b"".join(_case(t, n, w) for t, n, w in cases)))
    for t, n, w in cases:
        rc, ids = _read(r)
        assert rc == 0
        assert tuple(ids.tolist()) == _expected(t, n, w), f"text={t[:60]!r} char_max_n={n} words={w}"
    assert r.done()


@pytest.mark.parametrize("toolchain", HOST)
def test_text_features_errors(build_kernel, toolchain):
    kernel = build_kernel("test_text_features", ["text_features.c", "hash.c"], toolchain)
    data = b"".join([
        _case(b"", 3, 1, flags=1),  # NULL with len 0 is the empty text
        _case(b"abc", 3, 1, flags=1),  # NULL with len > 0
        _case(b"abc", 3, 1, length=1 << 26),  # too long: rejected before reading
        _case(b"abc", 3, 1, length=0xFFFFFFFF),
        _case(b"abc", 6, 1),
        _case(b"abc", -1, 1),
        _case(b"abc", 3, 2),
    ])
    r = Reader(kernel.run(data))
    rc, ids = _read(r)
    assert rc == 0 and ids.tolist() == K.text_features(b"").tolist() and len(ids) == 1
    for expected in [PNET_ERR_NULL, PNET_ERR_LENGTH, PNET_ERR_LENGTH, PNET_ERR_ARG, PNET_ERR_ARG, PNET_ERR_ARG]:
        rc, ids = _read(r)
        assert (rc, len(ids)) == (expected, 0)
    assert r.done()


def test_twin_is_the_spec():
    for t in RULE_CASES:
        for n, w in SETTINGS:
            spec = H.TextFeatureSpec(char_max_n=n, words=bool(w))
            assert K.text_features(t, n, w).tolist() == list(H.text_features(t, spec))


@pytest.mark.parametrize("toolchain", ["gcc-sanitize", "arm-qemu"])
def test_text_features_fuzz(build_kernel, toolchain, rng):
    """Many short random byte strings (uniform bytes and rule-triggering pieces), all settings."""
    kernel = build_kernel("test_text_features", ["text_features.c", "hash.c"], toolchain)
    texts = random_texts(rng, count=600, max_len=40)
    cases = [(t, *SETTINGS[i % len(SETTINGS)]) for i, t in enumerate(texts)]
    r = Reader(kernel.run(b"".join(_case(t, n, w) for t, n, w in cases)))
    for t, n, w in cases:
        rc, ids = _read(r)
        assert rc == 0 and ids.tolist() == K.text_features(t, n, w).tolist(), repr(t)
    assert r.done()
