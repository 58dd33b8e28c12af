"""Bridge from a `pnetc.datasets.Dataset` to what training needs: exact projection bits and
trainer inputs.

Dense inputs: the integer centre `mean` (int16, rounded training mean of q) and the bits
come from `models.DenseProjection` (exact integer sums). Text: the featurizer of
`pnetc.hashing` runs once per corpus, vectorised (`textfeatures`, cached in memory); the projection is then one sparse
count-matrix product per block of distinct feature ids, so hashing cost is per distinct id,
not per occurrence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from pnetc import hashing
from pnetc.hashing import ProjectionSpec, TextFeatureSpec, TextProjectionSpec
from pnetc.training import textfeatures

# Trainer (LSTM) input: the first MAX_TEXT_BYTES raw bytes of each text, as ids 1..256 (0 pads).
MAX_TEXT_BYTES = 128


def integer_mean(x_train: np.ndarray) -> np.ndarray:
    """The per-feature centre: the training mean of q rounded half up, as int16."""
    m = np.asarray(x_train, dtype=np.float64).mean(axis=0)
    return np.floor(m + 0.5).astype(np.int16)


def projection_spec(num_bits: int, kind: str, seed: int, input_size: int, density: float | None) -> ProjectionSpec:
    nnz = hashing.nnz_for_density(density, input_size) if kind == "ternary" else 0
    return ProjectionSpec(seed=seed, num_bits=num_bits, kind=kind, input_size=input_size, nnz=nnz)


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------


@dataclass
class TextCorpusFeatures:
    """Counts of hashed features for a list of texts, as a sparse [n_texts, n_ids] matrix."""

    ids: np.ndarray  # uint32 [F] distinct feature ids (sorted)
    rows: np.ndarray  # int64 [nnz] text index
    cols: np.ndarray  # int64 [nnz] index into ids
    counts: np.ndarray  # int64 [nnz]
    n_texts: int


_FEATURE_CACHE: dict[tuple, TextCorpusFeatures] = {}


def _corpus_key(texts: list[bytes], spec: TextFeatureSpec) -> tuple:
    h = hashlib.sha256()
    for t in texts:
        h.update(len(t).to_bytes(8, "little"))
        h.update(t)
    return (h.hexdigest(), spec.char_max_n, spec.words)


def featurize_corpus(texts: list[bytes], spec: TextFeatureSpec) -> TextCorpusFeatures:
    """Featurize every text once (vectorised, equal to the reference; cached by corpus content)."""
    key = _corpus_key(texts, spec)
    cached = _FEATURE_CACHE.get(key)
    if cached is not None:
        return cached
    text_index, feature_ids = textfeatures.corpus_features([bytes(t) for t in texts], spec)
    if len(feature_ids):
        uniq, inverse = np.unique(feature_ids, return_inverse=True)
        # Occurrences -> one (text, id) entry with its count.
        pair = text_index * len(uniq) + inverse
        pairs, counts = np.unique(pair, return_counts=True)
        rows, cols = pairs // len(uniq), pairs % len(uniq)
        result = TextCorpusFeatures(uniq, rows, cols, counts.astype(np.int64), len(texts))
    else:
        empty = np.zeros(0, dtype=np.int64)
        result = TextCorpusFeatures(np.zeros(0, dtype=np.uint32), empty, empty, empty, len(texts))
    _FEATURE_CACHE[key] = result
    return result


def text_accumulators(feats: TextCorpusFeatures, seed: int, num_bits: int, block: int = 8192) -> np.ndarray:
    """acc[n, k] = sum_f count(f) * s_k(f), exact int64, for every text of the corpus.

    Float64 sums of integers below 2^53 are exact, so the sparse product is exact.
    """
    import scipy.sparse as sp

    acc = np.zeros((feats.n_texts, num_bits), dtype=np.float64)
    if len(feats.ids) == 0:
        return acc.astype(np.int64)
    matrix = sp.csc_matrix(
        (feats.counts.astype(np.float64), (feats.rows, feats.cols)), shape=(feats.n_texts, len(feats.ids))
    )
    for start in range(0, len(feats.ids), block):
        stop = min(start + block, len(feats.ids))
        signs = hashing.text_signs(seed, num_bits, feats.ids[start:stop]).astype(np.float64)
        acc += matrix[:, start:stop] @ signs
    return acc.astype(np.int64)


def text_projection_bits(texts: list[bytes], seed: int, num_bits: int, spec: TextFeatureSpec,
                         projection: TextProjectionSpec = TextProjectionSpec()) -> np.ndarray:
    """{0,1} bits [n, num_bits] uint8 for every text, equal to hashing.text_bits per text."""
    feats = featurize_corpus(texts, spec)
    if projection.kind == "presence":
        return presence_bits(feats, seed, num_bits, projection.hashes)
    return hashing.sign_bits(text_accumulators(feats, seed, num_bits))


def presence_bits(feats: TextCorpusFeatures, seed: int, num_bits: int, hashes: int) -> np.ndarray:
    """bits[n, k] = 1 iff a feature of text n hashes to k (hashing.presence_bits for every text)."""
    bits = np.zeros((feats.n_texts, num_bits), dtype=np.uint8)
    positions = hashing.presence_positions(seed, num_bits, hashes, feats.ids)  # [F, m]
    bits[np.repeat(feats.rows, hashes), positions[feats.cols].ravel()] = 1
    return bits


def encode_bytes(texts: list[bytes], max_len: int = MAX_TEXT_BYTES) -> tuple[torch.Tensor, torch.Tensor]:
    """Byte ids for the LSTM trainer: [n, L] int64 (byte + 1, 0 = padding) and lengths [n] (>= 1)."""
    n = len(texts)
    out = np.zeros((n, max_len), dtype=np.int64)
    lengths = np.ones(n, dtype=np.int64)
    for i, t in enumerate(texts):
        b = np.frombuffer(bytes(t)[:max_len], dtype=np.uint8)
        out[i, : len(b)] = b.astype(np.int64) + 1
        lengths[i] = max(1, len(b))
    return torch.from_numpy(out), torch.from_numpy(lengths)
