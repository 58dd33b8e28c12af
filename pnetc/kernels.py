"""Numpy twins of the C runtime kernels in runtime/src/ (one function per C kernel).

Each function has the C name without the ``pnet_`` prefix and gives the same result:
integer kernels bit for bit, float kernels to float32 rounding (same accumulation order
where practical). The golden interpreter calls these, and tests/runtime/ checks every
C kernel against them on random and edge inputs.

Conventions (as in runtime/include/pnet/pnet.h):

* Packed bits are uint32 words, LSB first: bit k is bit (k & 31) of word k >> 5;
  padding bits are 0. ``pack_bits`` / ``unpack_bits`` convert.
* Batched where natural: a leading batch axis is optional for inputs that the C kernel
  takes one sample at a time (x[..., n] -> y[..., out]).
* Matrices are laid out like the C arguments: dense weights ``w[out, in]``, bit-layer
  weights ``w[num_bits, out]`` (a row per bit), xnor weights ``wbits[out, words]``.
* Convolution and pooling are NCHW as ONNX: x ``[..., C, H, W]``, conv weights
  ``w[out_c, in_c, k_h, k_w]``; ``window`` builds the geometry (``Window``, the C ``pnet_window``).

The hash and the projection/featurizer rules come from ``pnetc.hashing`` (the spec);
nothing here re-derives them differently.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

from pnetc import hashing
from pnetc.errors import PnetcError
from pnetc.hashing import fmix32, fnv1a, hash32, hash_row, pack_bits, unpack_bits  # noqa: F401 (re-exported)

_U32 = np.uint32
INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
TEXT_MAX_LEN = 1 << 26
TEXT_MAX_CHAR_N = 5
TERNARY_TABLE_MAX_INPUT = 1 << 15  # a table entry stores index << 1 in 16 bits
# Projection matrices are expanded a block of rows at a time, each block at most this many
# elements, so memory stays bounded for any model within pnetc.ir.limits (same sums, same bits).
BLOCK_ELEMENTS = 1 << 20


def _blocks(rows: int, row_elements: int):
    """Slices of [0, rows) whose blocks hold at most BLOCK_ELEMENTS elements (at least one row)."""
    step = max(1, BLOCK_ELEMENTS // max(1, row_elements))
    return (slice(lo, min(lo + step, rows)) for lo in range(0, rows, step))


def num_words(num_bits: int) -> int:
    """uint32 words holding num_bits packed bits (PNET_WORDS)."""
    return (int(num_bits) + 31) // 32


def _pack_acc(acc: np.ndarray) -> np.ndarray:
    """acc [..., B] -> packed sign bits (bit = acc > 0)."""
    return pack_bits(hashing.sign_bits(acc))


# ---------------------------------------------------------------------------
# center.c
# ---------------------------------------------------------------------------


def center_u8(q: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """x = q - mean as int16 (q uint8 [..., n], mean int16 [n])."""
    return (np.asarray(q, dtype=np.uint8).astype(np.int32) - np.asarray(mean, dtype=np.int16)).astype(np.int16)


def center_s8(q: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """x = q - mean as int16 (q int8 [..., n], mean int16 [n])."""
    return (np.asarray(q, dtype=np.int8).astype(np.int32) - np.asarray(mean, dtype=np.int16)).astype(np.int16)


# ---------------------------------------------------------------------------
# projections
# ---------------------------------------------------------------------------


def quantize_f32(x: np.ndarray, scale, zero_point: int) -> np.ndarray:
    """Float activations [..., n] -> int8 levels by pnetc's one rounding (pnetc.quantization), as C;
    scale: float32 [1] (the C's one-entry table)."""
    from pnetc.quantization import quantize

    s = np.asarray(scale, np.float32).reshape(-1)[0]
    return quantize(x, s, int(zero_point), -128, 127).astype(np.int8)


def binary_table(seed: int, num_bits: int, n: int) -> np.ndarray:
    """The packed sign table of a binary projection: uint32 [num_bits, ceil(n/32)],
    word w of row k = hash32(seed, k, w) with the bits past n cleared (bit set = +1)."""
    words = num_words(n)
    h = hash32(seed, np.arange(num_bits, dtype=_U32)[:, None], np.arange(words, dtype=_U32)[None, :])
    rem = n % 32
    if rem:
        h[:, -1] &= _U32((1 << rem) - 1)
    return h.astype(_U32)


def ternary_table(seed: int, num_bits: int, n: int, nnz: int) -> np.ndarray:
    """The flash table of a ternary projection: uint16 [num_bits, nnz], entry = index << 1 | (sign < 0)."""
    if n > TERNARY_TABLE_MAX_INPUT:
        raise PnetcError(
            f"a ternary projection table supports inputs of at most {TERNARY_TABLE_MAX_INPUT} features, "
            f"got {n}: use the hash projection mode instead"
        )
    index, sign = hashing.ternary_entries(seed, num_bits, n, nnz)
    return ((index.astype(np.uint32) << 1) | (sign < 0).astype(np.uint32)).astype(np.uint16)


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer a @ b, exact, as int64. Uses float64 BLAS when every partial sum is an integer
    below 2^53 (then any summation order is exact), else numpy's int64 matmul."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.size == 0 or b.size == 0:
        return a @ b
    bound = float(np.abs(a).max()) * float(np.abs(b).max()) * a.shape[-1]
    if bound < 2.0**52:
        return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return a @ b


def _binary_acc_from_words(x: np.ndarray, sign_words: np.ndarray) -> np.ndarray:
    """acc_k = 2 * sum(x[i] where s_k(i) = +1) - sum(x), as the C kernels compute it."""
    x = np.asarray(x, dtype=np.int16).astype(np.int64)
    n = x.shape[-1]
    total = x.sum(axis=-1, keepdims=True)
    acc = np.empty(x.shape[:-1] + (sign_words.shape[0],), dtype=np.int32)
    for rows in _blocks(sign_words.shape[0], n):
        plus = unpack_bits(sign_words[rows], n)  # [rows, n] 1 where s = +1
        acc[..., rows] = 2 * _exact_matmul(x, plus.T) - total
    return acc


def project_binary_acc(x: np.ndarray, seed: int, num_bits: int) -> np.ndarray:
    """acc [..., num_bits] int32 of the dense +-1 hashed projection of centered int16 x [..., n]."""
    x = np.asarray(x, dtype=np.int16)
    return _binary_acc_from_words(x, binary_table(seed, num_bits, x.shape[-1]))


def project_binary(x: np.ndarray, seed: int, num_bits: int) -> np.ndarray:
    """Dense +-1 hashed projection of centered int16 x [..., n] -> packed bits uint32 [..., W]."""
    return _pack_acc(project_binary_acc(x, seed, num_bits))


def project_binary_table(x: np.ndarray, sign_words: np.ndarray, num_bits: int) -> np.ndarray:
    """project_binary with the signs read from a table uint32 [num_bits, ceil(n/32)]."""
    x = np.asarray(x, dtype=np.int16)
    words = np.asarray(sign_words, dtype=_U32).reshape(num_bits, num_words(x.shape[-1]))
    return _pack_acc(_binary_acc_from_words(x, words))


def _ternary_acc(x: np.ndarray, index: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """acc_k = sum_j sign_kj * x[index_kj], via the dense matrix of summed entries (repeats add up)."""
    x = np.asarray(x, dtype=np.int16)
    index, negative = np.asarray(index), np.asarray(negative)
    num_bits, nnz = index.shape
    acc = np.empty(x.shape[:-1] + (num_bits,), dtype=np.int32)
    for rows in _blocks(num_bits, max(nnz, x.shape[-1])):
        s = np.zeros((rows.stop - rows.start, x.shape[-1]), dtype=np.int64)
        block = np.repeat(np.arange(rows.stop - rows.start), nnz)
        np.add.at(s, (block, index[rows].ravel()), np.where(negative[rows].ravel(), -1, 1))
        acc[..., rows] = _exact_matmul(x, s.T)
    return acc


def project_ternary_acc(x: np.ndarray, seed: int, num_bits: int, nnz: int) -> np.ndarray:
    """acc [..., num_bits] int32 of the sparse hashed projection (nnz nonzeros per bit) of int16 x [..., n]."""
    x = np.asarray(x, dtype=np.int16)
    index, sign = hashing.ternary_entries(seed, num_bits, x.shape[-1], nnz)
    return _ternary_acc(x, index, sign < 0)


def project_ternary(x: np.ndarray, seed: int, num_bits: int, nnz: int) -> np.ndarray:
    """Sparse hashed projection (nnz nonzeros per bit) of int16 x [..., n] -> packed bits [..., W]."""
    return _pack_acc(project_ternary_acc(x, seed, num_bits, nnz))


def project_ternary_table(x: np.ndarray, entries: np.ndarray, num_bits: int, nnz: int) -> np.ndarray:
    """project_ternary with the nonzeros read from a table uint16 [num_bits, nnz]."""
    e = np.asarray(entries, dtype=np.uint16).reshape(num_bits, nnz).astype(np.int64)
    return _pack_acc(_ternary_acc(x, e >> 1, (e & 1) == 1))


# ---------------------------------------------------------------------------
# text_features.c / text_project.c / text_presence.c
# ---------------------------------------------------------------------------


def _check_text(text: bytes, char_max_n: int, words: int) -> bytes:
    if not isinstance(text, (bytes, bytearray, memoryview)):
        raise PnetcError("text input must be bytes (encode str as UTF-8 first)")
    text = bytes(text)
    if len(text) >= TEXT_MAX_LEN:
        raise PnetcError(f"text is {len(text)} bytes; texts must be shorter than 2^26 bytes")
    if not 0 <= char_max_n <= TEXT_MAX_CHAR_N:
        raise PnetcError(f"char_max_n must be in 0..{TEXT_MAX_CHAR_N}, got {char_max_n}")
    if words not in (0, 1, False, True):
        raise PnetcError(f"words must be 0 or 1, got {words}")
    return text


def text_features(text: bytes, char_max_n: int = 3, words: int = 1) -> np.ndarray:
    """Feature ids of one text, one per occurrence, in emission order (uint32 [F])."""
    text = _check_text(text, char_max_n, words)
    spec = hashing.TextFeatureSpec(char_max_n=char_max_n, words=bool(words))
    return np.fromiter(hashing.text_features(text, spec), dtype=np.uint64).astype(_U32)


def text_project_acc(text: bytes, seed: int, num_bits: int, char_max_n: int = 3, words: int = 1) -> np.ndarray:
    """acc [num_bits] int32 behind pnet_text_project's bits: 2 * (#occurrences with s = +1) - #occurrences."""
    if num_bits < 1:
        raise PnetcError("num_bits must be at least 1")
    ids = text_features(text, char_max_n, words)
    if ids.size == 0:
        return np.zeros(num_bits, dtype=np.int32)
    groups = num_words(num_bits)
    plus = np.zeros(num_bits, dtype=np.int64)
    for feats in _blocks(ids.size, 32 * groups):
        h = hash32(seed, np.arange(groups, dtype=_U32)[None, :], ids[feats, None])  # [F, G]
        plus += unpack_bits(h, num_bits).sum(axis=0, dtype=np.int64)  # [B]
    return (2 * plus - ids.size).astype(np.int32)


def text_project(text: bytes, seed: int, num_bits: int, char_max_n: int = 3, words: int = 1) -> np.ndarray:
    """Text -> packed projection bits uint32 [W] (pnet_text_project)."""
    return _pack_acc(text_project_acc(text, seed, num_bits, char_max_n, words))


def text_presence(text: bytes, seed: int, num_bits: int, hashes: int, char_max_n: int = 3,
                  words: int = 1) -> np.ndarray:
    """Text -> packed presence bits uint32 [W] (pnet_text_presence): feature f sets bits
    (hash32(seed, j, f) * num_bits) >> 32, j < hashes."""
    if not 1 <= num_bits <= hashing.MAX_PRESENCE_BITS:
        raise PnetcError(f"num_bits must be in 1..{hashing.MAX_PRESENCE_BITS}, got {num_bits}")
    if not 1 <= hashes <= hashing.MAX_TEXT_HASHES:
        raise PnetcError(f"hashes must be in 1..{hashing.MAX_TEXT_HASHES}, got {hashes}")
    ids = np.unique(text_features(text, char_max_n, words))
    bits = np.zeros(num_bits, dtype=np.uint8)
    bits[hashing.presence_positions(seed, num_bits, hashes, ids).ravel()] = 1
    return pack_bits(bits)


# ---------------------------------------------------------------------------
# first layer over bits
# ---------------------------------------------------------------------------


def popcount32(v) -> np.ndarray:
    """Population count of uint32 values (SWAR, as the C kernel)."""
    v = np.array(v, dtype=_U32, copy=True)
    v = v - ((v >> _U32(1)) & _U32(0x55555555))
    v = (v & _U32(0x33333333)) + ((v >> _U32(2)) & _U32(0x33333333))
    v = (v + (v >> _U32(4))) & _U32(0x0F0F0F0F)
    v = v + (v >> _U32(8))
    v = v + (v >> _U32(16))
    return v & _U32(0x3F)


def bitsum_s32(bits: np.ndarray, num_bits: int, w: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """acc[..., j] = bias[j] + sum of w[k, j] over set bits k. bits packed [..., W], w int8 [num_bits, out]."""
    b = unpack_bits(bits, num_bits)
    w = np.asarray(w, dtype=np.int8).reshape(num_bits, -1)
    acc = _exact_matmul(b, w)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int32).astype(np.int64)
    return acc.astype(np.int32)


def bitsum_f32(bits: np.ndarray, num_bits: int, w: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """y[..., j] = bias[j] + w[k, j] summed over set bits k in increasing k, in float32 (as C)."""
    b = unpack_bits(bits, num_bits).astype(bool)
    w = np.asarray(w, dtype=np.float32).reshape(num_bits, -1)
    y = np.zeros(b.shape[:-1] + (w.shape[1],), dtype=np.float32)
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # IEEE inf/NaN, as the C gives them
        for k in range(num_bits):  # same order as the C loop; adding nothing leaves y unchanged
            sel = b[..., k]
            if sel.any():
                y[sel] = y[sel] + w[k]
    return y


def xnor_popcount(bits: np.ndarray, num_bits: int, wbits: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """acc[..., j] = bias[j] + 2 * (#k with b_k == w_jk) - num_bits. bits [..., W], wbits uint32 [out, W]."""
    b = unpack_bits(bits, num_bits).astype(np.int64)
    w = unpack_bits(np.asarray(wbits, dtype=_U32), num_bits).astype(np.int64)  # [out, B]
    same = _exact_matmul(b, w.T) + _exact_matmul(1 - b, (1 - w).T)
    acc = 2 * same - num_bits
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int32).astype(np.int64)
    return acc.astype(np.int32)


# ---------------------------------------------------------------------------
# int8 (TFLite / CMSIS-NN)
# ---------------------------------------------------------------------------


def quantize_multiplier(real_multiplier) -> tuple[np.ndarray, np.ndarray]:
    """TFLite QuantizeMultiplier: real = mult * 2^(shift - 31), mult int32 in [2^30, 2^31) (0 for 0).

    Vectorised over an array of non-negative reals; returns (mult int32, shift int32).
    """
    r = np.atleast_1d(np.asarray(real_multiplier, dtype=np.float64))
    if np.any(r < 0) or not np.all(np.isfinite(r)):
        raise PnetcError("requantization multipliers must be finite and non-negative")
    mant, exp = np.frexp(r)  # r = mant * 2^exp, mant in [0.5, 1)
    # std::round (half away from zero); mant * 2^31 + 0.5 is exact in float64 for mant >= 0
    q = np.floor(mant * float(1 << 31) + 0.5).astype(np.int64)
    exp = np.where(q == (1 << 31), exp + 1, exp)
    q = np.where(q == (1 << 31), 1 << 30, q)
    q = np.where(r == 0, 0, q)
    exp = np.where(r == 0, 0, exp)
    if np.any(exp < -31):  # too small to represent: flush to zero, as TFLite does
        q = np.where(exp < -31, 0, q)
        exp = np.where(exp < -31, 0, exp)
    if np.any(exp > 30):
        raise PnetcError("a requantization multiplier is too large (>= 2^30); check the calibration ranges")
    return q.astype(np.int32), exp.astype(np.int32)


def _srdhm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul on int64 arrays holding int32 values."""
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    t = ab + nudge
    q = np.sign(t) * (np.abs(t) >> 31)  # C integer division truncates toward zero
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, q)


def _rounding_divide_by_pot(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT: x / 2^e rounded half away from zero (int64 arrays, e in 0..31)."""
    mask = (np.int64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


def requantize(v, mult, shift) -> np.ndarray:
    """TFLite MultiplyByQuantizedMultiplier(v, mult, shift), broadcasting; int32 result.

    The left shift wraps modulo 2^32 as in the C kernel (CMSIS-NN on ARM)."""
    v = np.asarray(v, dtype=np.int64)
    mult = np.asarray(mult, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = ((v << left) & 0xFFFFFFFF).astype(np.uint32).astype(np.int32).astype(np.int64)
    return _rounding_divide_by_pot(_srdhm(shifted, mult), right).astype(np.int32)


def requantize_s8(acc, mult, shift, out_offset: int, act_min: int = -128, act_max: int = 127) -> np.ndarray:
    """clamp(requantize(acc, mult, shift) + out_offset, act_min, act_max) as int8 (per-channel on the last axis)."""
    r = requantize(acc, mult, shift).astype(np.int64) + int(out_offset)
    return np.clip(r, act_min, act_max).astype(np.int8)


def dense_s8(x, w, bias, in_offset: int, mult, shift, out_offset: int, act_min: int = -128,
             act_max: int = 127) -> np.ndarray:
    """int8 fully connected: x int8 [..., in], w int8 [out, in], bias int32 [out] or None -> int8 [..., out]."""
    x = np.asarray(x, dtype=np.int8).astype(np.int64) + int(in_offset)
    acc = _exact_matmul(x, np.asarray(w, dtype=np.int8).T)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int32).astype(np.int64)
    if np.any(acc > INT32_MAX) or np.any(acc < INT32_MIN):
        raise PnetcError("int8 dense layer accumulator overflows int32; the layer is too wide")
    return requantize_s8(acc, mult, shift, out_offset, act_min, act_max)


# ---------------------------------------------------------------------------
# low-bit weights, int8 activations (dense_s4.c, dense_pm1.c)
# ---------------------------------------------------------------------------


def s4_row_bytes(n_in: int) -> int:
    """Bytes per row of packed int4 weights: 4 per group of 8 inputs (the last group zero-padded)."""
    return 4 * ((int(n_in) + 7) // 8)


def pack_s4(w) -> np.ndarray:
    """int4 weights int [out, in] in -8..7 -> uint8 [out, s4_row_bytes(in)]. In each group of 8 inputs,
    byte k (0..3) holds input k in its low nibble and input k + 4 in its high nibble: the layout
    whose nibbles a 32-bit word turns into the 16-bit lanes the Arm DSP path multiplies."""
    w = np.asarray(w)
    if w.size and (w.min() < -8 or w.max() > 7):
        raise PnetcError("int4 weights must be in -8..7")
    out, n_in = w.shape
    groups = (n_in + 7) // 8
    padded = np.zeros((out, groups * 8), np.int64)
    padded[:, :n_in] = w
    nib = (padded & 15).reshape(out, groups, 2, 4)  # [.., half, k]: half 0 = inputs k, half 1 = inputs k + 4
    return (nib[:, :, 0, :] | (nib[:, :, 1, :] << 4)).reshape(out, groups * 4).astype(np.uint8)


def unpack_s4(packed, n_in: int) -> np.ndarray:
    """pack_s4's inverse: uint8 [out, s4_row_bytes(n_in)] -> int8 [out, n_in]."""
    b = np.asarray(packed, np.uint8).reshape(-1, s4_row_bytes(n_in)).astype(np.int64)
    out, groups = b.shape[0], b.shape[1] // 4
    nib = np.stack([b & 15, b >> 4], axis=1).reshape(out, 2, groups, 4).transpose(0, 2, 1, 3)
    v = nib.reshape(out, groups * 8)[:, :n_in]
    return np.where(v >= 8, v - 16, v).astype(np.int8)


def dense_s4(x, w_packed, n_in: int, bias, in_offset: int, mult, shift, out_offset: int, act_min: int = -128,
             act_max: int = 127) -> np.ndarray:
    """dense_s8 with int4 weights packed by pack_s4 (x int8 [..., n_in] -> int8 [..., out])."""
    return dense_s8(x, unpack_s4(w_packed, n_in), bias, in_offset, mult, shift, out_offset, act_min, act_max)


def dense_pm1(x, wbits, n_in: int, bias, in_offset: int, mult, shift, out_offset: int, act_min: int = -128,
              act_max: int = 127) -> np.ndarray:
    """dense_s8 with +-1 weights: wbits uint32 [out, num_words(n_in)], bit 1 = +1, bit 0 = -1 (the
    int8 activations are added or subtracted, never multiplied)."""
    signs = 2 * unpack_bits(np.asarray(wbits, dtype=_U32), n_in).astype(np.int8) - 1
    return dense_s8(x, signs.reshape(-1, n_in), bias, in_offset, mult, shift, out_offset, act_min, act_max)


def lut_s8(x, lut) -> np.ndarray:
    """y = lut[x + 128] (lut int8 [256])."""
    return np.asarray(lut, dtype=np.int8)[np.asarray(x, dtype=np.int8).astype(np.int32) + 128]


def argmax_s8(x) -> np.ndarray:
    """Index of the first maximum along the last axis (int32)."""
    return np.argmax(np.asarray(x, dtype=np.int8), axis=-1).astype(np.int32)


# ---------------------------------------------------------------------------
# float32
# ---------------------------------------------------------------------------


def dense_f32(x, w, bias=None) -> np.ndarray:
    """y = (sum_i x[i] * w[j, i] in increasing i, from 0) + bias[j], all in float32 (as C)."""
    x = np.asarray(x, dtype=np.float32)
    w = np.asarray(w, dtype=np.float32)
    acc = np.zeros(x.shape[:-1] + (w.shape[0],), dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # IEEE inf/NaN, as the C gives them
        for i in range(w.shape[1]):
            acc = acc + x[..., i, None] * w[:, i]
        b = np.zeros(w.shape[0], dtype=np.float32) if bias is None else np.asarray(bias, dtype=np.float32)
        return acc + b


def relu_f32(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return np.where(x > 0, x, np.float32(0)).astype(np.float32)


def sigmoid_f32(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore"):
        return (np.float32(1) / (np.float32(1) + np.exp(-x))).astype(np.float32)


def tanh_f32(x) -> np.ndarray:
    return np.tanh(np.asarray(x, dtype=np.float32)).astype(np.float32)


def softmax_f32(x) -> np.ndarray:
    """Softmax along the last axis: subtract the max, exp, sum in index order, divide (float32)."""
    x = np.asarray(x, dtype=np.float32)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    s = np.zeros(x.shape[:-1] + (1,), dtype=np.float32)
    for i in range(x.shape[-1]):
        s = s + e[..., i : i + 1]
    return (e / s).astype(np.float32)


def argmax_f32(x) -> np.ndarray:
    """Index of the first maximum along the last axis (int32); inputs are assumed NaN-free."""
    return np.argmax(np.asarray(x, dtype=np.float32), axis=-1).astype(np.int32)


# ---------------------------------------------------------------------------
# convolution and pooling (NCHW, as ONNX)
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Window:
    """The geometry of one conv/pool layer: the C struct pnet_window, fields in its order."""

    in_h: int
    in_w: int
    out_h: int
    out_w: int
    k_h: int
    k_w: int
    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    pad_top: int = 0
    pad_left: int = 0
    pad_bottom: int = 0
    pad_right: int = 0

    def c_fields(self) -> tuple[int, ...]:
        """The values of a C initializer of pnet_window, in field order."""
        return dataclasses.astuple(self)


def window_out_size(size: int, k: int, stride: int = 1, pad_begin: int = 0, pad_end: int = 0, dilation: int = 1,
                    ceil_mode: bool = False) -> int:
    """Output length of a window along one axis (ONNX Conv/MaxPool/AveragePool; ceil_mode as ONNX
    Runtime and torch: a last window that would start in the end padding is dropped)."""
    span = size + pad_begin + pad_end - dilation * (k - 1) - 1
    if span < 0:
        return 0
    out = (_ceil_div(span, stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


def window(in_hw: Sequence[int], kernel: Sequence[int], strides: Sequence[int] = (1, 1),
           pads: Sequence[int] = (0, 0, 0, 0), dilations: Sequence[int] = (1, 1), ceil_mode: bool = False) -> Window:
    """Window for input (H, W), kernel (k_h, k_w), ONNX pads (top, left, bottom, right); checked."""
    (h, w), (kh, kw), (sh, sw), (dh, dw) = (tuple(int(v) for v in a) for a in (in_hw, kernel, strides, dilations))
    pt, pl, pb, pr = (int(v) for v in pads)
    if min(h, w, kh, kw, sh, sw, dh, dw) < 1 or min(pt, pl, pb, pr) < 0:
        raise PnetcError(f"bad window: input {h}x{w}, kernel {kh}x{kw}, strides {sh},{sw}, dilations {dh},{dw}, "
                         f"pads {pt},{pl},{pb},{pr} (sizes must be >= 1, pads >= 0)")
    oh = window_out_size(h, kh, sh, pt, pb, dh, ceil_mode)
    ow = window_out_size(w, kw, sw, pl, pr, dw, ceil_mode)
    if oh < 1 or ow < 1:
        raise PnetcError(f"the {kh}x{kw} window (dilations {dh},{dw}) is larger than the padded {h}x{w} input")
    return Window(h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr)


@dataclasses.dataclass(frozen=True)
class _Tap:
    """One window tap (kh, kw): the output rectangle whose tap is inside the input, and the
    input rows/columns it reads there (strided slices)."""

    kh: int
    kw: int
    out_rows: slice
    out_cols: slice
    in_rows: slice
    in_cols: slice


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _tap_range(k: int, out: int, size: int, stride: int, pad: int, dilation: int) -> tuple[slice, slice]:
    """Outputs o with 0 <= o*stride - pad + k*dilation < size, and the input indices they read."""
    base = k * dilation - pad  # input index of output 0
    lo = max(0, _ceil_div(-base, stride))
    hi = min(out, _ceil_div(size - base, stride))
    if hi <= lo:
        return slice(0, 0), slice(0, 0)
    start = lo * stride + base
    return slice(lo, hi), slice(start, start + (hi - lo - 1) * stride + 1, stride)


def _taps(win: Window) -> list[_Tap]:
    """Every tap with at least one inside output, in (kh, kw) order."""
    taps = []
    for kh in range(win.k_h):
        orow, irow = _tap_range(kh, win.out_h, win.in_h, win.stride_h, win.pad_top, win.dilation_h)
        for kw in range(win.k_w):
            ocol, icol = _tap_range(kw, win.out_w, win.in_w, win.stride_w, win.pad_left, win.dilation_w)
            if orow.stop > orow.start and ocol.stop > ocol.start:
                taps.append(_Tap(kh, kw, orow, ocol, irow, icol))
    return taps


def _window_counts(win: Window, include_pad: bool) -> np.ndarray:
    """Taps counted by the average pool per output position: int64 [out_h, out_w]."""

    def axis(out, size, k, stride, pad_begin, pad_end, dilation):
        lo, hi = (-pad_begin, size + pad_end) if include_pad else (0, size)
        pos = np.arange(out)[:, None] * stride - pad_begin + np.arange(k)[None, :] * dilation
        return ((pos >= lo) & (pos < hi)).sum(axis=1)

    ch = axis(win.out_h, win.in_h, win.k_h, win.stride_h, win.pad_top, win.pad_bottom, win.dilation_h)
    cw = axis(win.out_w, win.in_w, win.k_w, win.stride_w, win.pad_left, win.pad_right, win.dilation_w)
    return ch[:, None].astype(np.int64) * cw[None, :]


def _pool_geometry(x: np.ndarray, kernel, strides, pads, dilations, ceil_mode) -> tuple[Window, list[_Tap]]:
    """The checked window of a pool over x [..., C, H, W] and its taps."""
    win = _geometry(x, kernel, strides, pads, dilations, ceil_mode)
    if np.any(_window_counts(win, include_pad=False) == 0):
        raise PnetcError("a pooling window lies entirely in the padding (pads must be smaller than the kernel)")
    return win, _taps(win)


def _per_sample(x: np.ndarray, sample_dims: int, out_elements: int, fn: Callable[[np.ndarray], np.ndarray]):
    """fn over x [..., sample dims] in chunks of whole samples (bounded memory for big batches)."""
    lead = x.shape[: x.ndim - sample_dims]
    flat = x.reshape((-1,) + x.shape[x.ndim - sample_dims:])
    step = max(1, BLOCK_ELEMENTS // max(1, out_elements))
    parts = [fn(flat[lo: lo + step]) for lo in range(0, flat.shape[0], step)]
    y = np.concatenate(parts) if parts else fn(flat)
    return y.reshape(lead + y.shape[1:])


def _geometry(x: np.ndarray, kernel, strides, pads, dilations, ceil_mode) -> Window:
    if x.ndim < 3:
        raise PnetcError(f"conv/pool input must be [..., C, H, W], got shape {x.shape}")
    return window(x.shape[-2:], kernel, strides, pads, dilations, ceil_mode)


def _conv_geometry(x, w, dtype, strides, pads, dilations) -> tuple[np.ndarray, np.ndarray, Window, list[_Tap]]:
    """x [..., in_c, H, W] and w [out_c, in_c, k_h, k_w] as dtype, checked, with the window and its taps."""
    x = np.asarray(x, dtype=dtype)
    w = np.asarray(w, dtype=dtype)
    if w.ndim != 4 or x.ndim < 3 or w.shape[1] != x.shape[-3]:
        raise PnetcError(f"conv weights {w.shape} do not fit the input {x.shape} ([out_c, in_c, k_h, k_w])")
    win = _geometry(x, w.shape[2:], strides, pads, dilations, False)
    return x, w, win, _taps(win)


def conv2d_s8(x, w, bias, in_offset: int, mult, shift, out_offset: int, act_min: int = -128, act_max: int = 127, *,
              strides: Sequence[int] = (1, 1), pads: Sequence[int] = (0, 0, 0, 0),
              dilations: Sequence[int] = (1, 1)) -> np.ndarray:
    """int8 convolution (pnet_conv2d_s8): x int8 [..., in_c, H, W], w int8 [out_c, in_c, k_h, k_w],
    bias int32 [out_c] or None, per-channel mult/shift [out_c] -> int8 [..., out_c, out_h, out_w].
    Taps in the padding add nothing (the padding is the real zero)."""
    x, w, win, _ = _conv_geometry(x, w, np.int8, strides, pads, dilations)
    out_c = w.shape[0]
    b = np.zeros(out_c, np.int64) if bias is None else np.asarray(bias, dtype=np.int32).astype(np.int64)

    # im2col over the input padded with the real zero (x + in_offset == 0), so every tap is a full
    # strided slice; columns in (ci, kh, kw) order, as w flattens; one exact matmul per chunk
    end_h = max(0, (win.out_h - 1) * win.stride_h + (win.k_h - 1) * win.dilation_h - win.pad_top - (win.in_h - 1))
    end_w = max(0, (win.out_w - 1) * win.stride_w + (win.k_w - 1) * win.dilation_w - win.pad_left - (win.in_w - 1))
    w_rows = w.reshape(out_c, -1).T  # [in_c * k_h * k_w, out_c]

    def run(xb: np.ndarray) -> np.ndarray:
        xs = np.pad(xb.astype(np.int32) + int(in_offset),
                    ((0, 0), (0, 0), (win.pad_top, end_h), (win.pad_left, end_w)))
        cols = np.stack([xs[:, :, kh * win.dilation_h: kh * win.dilation_h + (win.out_h - 1) * win.stride_h + 1:
                            win.stride_h,
                            kw * win.dilation_w: kw * win.dilation_w + (win.out_w - 1) * win.stride_w + 1:
                            win.stride_w]
                         for kh in range(win.k_h) for kw in range(win.k_w)], axis=2)  # [N, C, taps, oh, ow]
        cols = cols.transpose(0, 3, 4, 1, 2).reshape(xb.shape[0], win.out_h, win.out_w, -1)
        acc = _exact_matmul(cols, w_rows) + b
        if np.any(acc > INT32_MAX) or np.any(acc < INT32_MIN):
            raise PnetcError("int8 conv accumulator overflows int32; the layer has too many inputs per output")
        return np.moveaxis(requantize_s8(acc, mult, shift, out_offset, act_min, act_max), -1, 1)

    per_sample = max(out_c, w_rows.shape[0]) * win.out_h * win.out_w
    return _per_sample(x, 3, per_sample, run)


def conv2d_f32(x, w, bias=None, *, strides: Sequence[int] = (1, 1), pads: Sequence[int] = (0, 0, 0, 0),
               dilations: Sequence[int] = (1, 1)) -> np.ndarray:
    """float convolution (pnet_conv2d_f32) in float32, summing from 0 in the C order (ci, then kh,
    then kw; taps in the padding skipped), bias added last: x [..., in_c, H, W], w [out_c, in_c, k_h, k_w]."""
    x, w, win, taps = _conv_geometry(x, w, np.float32, strides, pads, dilations)
    out_c = w.shape[0]
    b = np.zeros(out_c, np.float32) if bias is None else np.asarray(bias, dtype=np.float32)

    def run(xb: np.ndarray) -> np.ndarray:
        acc = np.zeros((xb.shape[0], out_c, win.out_h, win.out_w), dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore"):  # IEEE inf/NaN, as the C gives them
            for ci in range(w.shape[1]):
                for t in taps:
                    xv = xb[:, None, ci, t.in_rows, t.in_cols]  # [N, 1, h, w]
                    acc[:, :, t.out_rows, t.out_cols] += xv * w[None, :, ci, t.kh, t.kw, None, None]
            return acc + b[:, None, None]

    return _per_sample(x, 3, out_c * win.out_h * win.out_w, run)


def maxpool_s8(x, kernel: Sequence[int], *, strides: Sequence[int] = (1, 1), pads: Sequence[int] = (0, 0, 0, 0),
               dilations: Sequence[int] = (1, 1), ceil_mode: bool = False, act_min: int = -128,
               act_max: int = 127) -> np.ndarray:
    """int8 max pool (pnet_maxpool_s8): x int8 [..., C, H, W] -> clamp(max over inside taps)."""
    x = np.asarray(x, dtype=np.int8)
    win, taps = _pool_geometry(x, kernel, strides, pads, dilations, ceil_mode)

    def run(xb: np.ndarray) -> np.ndarray:
        m = np.full(xb.shape[:2] + (win.out_h, win.out_w), -128, dtype=np.int8)  # every window has a tap
        for t in taps:
            np.maximum(m[:, :, t.out_rows, t.out_cols], xb[:, :, t.in_rows, t.in_cols],
                       out=m[:, :, t.out_rows, t.out_cols])
        return np.clip(m, act_min, act_max).astype(np.int8)

    return _per_sample(x, 3, x.shape[-3] * win.out_h * win.out_w, run)


def maxpool_f32(x, kernel: Sequence[int], *, strides: Sequence[int] = (1, 1), pads: Sequence[int] = (0, 0, 0, 0),
                dilations: Sequence[int] = (1, 1), ceil_mode: bool = False) -> np.ndarray:
    """float max pool (pnet_maxpool_f32): the first inside tap, replaced by each later tap v > max."""
    x = np.asarray(x, dtype=np.float32)
    win, taps = _pool_geometry(x, kernel, strides, pads, dilations, ceil_mode)

    def run(xb: np.ndarray) -> np.ndarray:
        m = np.zeros(xb.shape[:2] + (win.out_h, win.out_w), dtype=np.float32)
        have = np.zeros((win.out_h, win.out_w), dtype=bool)
        with np.errstate(invalid="ignore"):
            for t in taps:
                cur = m[:, :, t.out_rows, t.out_cols]
                v = xb[:, :, t.in_rows, t.in_cols]
                take = ~have[t.out_rows, t.out_cols] | (v > cur)
                m[:, :, t.out_rows, t.out_cols] = np.where(take, v, cur)
                have[t.out_rows, t.out_cols] = True
        return m

    return _per_sample(x, 3, x.shape[-3] * win.out_h * win.out_w, run)


def _pool_sums(xb: np.ndarray, win: Window, taps: list[_Tap], dtype) -> np.ndarray:
    """Sum of the inside taps per output, in (kh, kw) order from 0, in dtype: [N, C, out_h, out_w]."""
    s = np.zeros(xb.shape[:2] + (win.out_h, win.out_w), dtype=dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in taps:
            s[:, :, t.out_rows, t.out_cols] += xb[:, :, t.in_rows, t.in_cols].astype(dtype)
    return s


def avgpool_s8(x, kernel: Sequence[int], *, strides: Sequence[int] = (1, 1), pads: Sequence[int] = (0, 0, 0, 0),
               dilations: Sequence[int] = (1, 1), ceil_mode: bool = False, count_include_pad: bool = False,
               act_min: int = -128, act_max: int = 127) -> np.ndarray:
    """int8 average pool (pnet_avgpool_s8): clamp(round(sum / count)), half away from zero, on the raw
    int8 values; count = inside taps, or taps inside the padded extent with count_include_pad."""
    x = np.asarray(x, dtype=np.int8)
    win, taps = _pool_geometry(x, kernel, strides, pads, dilations, ceil_mode)
    n = _window_counts(win, bool(count_include_pad))

    def run(xb: np.ndarray) -> np.ndarray:
        s = _pool_sums(xb, win, taps, np.int64)
        q = np.sign(s) * ((np.abs(s) + n // 2) // n)  # C: s >= 0 ? (s + n/2) / n : (s - n/2) / n
        return np.clip(q, act_min, act_max).astype(np.int8)

    return _per_sample(x, 3, x.shape[-3] * win.out_h * win.out_w, run)


def avgpool_f32(x, kernel: Sequence[int], *, strides: Sequence[int] = (1, 1), pads: Sequence[int] = (0, 0, 0, 0),
                dilations: Sequence[int] = (1, 1), ceil_mode: bool = False,
                count_include_pad: bool = False) -> np.ndarray:
    """float average pool (pnet_avgpool_f32): (float32 sum of the inside taps in (kh, kw) order) / count."""
    x = np.asarray(x, dtype=np.float32)
    win, taps = _pool_geometry(x, kernel, strides, pads, dilations, ceil_mode)
    n = _window_counts(win, bool(count_include_pad)).astype(np.float32)

    def run(xb: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return (_pool_sums(xb, win, taps, np.float32) / n).astype(np.float32)

    return _per_sample(x, 3, x.shape[-3] * win.out_h * win.out_w, run)


# ---------------------------------------------------------------------------
# the table the golden interpreter runs lowered kernel calls with (pnetc.ir.calls)
# ---------------------------------------------------------------------------


def _per_text(kernel: Callable) -> Callable:
    """A one-text kernel (text_project, text_presence) over a batch of texts -> packed bits uint32 [n, W]."""
    def run(text, *, num_bits: int, **params) -> np.ndarray:
        out = np.zeros((len(text), num_words(num_bits)), dtype=_U32)
        for i, t in enumerate(text):
            out[i] = kernel(t, num_bits=num_bits, **params)
        return out

    return run


def _window_args(win: Window) -> dict:
    """A Window as the keyword arguments of the conv/pool twins."""
    return dict(strides=(win.stride_h, win.stride_w), pads=(win.pad_top, win.pad_left, win.pad_bottom, win.pad_right),
                dilations=(win.dilation_h, win.dilation_w))


def _nchw(x, win: Window) -> np.ndarray:
    """Flat activations [..., C*H*W] (NCHW order) -> [..., C, H, W]."""
    x = np.asarray(x)
    return x.reshape(x.shape[:-1] + (-1, win.in_h, win.in_w))


def _flat(y: np.ndarray) -> np.ndarray:
    return y.reshape(y.shape[:-3] + (-1,))


def _ceil_mode(win: Window) -> bool:
    """Whether the window's output size needs ceil_mode (the C struct holds only the sizes)."""
    return (win.out_h, win.out_w) != (
        window_out_size(win.in_h, win.k_h, win.stride_h, win.pad_top, win.pad_bottom, win.dilation_h),
        window_out_size(win.in_w, win.k_w, win.stride_w, win.pad_left, win.pad_right, win.dilation_w))


def _conv2d_s8_flat(x, w, bias, in_offset, mult, shift, out_offset, act_min, act_max, win: Window) -> np.ndarray:
    return _flat(conv2d_s8(_nchw(x, win), w, bias, in_offset, mult, shift, out_offset, act_min, act_max,
                           **_window_args(win)))


def _conv2d_f32_flat(x, w, bias, win: Window) -> np.ndarray:
    return _flat(conv2d_f32(_nchw(x, win), w, bias, **_window_args(win)))


def _pool_flat(pool: Callable) -> Callable:
    def run(x, win: Window, **options) -> np.ndarray:
        return _flat(pool(_nchw(x, win), (win.k_h, win.k_w), ceil_mode=_ceil_mode(win), **_window_args(win),
                          **options))

    return run


# kernel name (C pnet_<name>) -> its numpy twin, called with the call's operands by parameter name
# the low-bit dense kernels as called: the C's `in` (not a Python name) is x's last axis
def _dense_s4_call(x, w, bias, in_offset, mult, shift, out_offset, act_min, act_max) -> np.ndarray:
    return dense_s4(x, w, np.shape(x)[-1], bias, in_offset, mult, shift, out_offset, act_min, act_max)


def _dense_pm1_call(x, wbits, bias, in_offset, mult, shift, out_offset, act_min, act_max) -> np.ndarray:
    return dense_pm1(x, wbits, np.shape(x)[-1], bias, in_offset, mult, shift, out_offset, act_min, act_max)


TWINS = {
    "center_u8": center_u8, "center_s8": center_s8, "quantize_f32": quantize_f32,
    "project_binary": project_binary, "project_binary_table": project_binary_table,
    "project_ternary": project_ternary, "project_ternary_table": project_ternary_table,
    "text_project": _per_text(text_project), "text_presence": _per_text(text_presence),
    "bitsum_s32": bitsum_s32, "bitsum_f32": bitsum_f32, "xnor_popcount": xnor_popcount,
    "requantize_s8": requantize_s8, "dense_s8": dense_s8, "lut_s8": lut_s8,
    "dense_s4": _dense_s4_call, "dense_pm1": _dense_pm1_call,
    "dense_f32": dense_f32, "relu_f32": relu_f32, "sigmoid_f32": sigmoid_f32, "tanh_f32": tanh_f32,
    "softmax_f32": softmax_f32,
    # conv/pool over flat NCHW activations, the geometry in `win` as the C takes it
    "conv2d_s8": _conv2d_s8_flat, "conv2d_f32": _conv2d_f32_flat,
    "maxpool_s8": _pool_flat(maxpool_s8), "maxpool_f32": _pool_flat(maxpool_f32),
    "avgpool_s8": _pool_flat(avgpool_s8), "avgpool_f32": _pool_flat(avgpool_f32),
}


def twin(kernel: str):
    """The numpy twin of a kernel; a kernel without one is a pnetc bug, named in one line."""
    try:
        return TWINS[kernel]
    except KeyError:
        raise PnetcError(f"kernel '{kernel}' has no numpy twin in pnetc.kernels.TWINS; the golden interpreter "
                         "cannot run it") from None
