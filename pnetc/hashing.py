"""THE hash, projection and text-featurizer spec (numpy reference).

Training, the golden interpreter, the C runtime and the tests all follow this file;
docs/format.md states the same rules in prose. Everything is 32-bit unsigned
arithmetic with wrap-around: xor, shifts and 32x32->32 multiplies only, so a
Cortex-M0 computes it cheaply and every platform gets the same bits.

Summary (see docs/format.md for the full text):

* ``fmix32`` is murmur3's finaliser.
* ``hash32(seed, a, b) = fmix32(fmix32(seed ^ a*0x9E3779B1) ^ b*0x85EBCA77)``.
  ``a`` is the "row" (a bit index or a group of 32 bits), so ``fmix32(seed ^ a*G)``
  can be computed once per row.
* Dense binary projection: entry s_k(i) = +1 if bit (i & 31) of hash32(seed, k, i >> 5)
  is set, else -1.
* Sparse ternary projection with nnz nonzeros per bit: nonzero j of bit k comes from
  the 16-bit half (j & 1) of hash32(seed, k, j >> 1): its low bit is the sign (1 -> -1),
  its upper 15 bits u pick the feature ``(u * N) >> 15``.
* Text projection, kind "simhash" (format v1): s_k(f) = +1 if bit (k & 31) of
  hash32(seed, k >> 5, f) is set, else -1.
* Text projection, kind "presence" with m hashes: P_k(f) = 1 iff k is one of the positions
  (hash32(seed, j, f) * B) >> 32, j = 0..m-1, else 0; so bit k = 1 iff a feature that occurred
  hashes to k (a Bloom-style presence set). Never stored, like the others.
* Bit k = 1 iff acc_k > 0 (a tie, acc_k == 0, gives 0). Bits pack LSB-first into
  uint32 words: bit k is bit (k & 31) of word k >> 5.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from pnetc.errors import PnetcError
from pnetc.ir.limits import MAX_TEXT_HASHES, TEXT_PROJECTIONS

MASK32 = 0xFFFFFFFF
GOLDEN_A = 0x9E3779B1  # multiplier for the row argument of hash32
GOLDEN_B = 0x85EBCA77  # multiplier for the column argument of hash32
FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193

# Domain tags for text features (the `seed` argument of hash32).
TAG_CHAR = 0x43484152  # "CHAR": chains char ids into n-gram ids
TAG_WORD = 0x574F5244  # "WORD": word unigrams
TAG_BIGRAM = 0x42494752  # "BIGR": consecutive word pairs
TAG_SKIP = 0x534B4950  # "SKIP": word pairs with one word between

MAX_DENSE_INPUT = 1 << 16  # (u * N) >> 15 must fit in 32 bits
PROJECTION_KINDS = ("binary", "ternary")
# simhash: format v1's dense signs; presence: each feature sets MAX_TEXT_HASHES bits at most
MAX_PRESENCE_BITS = 1 << 16  # (h * B) >> 32 is computed from 16-bit halves in 32 bits: B <= 2^16

_U32 = np.uint32


# ---------------------------------------------------------------------------
# Hash
# ---------------------------------------------------------------------------


def _u32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.uint64).astype(_U32) if not isinstance(x, np.ndarray) else x.astype(_U32)


def fmix32(h) -> np.ndarray:
    """murmur3 fmix32 on uint32 (array or scalar), wrapping."""
    h = np.array(h, dtype=_U32, copy=True)
    with np.errstate(over="ignore"):
        h ^= h >> _U32(16)
        h *= _U32(0x85EBCA6B)
        h ^= h >> _U32(13)
        h *= _U32(0xC2B2AE35)
        h ^= h >> _U32(16)
    return h


def hash_row(seed, a) -> np.ndarray:
    """The per-row half of hash32: fmix32(seed ^ a * GOLDEN_A)."""
    with np.errstate(over="ignore"):
        return fmix32(_u32(seed) ^ (_u32(a) * _U32(GOLDEN_A)))


def hash32(seed, a, b) -> np.ndarray:
    """hash32(seed, a, b) = fmix32(hash_row(seed, a) ^ b * GOLDEN_B); broadcasts like numpy."""
    with np.errstate(over="ignore"):
        return fmix32(hash_row(seed, a) ^ (_u32(b) * _U32(GOLDEN_B)))


def hash32_int(seed: int, a: int, b: int) -> int:
    """Pure-Python hash32 on ints, for scalar code paths (the text featurizer)."""
    return _fmix32_int((_fmix32_int((seed ^ (a * GOLDEN_A)) & MASK32) ^ (b * GOLDEN_B)) & MASK32)


def _fmix32_int(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK32
    h ^= h >> 16
    return h


def fnv1a(data: bytes, h: int = FNV_OFFSET) -> int:
    """32-bit FNV-1a over bytes (each byte as an unsigned value)."""
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & MASK32
    return h


# ---------------------------------------------------------------------------
# Dense projections of quantized inputs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectionSpec:
    """A fixed random projection to `num_bits` = T*d sign bits.

    kind: "binary" (dense +-1) or "ternary" (very sparse, `nnz` nonzeros per bit).
    input_size: N, the number of input features (dense inputs only).
    """

    seed: int
    num_bits: int
    kind: str = "binary"
    input_size: int = 0
    nnz: int = 0

    def __post_init__(self) -> None:
        if self.kind not in PROJECTION_KINDS:
            raise ValueError(f"projection kind must be one of {PROJECTION_KINDS}, got {self.kind!r}")
        if self.num_bits <= 0:
            raise ValueError("num_bits must be positive")
        if not 0 <= self.seed <= MASK32:
            raise ValueError("seed must fit in 32 bits")
        if self.kind == "ternary" and self.nnz <= 0:
            raise ValueError("a ternary projection needs nnz > 0")
        if self.input_size > MAX_DENSE_INPUT:
            raise ValueError(f"input_size must be <= {MAX_DENSE_INPUT}")


def nnz_for_density(density: float, input_size: int) -> int:
    """Nonzeros per projection vector for density rho: max(1, round(rho * N))."""
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density}")
    return max(1, int(np.floor(density * input_size + 0.5)))


def binary_signs(seed: int, num_bits: int, input_size: int) -> np.ndarray:
    """The dense +-1 matrix S[k, i] (int8, shape [num_bits, input_size])."""
    words = (input_size + 31) // 32
    k = np.arange(num_bits, dtype=_U32)[:, None]
    w = np.arange(words, dtype=_U32)[None, :]
    h = hash32(seed, k, w)  # [B, W]
    bits = (h[:, :, None] >> np.arange(32, dtype=_U32)[None, None, :]) & _U32(1)
    bits = bits.reshape(num_bits, words * 32)[:, :input_size]
    return np.where(bits == 1, 1, -1).astype(np.int8)


def ternary_entries(seed: int, num_bits: int, input_size: int, nnz: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and signs of the nonzeros: (index [B, nnz] int32, sign [B, nnz] int8).

    Positions are drawn with replacement, so a feature may appear twice in a row
    (its entries then add up). With nnz ~ sqrt(N) this is rare.
    """
    k = np.arange(num_bits, dtype=_U32)[:, None]
    j = np.arange(nnz, dtype=_U32)[None, :]
    h = hash32(seed, k, j >> _U32(1))
    half = (h >> (_U32(16) * (j & _U32(1)))) & _U32(0xFFFF)
    with np.errstate(over="ignore"):
        index = ((half >> _U32(1)) * _U32(input_size)) >> _U32(15)
    sign = np.where((half & _U32(1)) == 1, -1, 1).astype(np.int8)
    return index.astype(np.int32), sign


