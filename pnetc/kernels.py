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

The hash and the projection/featurizer rules come from ``pnetc.hashing`` (the spec);
nothing here re-derives them differently.
"""

from __future__ import annotations

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
# text_features.c / text_project.c
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
