"""The spec in pnetc/hashing.py: golden vectors, statistical properties, featurizer invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pnetc import hashing as H

# Golden vectors; docs/format.md repeats them and the C kernel tests check the same ones.
HASH32_GOLDEN = [
    (0, 0, 0, 0x00000000),
    (1, 2, 3, 0xB3DD8F94),
    (0xDEADBEEF, 7, 0xFFFFFFFF, 0x08D00201),
    (42, 719, 24, 0xEF8EC650),
]
FNV1A_GOLDEN = [(b"", 0x811C9DC5), (b"a", 0xE40C292C), (b"\xff", 0x7A0B824E)]

u32 = st.integers(min_value=0, max_value=0xFFFFFFFF)


@pytest.mark.parametrize("seed,a,b,expected", HASH32_GOLDEN)
def test_hash32_golden(seed, a, b, expected):
    assert int(H.hash32(seed, a, b)) == expected
    assert H.hash32_int(seed, a, b) == expected


@pytest.mark.parametrize("data,expected", FNV1A_GOLDEN)
def test_fnv1a_golden(data, expected):
    assert H.fnv1a(data) == expected


@given(u32, u32, u32)
def test_numpy_and_python_hash_agree(seed, a, b):
    assert int(H.hash32(seed, a, b)) == H.hash32_int(seed, a, b)


def test_fmix32_is_a_bijection_on_a_sample():
    x = np.arange(1 << 20, dtype=np.uint32) * np.uint32(4099)
    assert len(np.unique(H.fmix32(x))) == len(x)


def test_hash32_bits_are_balanced():
    h = H.hash32(7, np.arange(4096, dtype=np.uint32)[:, None], np.arange(16, dtype=np.uint32)[None, :])
    ones = ((h[..., None] >> np.arange(32, dtype=np.uint32)) & 1).mean(axis=(0, 1))
    n = h.size
    sigma = math.sqrt(0.25 / n)
    assert np.all(np.abs(ones - 0.5) < 6 * sigma), ones


# --- projections -------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=u32, rng_seed=st.integers(0, 2**31), cos=st.floats(-0.95, 0.95), n=st.integers(128, 512))
def test_binary_collision_rate_tracks_angle(seed, rng_seed, cos, n):
    """For dense inputs, P[bit_k(x) != bit_k(y)] = theta/pi (Charikar's SimHash)."""
    rng = np.random.default_rng(rng_seed)
    x = rng.standard_normal(n)
    z = rng.standard_normal(n)
    y = cos * x + math.sqrt(1 - cos * cos) * z
    xq = np.round(x * 60).astype(np.int64)
    yq = np.round(y * 60).astype(np.int64)
    theta = math.acos(float(xq @ yq) / math.sqrt(float(xq @ xq) * float(yq @ yq)))
    spec = H.ProjectionSpec(seed=seed, num_bits=2048, kind="binary", input_size=n)
    s = H.projection_matrix(spec)
    bx = H.sign_bits(H.project_dense(xq[None], spec, s))[0]
    by = H.sign_bits(H.project_dense(yq[None], spec, s))[0]
    rate = float(np.mean(bx != by))
    p = theta / math.pi
    sigma = math.sqrt(max(p * (1 - p), 1e-3) / spec.num_bits)
    # 5 sigma plus a small allowance for the finite-N Rademacher (not Gaussian) entries.
    assert abs(rate - p) < 5 * sigma + 0.02, (rate, p)


@settings(max_examples=20, deadline=None)
@given(seed=u32, n=st.integers(200, 2000), density=st.sampled_from([0.01, 0.03, 0.1, 0.3]))
def test_ternary_entry_frequencies_match_density(seed, n, density):
    nnz = H.nnz_for_density(density, n)
    num_bits = 256
    index, sign = H.ternary_entries(seed, num_bits, n, nnz)
    assert index.shape == (num_bits, nnz) and index.min() >= 0 and index.max() < n
    draws = num_bits * nnz
    # Signs are fair coins.
    assert abs(float((sign == 1).mean()) - 0.5) < 5 * math.sqrt(0.25 / draws)
    # Nonzero fraction of the matrix tracks rho (positions drawn with replacement).
    s = H.ternary_signs(seed, num_bits, n, nnz)
    frac = float((s != 0).mean())
    # A position hit c times is zero iff its c signs cancel: P = C(c, c/2) / 2^c for even c.
    p_hit = 1 / n
    p_zero = sum(
        math.comb(nnz, c) * p_hit**c * (1 - p_hit) ** (nnz - c) * math.comb(c, c // 2) / 2**c
        for c in range(0, nnz + 1, 2)
    )
    expected = 1 - p_zero
    sigma = math.sqrt(expected * (1 - expected) / (num_bits * n))
    assert abs(frac - expected) < 6 * sigma, (frac, expected)
    assert abs(expected - density) < 0.2 * density  # ~rho while nnz << N
    assert abs(nnz / n - density) <= 0.5 / n + 1e-12


def test_ternary_positions_are_uniform():
    n, num_bits, nnz = 97, 512, 40
    index, _ = H.ternary_entries(123, num_bits, n, nnz)
    counts = np.bincount(index.ravel(), minlength=n)
    expected = num_bits * nnz / n
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    # chi-square with 96 dof: mean 96, sd ~13.9; 96 + 6 sd.
    assert chi2 < 96 + 6 * math.sqrt(2 * 96), chi2


def test_binary_entries_are_fair():
    s = H.binary_signs(99, 512, 300)
    assert set(np.unique(s)) == {-1, 1}
    assert abs(float((s == 1).mean()) - 0.5) < 5 * math.sqrt(0.25 / s.size)


def test_tie_gives_zero():
    assert H.sign_bits(np.array([-3, 0, 5])).tolist() == [0, 0, 1]
    spec = H.ProjectionSpec(seed=5, num_bits=40, kind="binary", input_size=16)
    assert H.dense_bits(np.zeros((1, 16), np.uint8), np.zeros(16, np.int16), spec).sum() == 0


def test_projection_rejects_floats():
    spec = H.ProjectionSpec(seed=5, num_bits=8, kind="binary", input_size=4)
    with pytest.raises(TypeError):
        H.project_dense(np.ones((1, 4), np.float32), spec)


@pytest.mark.parametrize(
    "kwargs",
    [dict(kind="dense"), dict(num_bits=0), dict(seed=-1), dict(kind="ternary", nnz=0), dict(input_size=1 << 17)],
)
def test_projection_spec_validation(kwargs):
    base = dict(seed=1, num_bits=8, kind="binary", input_size=4)
    base.update(kwargs)
    with pytest.raises(ValueError):
        H.ProjectionSpec(**base)


@given(st.lists(st.integers(0, 1), min_size=1, max_size=300))
def test_pack_unpack_roundtrip(bits):
    b = np.array(bits, dtype=np.uint8)
    words = H.pack_bits(b)
    assert words.dtype == np.uint32 and len(words) == (len(b) + 31) // 32
    assert H.unpack_bits(words, len(b)).tolist() == bits
    # LSB first: bit k is bit (k & 31) of word k >> 5; padding is zero.
    for k, v in enumerate(bits):
        assert (int(words[k >> 5]) >> (k & 31)) & 1 == v
    assert int(words[-1]) >> (len(b) - 32 * (len(words) - 1)) == 0 or len(b) % 32 == 0


# --- text featurizer ---------------------------------------------------------


@given(st.binary(max_size=300))
def test_normalize_invariants(data):
    out = bytes(H.normalize(data))
    assert out[:1] == b" " and out[-1:] == b" "
    assert b"  " not in out
    assert not any(0x41 <= c <= 0x5A for c in out)
    assert all(c == 0x20 or c >= 0x80 or 0x61 <= c <= 0x7A for c in out)
    assert bytes(H.normalize(out)) == out  # idempotent


@pytest.mark.parametrize(
    "raw,normal",
    [
        (b"", b" "),
        (b"Hello,  World!", b" hello world "),
        ("ÉCOLE".encode(), " école ".encode()),
        ("ПРИВЕТ Ёж".encode(), " привет ёж ".encode()),
        ("«oui» — “no”…".encode(), b" oui no "),
        (b"a\x00b\xffc", b" a b\xffc "),
        ("×".encode(), " × ".encode()),  # U+00D7 is not a letter: it stays
    ],
)
def test_normalize_examples(raw, normal):
    assert bytes(H.normalize(raw)) == normal


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_text_features_deterministic_on_any_bytes(data):
    a = list(H.text_features(data))
    assert a == list(H.text_features(data))
    assert all(0 <= f <= 0xFFFFFFFF for f in a)


def test_text_feature_counts():
    # " ab cd " -> 7 chars; char 1/2/3-grams: 7 + 6 + 5; words: 2 unigrams + 1 bigram.
    feats = list(H.text_features(b"ab cd"))
    assert len(feats) == 7 + 6 + 5 + 3
    assert len(list(H.text_features(b"ab cd", H.TextFeatureSpec(char_max_n=0, words=True)))) == 3
    assert len(list(H.text_features(b"ab cd", H.TextFeatureSpec(char_max_n=2, words=False)))) == 13


def test_text_features_reference_values():
    """Hand-derived from docs/format.md section 4 for the one-char text 'a'."""
    sp, a = H.fnv1a(b" "), H.fnv1a(b"a")
    g2 = [H.hash32_int(H.TAG_CHAR, 0, sp), H.hash32_int(H.TAG_CHAR, sp, a), H.hash32_int(H.TAG_CHAR, a, sp)]
    g3_2 = H.hash32_int(H.TAG_CHAR, g2[0], a)
    g3_3 = H.hash32_int(H.TAG_CHAR, g2[1], sp)
    w = H.fnv1a(b"a")
    expected = [sp, a, g2[1], sp, g2[2], g3_3, H.hash32_int(H.TAG_WORD, w, 0)]
    assert list(H.text_features(b"A")) == expected
    assert g3_2 != g3_3


def test_text_projection_is_linear_in_counts():
    data = b"the cat and the hat"
    counts = H.text_feature_counts(data)
    ids = np.array(list(counts.keys()), dtype=np.uint32)
    w = np.array(list(counts.values()))
    acc = H.project_text(data, 11, 100)
    assert np.array_equal(acc, w @ H.text_signs(11, 100, ids).astype(np.int64))
    assert H.text_bits(b"", 11, 100).shape == (100,)


def test_text_rejects_str():
    with pytest.raises(TypeError):
        list(H.text_features("not bytes"))  # type: ignore[arg-type]