def ternary_signs(seed: int, num_bits: int, input_size: int, nnz: int) -> np.ndarray:
    """The sparse projection as a dense int8 matrix S[k, i] (repeated entries summed)."""
    index, sign = ternary_entries(seed, num_bits, input_size, nnz)
    s = np.zeros((num_bits, input_size), dtype=np.int32)
    rows = np.repeat(np.arange(num_bits), nnz)
    np.add.at(s, (rows, index.ravel()), sign.ravel().astype(np.int32))
    return s.astype(np.int8)


def projection_matrix(spec: ProjectionSpec) -> np.ndarray:
    """S[k, i] for a dense-input projection, int8 in {-1, 0, +1} (ternary may sum to +-2...)."""
    if spec.kind == "binary":
        return binary_signs(spec.seed, spec.num_bits, spec.input_size)
    return ternary_signs(spec.seed, spec.num_bits, spec.input_size, spec.nnz)


def project_dense(x_centered: np.ndarray, spec: ProjectionSpec, matrix: np.ndarray | None = None) -> np.ndarray:
    """acc[n, k] = sum_i S[k, i] * x[n, i] in exact int64 (fits int32 on any legal input).

    x_centered: integer array [batch, N] (already quantized and centered).
    """
    x = np.asarray(x_centered)
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError("projection inputs must be integers: quantize before projecting")
    s = projection_matrix(spec) if matrix is None else matrix
    return x.astype(np.int64) @ s.T.astype(np.int64)


def center(x_q: np.ndarray, mean_q: np.ndarray) -> np.ndarray:
    """Center quantized inputs with the model's integer per-feature mean (int16 range)."""
    return np.asarray(x_q, dtype=np.int32) - np.asarray(mean_q, dtype=np.int32)


def sign_bits(acc: np.ndarray) -> np.ndarray:
    """The tie rule: bit = 1 iff acc > 0."""
    return (np.asarray(acc) > 0).astype(np.uint8)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Pack {0,1} bits [..., B] into uint32 words [..., ceil(B/32)], LSB first; padding is 0."""
    bits = np.asarray(bits, dtype=np.uint32)
    b = bits.shape[-1]
    words = (b + 31) // 32
    padded = np.zeros(bits.shape[:-1] + (words * 32,), dtype=np.uint32)
    padded[..., :b] = bits
    padded = padded.reshape(bits.shape[:-1] + (words, 32))
    return np.bitwise_or.reduce(padded << np.arange(32, dtype=np.uint32), axis=-1).astype(np.uint32)


def unpack_bits(words: np.ndarray, num_bits: int) -> np.ndarray:
    """Inverse of pack_bits."""
    words = np.asarray(words, dtype=np.uint32)
    bits = (words[..., :, None] >> np.arange(32, dtype=np.uint32)) & np.uint32(1)
    return bits.reshape(words.shape[:-1] + (-1,))[..., :num_bits].astype(np.uint8)


def dense_bits(x_q: np.ndarray, mean_q: np.ndarray, spec: ProjectionSpec) -> np.ndarray:
    """The whole dense path: quantized input -> centered -> acc -> {0,1} bits [batch, B]."""
    return sign_bits(project_dense(center(x_q, mean_q), spec))


# ---------------------------------------------------------------------------
# Text: byte-level normalisation and hashed features
# ---------------------------------------------------------------------------

SEPARATOR = 0x20


def normalize(data: bytes) -> Iterator[int]:
    """Byte-level normalisation (see docs/format.md, "Text normalisation").

    Yields bytes. Works on any byte string: it never decodes, it only matches
    a few UTF-8 byte patterns, so invalid UTF-8 passes through unchanged.
    Rules, first match wins, at position p:
      1. ASCII A-Z -> a-z.                                     (1 byte)
      2. other ASCII bytes that are not a-z -> separator.      (1 byte)
      3. C3 80..9E except C3 97: Latin-1 capital -> C3 (b+0x20).  (2 bytes)
      4. D0 80..8F -> D1 (b+0x10); D0 90..9F -> D0 (b+0x20);
         D0 A0..AF -> D1 (b-0x20): Cyrillic capitals -> small.  (2 bytes)
      5. C2 80..BF (C1 controls, Latin-1 punctuation) -> separator. (2 bytes)
      6. E2 80 80..BF (U+2000..U+203F: spaces, dashes, quotes) -> separator. (3 bytes)
      7. any other byte -> itself.                             (1 byte)
    Then runs of separators collapse to one and the stream is framed by one
    separator at the start and one at the end.
    """
    n = len(data)
    p = 0
    last = SEPARATOR
    yield SEPARATOR
    while p < n:
        b = data[p]
        nxt = data[p + 1] if p + 1 < n else -1
        out: tuple[int, ...]
        if 0x41 <= b <= 0x5A:
            out, step = (b + 0x20,), 1
        elif b < 0x80 and not (0x61 <= b <= 0x7A):
            out, step = (SEPARATOR,), 1
        elif b == 0xC3 and 0x80 <= nxt <= 0x9E and nxt != 0x97:
            out, step = (0xC3, nxt + 0x20), 2
        elif b == 0xD0 and 0x80 <= nxt <= 0x8F:
            out, step = (0xD1, nxt + 0x10), 2
        elif b == 0xD0 and 0x90 <= nxt <= 0x9F:
            out, step = (0xD0, nxt + 0x20), 2
        elif b == 0xD0 and 0xA0 <= nxt <= 0xAF:
            out, step = (0xD1, nxt - 0x20), 2
        elif b == 0xC2 and 0x80 <= nxt <= 0xBF:
            out, step = (SEPARATOR,), 2
        elif b == 0xE2 and nxt == 0x80 and p + 2 < n and 0x80 <= data[p + 2] <= 0xBF:
            out, step = (SEPARATOR,), 3
        else:
            out, step = (b,), 1
        p += step
        for o in out:
            if o == SEPARATOR and last == SEPARATOR:
                continue
            last = o
            yield o
    if last != SEPARATOR:
        yield SEPARATOR


def _chars(stream: Iterable[int]) -> Iterator[bytes]:
    """Split a byte stream into characters: a new character starts at every byte that
    is not a UTF-8 continuation byte (10xxxxxx). Stray continuation bytes extend the
    current character, so any byte string splits deterministically."""
    current = bytearray()
    for b in stream:
        if (b & 0xC0) != 0x80 and current:
            yield bytes(current)
            current = bytearray()
        current.append(b)
    if current:
        yield bytes(current)


@dataclass(frozen=True)
class TextFeatureSpec:
    """Which hashed features the featurizer emits.

    char_max_n: char n-grams of orders 1..char_max_n (0 disables them).
    words: word unigrams, bigrams and 1-skip-grams on (True) or off.
    """

    char_max_n: int = 3
    words: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.char_max_n <= 5:
            raise ValueError("char_max_n must be in 0..5")


@dataclass(frozen=True)
class TextProjectionSpec:
    """How feature ids become bits: "simhash" (format v1, every feature moves every bit's sign
    count) or "presence" (each feature sets `hashes` bits chosen by hash)."""

    kind: str = "simhash"
    hashes: int = 0  # presence only: positions per feature, 1..MAX_TEXT_HASHES

    def __post_init__(self) -> None:
        if self.kind not in TEXT_PROJECTIONS:
            raise ValueError(f"text projection must be one of {TEXT_PROJECTIONS}, got {self.kind!r}")
        if self.kind == "presence" and not 1 <= self.hashes <= MAX_TEXT_HASHES:
            raise ValueError(f"a presence projection needs 1..{MAX_TEXT_HASHES} hashes, got {self.hashes}")
        if self.kind == "simhash" and self.hashes:
            raise ValueError("a simhash projection takes no hashes")


def text_features(data: bytes, spec: TextFeatureSpec = TextFeatureSpec()) -> Iterator[int]:
    """Yield the feature ids of `data`, one per occurrence (the weight of an id is its count).

    Char ids: c = fnv1a(char bytes). The n-gram id ending at char t is
      g_1(t) = c_t,  g_n(t) = hash32(TAG_CHAR, g_{n-1}(t-1), c_t)
    emitted once at least n chars have been seen.
    Words are the maximal runs of non-separator chars; w = fnv1a(word bytes).
    For word i: unigram hash32(TAG_WORD, w_i, 0), bigram hash32(TAG_BIGRAM, w_{i-1}, w_i)
    when i >= 1, skip-gram hash32(TAG_SKIP, w_{i-2}, w_i) when i >= 2.
    Emission order (it does not change the result, but C and Python share it): for each
    char, its n-grams by increasing n; a word's features when the separator ending it arrives.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("text features are defined on bytes; encode str as UTF-8 first")
    data = bytes(data)
    max_n = spec.char_max_n
    prev = [0] * (max_n + 1)  # prev[n] = g_n(t-1)
    seen = 0
    words = [0, 0]  # w_{i-1}, w_{i-2}
    nwords = 0
    word_hash = FNV_OFFSET
    in_word = False
    for ch in _chars(normalize(data)):
        seen += 1
        if max_n:
            c = fnv1a(ch)
            cur = [0] * (max_n + 1)
            cur[1] = c
            yield c
            for n in range(2, max_n + 1):
                cur[n] = hash32_int(TAG_CHAR, prev[n - 1], c)
                if seen >= n:
                    yield cur[n]
            prev = cur
        if not spec.words:
            continue
        if ch == b" ":
            if in_word:
                w = word_hash
                yield hash32_int(TAG_WORD, w, 0)
                if nwords >= 1:
                    yield hash32_int(TAG_BIGRAM, words[0], w)
                if nwords >= 2:
                    yield hash32_int(TAG_SKIP, words[1], w)
                words = [w, words[0]]
                nwords += 1
                in_word = False
                word_hash = FNV_OFFSET
        else:
            in_word = True
            word_hash = fnv1a(ch, word_hash)


def text_feature_counts(data: bytes, spec: TextFeatureSpec = TextFeatureSpec()) -> Counter:
    """Feature id -> integer weight (occurrence count)."""
    return Counter(text_features(data, spec))


def text_signs(seed: int, num_bits: int, ids: np.ndarray) -> np.ndarray:
    """s_k(f) for the given feature ids: int8 [len(ids), num_bits] in {-1, +1}."""
    ids = np.asarray(ids, dtype=_U32)
    groups = (num_bits + 31) // 32
    h = hash32(seed, np.arange(groups, dtype=_U32)[None, :], ids[:, None])  # [F, G]
    bits = (h[:, :, None] >> np.arange(32, dtype=_U32)) & _U32(1)
    bits = bits.reshape(len(ids), groups * 32)[:, :num_bits]
    return np.where(bits == 1, 1, -1).astype(np.int8)


def project_text(data: bytes, seed: int, num_bits: int, spec: TextFeatureSpec = TextFeatureSpec()) -> np.ndarray:
    """acc[k] = sum_f count(f) * s_k(f), exact int64, for one text."""
    counts = text_feature_counts(data, spec)
    if not counts:
        return np.zeros(num_bits, dtype=np.int64)
    ids = np.fromiter(counts.keys(), dtype=np.uint64, count=len(counts)).astype(_U32)
    weights = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    return weights @ text_signs(seed, num_bits, ids).astype(np.int64)


def text_bits(data: bytes, seed: int, num_bits: int, spec: TextFeatureSpec = TextFeatureSpec(),
              projection: TextProjectionSpec = TextProjectionSpec()) -> np.ndarray:
    """The whole text path: bytes -> {0,1} bits [B]."""
    if projection.kind == "presence":
        return presence_bits(data, seed, num_bits, projection.hashes, spec)
    return sign_bits(project_text(data, seed, num_bits, spec))


def presence_positions(seed: int, num_bits: int, hashes: int, ids: np.ndarray) -> np.ndarray:
    """The bits feature ids set: k_j(f) = (hash32(seed, j, f) * B) >> 32, int64 [len(ids), hashes].

    The multiply-shift maps a uniform 32-bit hash onto 0..B-1 for any B (no modulo, no divide)."""
    if not 1 <= num_bits <= MAX_PRESENCE_BITS:
        raise ValueError(f"a presence projection has 1..{MAX_PRESENCE_BITS} bits, got {num_bits}")
    ids = np.asarray(ids, dtype=_U32)
    h = hash32(seed, np.arange(hashes, dtype=_U32)[None, :], ids[:, None])  # [F, m]
    return ((h.astype(np.uint64) * np.uint64(num_bits)) >> np.uint64(32)).astype(np.int64)


def presence_bits(data: bytes, seed: int, num_bits: int, hashes: int,
                  spec: TextFeatureSpec = TextFeatureSpec()) -> np.ndarray:
    """Presence projection of one text: bit k = 1 iff sum_f count(f) * P_k(f) > 0, {0,1} [B]."""
    bits = np.zeros(num_bits, dtype=np.uint8)
    ids = np.fromiter(set(text_features(data, spec)), dtype=np.uint64).astype(_U32)
    bits[presence_positions(seed, num_bits, hashes, ids).ravel()] = 1
    return bits


# ---- text length ---------------------------------------------------------------------

MAX_TEXT_BYTES = 1 << 16  # one text sample: the reference's featurization costs ~4 KB and ~17 us per byte


def text_too_long(n_bytes: int) -> str:
    """The end of the error for a text of n_bytes > MAX_TEXT_BYTES."""
    return (f"the text is {n_bytes:,} bytes; a text sample may hold at most {MAX_TEXT_BYTES:,} bytes "
            f"(split it, or keep its first {MAX_TEXT_BYTES:,} bytes)")


def check_text_lengths(texts: Sequence[bytes], what: str) -> None:
    """Refuse a text longer than MAX_TEXT_BYTES; `what` names the samples ("FILE: train sample")."""
    for i, t in enumerate(texts):
        if len(t) > MAX_TEXT_BYTES:
            raise PnetcError(f"{what} {i}: {text_too_long(len(t))}")
