/*
 * pnet.h - the pnetc C runtime kernel library (the single public header).
 *
 * C99, freestanding-friendly: only <stdint.h> and <stddef.h>. No malloc, no printf,
 * no recursion, no VLAs. Every kernel lives in its own file runtime/src/<kernel>.c and
 * has an integer-exact numpy twin in pnetc/kernels.py (same name without "pnet_").
 * The hash, projection, bit packing and text-featurizer rules are specified in
 * docs/format.md; docs/kernels.md lists each kernel's layout and cost.
 *
 * Conventions used by every kernel:
 *   - Sizes and counts are int32_t (text length is size_t). A kernel never reads
 *     or writes outside the documented extents. Preconditions are the caller's job
 *     (the generated code satisfies them statically); only the text entry points,
 *     which see run-time data, validate their arguments and return an error code.
 *   - Packed bits: LSB first in uint32_t words. Bit k is bit (k & 31) of word k >> 5.
 *     A bit vector of B bits occupies PNET_WORDS(B) words and its padding bits are 0.
 *   - Matrices are row-major. The layout ([rows][cols]) is given for every argument.
 *   - Bias pointers may be NULL (treated as all zeros).
 *   - Text is bytes: always read as uint8_t, so results do not depend on the
 *     signedness of plain char (-fsigned-char / -funsigned-char give the same bits).
 *   - Hash and projection code uses 32-bit xor/shift/multiply only (no 64-bit
 *     multiply, no __builtin_popcount), so Cortex-M0 runs it without libgcc helpers.
 *     pnet_requantize uses one 32x32->64 multiply (as CMSIS-NN does).
 *   - Float kernels (names ending in _f32) accumulate in index order. sigmoid, tanh
 *     and softmax call expf/tanhf: link with libm (-lm) when you use them.
 */
#ifndef PNET_PNET_H
#define PNET_PNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors -- */

#define PNET_OK 0
#define PNET_ERR_NULL (-1)   /* a required pointer was NULL */
#define PNET_ERR_LENGTH (-2) /* a length/size argument is out of range */
#define PNET_ERR_ARG (-3)    /* another argument is out of range (e.g. char_max_n > 5) */

/* ------------------------------------------------------------- constants -- */

/* Number of uint32_t words holding `nbits` packed bits. */
#define PNET_WORDS(nbits) (((nbits) + 31) / 32)

#define PNET_HASH_GOLDEN_A 0x9E3779B1u /* multiplier of the row argument of hash32 */
#define PNET_HASH_GOLDEN_B 0x85EBCA77u /* multiplier of the column argument of hash32 */
#define PNET_FNV_OFFSET 0x811C9DC5u
#define PNET_FNV_PRIME 0x01000193u

/* Text: domain tags of feature ids (docs/format.md section 4.3). */
#define PNET_TAG_CHAR 0x43484152u   /* "CHAR" */
#define PNET_TAG_WORD 0x574F5244u   /* "WORD" */
#define PNET_TAG_BIGRAM 0x42494752u /* "BIGR" */
#define PNET_TAG_SKIP 0x534B4950u   /* "SKIP" */
#define PNET_TEXT_MAX_LEN ((size_t)1 << 26) /* texts must be shorter than this (int32 accumulators) */
#define PNET_TEXT_MAX_CHAR_N 5              /* char n-grams of order 1..5 at most */
#define PNET_DENSE_MAX_INPUT 65536          /* hashed dense projections: n <= 65536 */

/* ------------------------------------------------------------ hash.c -- */

/* murmur3 finaliser on uint32 (wrapping). */
uint32_t pnet_fmix32(uint32_t h);
/* The per-row half of hash32: fmix32(seed ^ a * 0x9E3779B1). */
uint32_t pnet_hash_row(uint32_t seed, uint32_t a);
/* hash32(seed, a, b) = fmix32(hash_row(seed, a) ^ b * 0x85EBCA77). */
uint32_t pnet_hash32(uint32_t seed, uint32_t a, uint32_t b);
/* The one body of fmix32 and hash_row, inlined into the projection kernels' inner loops.
   hash.c's pnet_fmix32 / pnet_hash_row wrap them; PNET_FMIX32 / PNET_HASH_ROW call the wrappers
   instead when PNET_EXTERN_HASH is defined, so tests can count the hash work. */
static inline uint32_t pnet_fmix32_inline(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}
static inline uint32_t pnet_hash_row_inline(uint32_t seed, uint32_t a)
{
    return pnet_fmix32_inline(seed ^ (a * PNET_HASH_GOLDEN_A));
}
#if defined(PNET_EXTERN_HASH)
#define PNET_FMIX32(h) pnet_fmix32(h)
#define PNET_HASH_ROW(seed, a) pnet_hash_row((seed), (a))
#else
#define PNET_FMIX32(h) pnet_fmix32_inline(h)
#define PNET_HASH_ROW(seed, a) pnet_hash_row_inline((seed), (a))
#endif
/* FNV-1a over n bytes starting from state h (pass PNET_FNV_OFFSET for a fresh hash).
   p may be NULL when n == 0. */
uint32_t pnet_fnv1a(const uint8_t *p, size_t n, uint32_t h);

/* ----------------------------------------------------------- center.c -- */

/* x[i] = q[i] - mean[i], i < n. Exact: |x| <= 32767 is the caller's precondition
   (docs/format.md: uint8 q and mean in 0..255 give |x| <= 255). */
void pnet_center_u8(const uint8_t *q, const int16_t *mean, int32_t n, int16_t *x);
void pnet_center_s8(const int8_t *q, const int16_t *mean, int32_t n, int16_t *x);

/* ------------------------------------------------------ quantize_f32.c -- */

/* q[i] = clamp(round_half_even(x[i] / scale[0]) + zero_point, -128, 127), i < n, in float32 (|t| clamped
   to 2^24 first, NaN to the lowest level): a float stem's output as the projection's int8 input. */
void pnet_quantize_f32(const float *x, int32_t n, const float *scale, int32_t zero_point, int8_t *q);

/* ------------------------------------------------------ projections -- */
/*
 * All four write PNET_WORDS(num_bits) words to `bits` (padding bits 0).
 * bit k = 1 iff acc_k = sum_i s_k(i) * x[i] > 0 (a tie gives 0), acc_k exact int32.
 * Precondition: n * max|x| < 2^30 (true for centered uint8 inputs, n <= 65536).
 */

/* project_binary.c: dense +-1 signs from hash32(seed, k, i >> 5) bit (i & 31).
   Cost per bit: one hash_row, ceil(n/32) hashes, n adds (acc = 2*sum(x, s=+1) - sum(x)).
   1 <= n <= 65536, num_bits >= 1. */
void pnet_project_binary(const int16_t *x, int32_t n, uint32_t seed, int32_t num_bits, uint32_t *bits);

/* project_ternary.c: nnz nonzeros per bit; nonzero j comes from the 16-bit half (j & 1) of
   hash32(seed, k, j >> 1): index = ((half >> 1) * n) >> 15, sign = (half & 1) ? -1 : +1.
   Cost per bit: one hash_row, ceil(nnz/2) hashes, nnz adds. 1 <= n <= 65536, nnz >= 1. */
void pnet_project_ternary(const int16_t *x, int32_t n, uint32_t seed, int32_t num_bits, int32_t nnz,
                          uint32_t *bits);

/* project_binary_table.c: the same signs read from a packed flash table.
   sign_words is [num_bits][PNET_WORDS(n)]: bit (i & 31) of sign_words[k][i >> 5] is 1 for s = +1.
   (Equal to pnet_hash32(seed, k, w) word by word, so a table and its hash mode give equal bits.) */
void pnet_project_binary_table(const int16_t *x, int32_t n, const uint32_t *sign_words, int32_t num_bits,
                               uint32_t *bits);

/* project_ternary_table.c: the nonzeros read from a flash table.
   entries is [num_bits][nnz], entry = (uint16_t)(index << 1 | (sign < 0 ? 1 : 0)), index < 32768
   (so table mode needs n <= 32768; larger inputs use the hash mode). */
void pnet_project_ternary_table(const int16_t *x, const uint16_t *entries, int32_t num_bits, int32_t nnz,
                                uint32_t *bits);

/* ---------------------------------------------------- text_features.c -- */
/*
 * Streaming text featurizer (docs/format.md section 4): normalisation, char split,
 * char n-grams and word uni/bi/skip-grams, emitted one id per occurrence in the same
 * order as pnetc.hashing.text_features. O(1) state, O(len) time, never allocates.
 * The struct is public only so the caller can own it (e.g. on the stack); its fields are
 * private.
 */
typedef struct pnet_text_iter {
    const uint8_t *text;    /* the bytes at hand: the whole text, a chunk, or the window */
    size_t len;
    size_t pos;             /* next input byte of text to normalise */
    size_t decided;         /* the rules apply below this position (all of len but at a chunk's end) */
    int32_t char_max_n;     /* 0..5 */
    int32_t words;          /* 0 or 1 */
    int32_t phase;          /* 0 = start frame pending, 1 = body, 2 = input done, 3 = finished */
    int32_t last;           /* last normalised byte emitted (separator collapse) */
    int32_t pend[2];        /* bytes produced by one normalisation rule, not yet consumed */
    int32_t pend_n;
    int32_t pend_i;
    int32_t look;           /* normalised byte that starts the next char, -1 if none, -3 mid-char */
    uint32_t char_hash;     /* fnv1a of the current char */
    uint32_t char_len;      /* bytes in the current char (saturates at 2) */
    int32_t char_first;     /* first byte of the current char */
    uint32_t word_hash;     /* fnv1a of the current word before the current char */
    uint32_t word_next;     /* word_hash extended by the current char's bytes */
    int32_t in_word;
    uint32_t w1, w2;        /* the previous two word ids */
    int32_t nwords;         /* words finished so far, saturating at 2 */
    int32_t seen;           /* chars seen so far, saturating at PNET_TEXT_MAX_CHAR_N */
    uint32_t prev[PNET_TEXT_MAX_CHAR_N + 1]; /* prev[m] = g_m of the previous char */
    uint32_t queue[PNET_TEXT_MAX_CHAR_N + 3]; /* features of the last finished char */
    int32_t q_n;
    int32_t q_i;
    /* streaming only (pnet_text_begin_stream) */
    size_t fed;             /* bytes supplied so far (< PNET_TEXT_MAX_LEN in total) */
    int32_t final;          /* 1: no more input after text (always, when not streaming) */
    uint8_t window[4];      /* the bytes carried from the previous chunk (not normalised yet, at
                               most 2), then the current chunk's first 2 */
    int32_t carry_n;
    const uint8_t *rest;    /* the chunk, while the window is read (NULL: none) */
    size_t rest_len;
} pnet_text_iter;

/* Start iterating the features of text[0..len). text may be NULL when len == 0 (empty text).
   Returns PNET_OK, PNET_ERR_NULL (it or text NULL with len > 0), PNET_ERR_LENGTH
   (len >= PNET_TEXT_MAX_LEN) or PNET_ERR_ARG (char_max_n outside 0..5, words not 0/1).
   On error the iterator yields nothing. */
int pnet_text_begin(pnet_text_iter *it, const uint8_t *text, size_t len, int32_t char_max_n, int32_t words);
/* Next feature id: returns 1 and stores it in *feature_id, or 0 when done (streaming: when the
   bytes supplied so far give no further feature). */
int pnet_text_next(pnet_text_iter *it, uint32_t *feature_id);
/* Streaming: the same features as pnet_text_begin over the concatenation of the chunks, fed one
   at a time (any sizes, including 0). Begin (errors as pnet_text_begin); then per chunk:
   pnet_text_supply, pnet_text_next until it returns 0, pnet_text_park (which keeps the at most 2
   bytes whose normalisation depends on the next chunk, so the chunk may be freed). The last chunk
   is supplied with final = 1 (it may be empty); then pnet_text_next runs to the end of the text.
   supply returns PNET_OK, PNET_ERR_NULL (chunk NULL with len > 0), PNET_ERR_ARG (the last chunk
   was supplied already) or PNET_ERR_LENGTH (2^26 bytes or more in total: the iterator then
   yields nothing more). */
int pnet_text_begin_stream(pnet_text_iter *it, int32_t char_max_n, int32_t words);
int pnet_text_supply(pnet_text_iter *it, const uint8_t *chunk, size_t len, int32_t final);
void pnet_text_park(pnet_text_iter *it);
/* The state of a streaming projection (pnet_text_stream, pnet_text_presence_stream): feeding,
   finished, or its sticky error (negative); a zeroed (never begun) stream is neither. */
#define PNET_TEXT_STREAM_FEEDING 0x5354
#define PNET_TEXT_STREAM_FINISHED 0x4644
/* One step of a streaming projection: refuses a stream that is not feeding (its sticky error, or
   PNET_ERR_ARG), supplies the chunk (final = 1: the end of the text), keeps a supply error in
   *state, and marks the stream finished after the final chunk. After PNET_OK the caller runs
   pnet_text_next until it returns 0, then pnet_text_park unless final. */
int pnet_text_stream_supply(pnet_text_iter *it, int32_t *state, const uint8_t *chunk, size_t len, int32_t final);

/* ----------------------------------------------------- text_project.c -- */
/* Text projection: bit_k = acc_k > 0 with acc_k = sum over feature occurrences f of s_k(f), and
   s_k(f) = +1 iff bit (k & 31) of hash32(seed, k >> 5, f) is set, else -1. One hash per feature
   and 32 bits, counted in bit-sliced counters (docs/kernels.md). acc is caller scratch
   [num_bits] int32 for those counters: its contents on return are unspecified (not acc_k). bits
   gets PNET_WORDS(num_bits) words. O(len) time, O(1) memory beyond acc.
   Returns PNET_OK, PNET_ERR_NULL, PNET_ERR_LENGTH (len >= 2^26 or num_bits < 1) or
   PNET_ERR_ARG (char_max_n / words out of range). On error bits is all zero (if not NULL). */
int pnet_text_project(const uint8_t *text, size_t len, uint32_t seed, int32_t num_bits, int32_t char_max_n,
                      int32_t words, int32_t *acc, uint32_t *bits);

/* Streaming text projection: the bits of pnet_text_project over the concatenation of the chunks
   fed, for text that arrives in pieces (a UART, a socket). The state is one pnet_text_stream
   followed by its counters: PNET_TEXT_STREAM_BYTES(num_bits) bytes, 8-byte aligned, owned by the
   caller; the chunks are not kept after a feed returns. The counters are sized for the longest
   text (2^26 - 1 bytes), so the cost per byte is the one-shot kernel's.
   begin: PNET_OK, PNET_ERR_NULL, PNET_ERR_LENGTH (num_bits < 1) or PNET_ERR_ARG (char_max_n /
   words out of range). feed: PNET_OK, PNET_ERR_NULL (chunk NULL with len > 0), PNET_ERR_LENGTH
   (2^26 bytes or more in total) or PNET_ERR_ARG (not begun, or finished). An error sticks: every
   later feed and the finish return it; a never begun (zeroed) or finished stream gives
   PNET_ERR_ARG. finish ends the text and writes PNET_WORDS(num_bits) words to bits (untouched on
   error); the stream must be begun again before the next text. */
typedef struct pnet_text_stream {
    pnet_text_iter it;
    uint32_t seed;
    int32_t num_bits;
    int32_t planes;         /* bit planes per 32-bit group: enough for the longest text */
    int32_t n;              /* features buffered in fb */
    uint32_t total;         /* features counted so far */
    int32_t state;          /* PNET_TEXT_STREAM_FEEDING, _FINISHED, or the sticky error */
    uint32_t fb[16];        /* buffered features, fold(id * GOLDEN_B) */
} pnet_text_stream;         /* followed in memory by PNET_WORDS(num_bits) hash rows, then the counters */
#define PNET_TEXT_STREAM_PLANES 30 /* bit_length((PNET_TEXT_MAX_LEN + 1) * (PNET_TEXT_MAX_CHAR_N + 3)) */
#define PNET_TEXT_STREAM_BYTES(num_bits) \
    (sizeof(pnet_text_stream) + 4u * (size_t)(PNET_TEXT_STREAM_PLANES + 1) * (size_t)PNET_WORDS(num_bits))
int pnet_text_stream_begin(pnet_text_stream *s, uint32_t seed, int32_t num_bits, int32_t char_max_n, int32_t words);
int pnet_text_stream_feed(pnet_text_stream *s, const uint8_t *chunk, size_t len);
int pnet_text_stream_finish(pnet_text_stream *s, uint32_t *bits);

/* ---------------------------------------------------- text_presence.c -- */
/* Presence text projection (format v2): feature f sets bits k_j = (hash32(seed, j, f) * num_bits)
   >> 32 for j < hashes, computed exactly with 32-bit multiplies; bit_k = 1 iff some feature
   occurrence set it. bits gets PNET_WORDS(num_bits) words (padding 0). No scratch: a feature
   costs `hashes` hashes and bit writes, whatever num_bits. O(len) time.
   Returns PNET_OK, PNET_ERR_NULL, PNET_ERR_LENGTH (len >= 2^26, or num_bits outside
   1..PNET_PRESENCE_MAX_BITS) or PNET_ERR_ARG (hashes outside 1..PNET_TEXT_MAX_HASHES, char_max_n /
   words out of range). On error bits is all zero (if not NULL and num_bits is in range). */
#define PNET_TEXT_MAX_HASHES 8         /* bits one feature sets, at most */
#define PNET_PRESENCE_MAX_BITS 65536   /* (h * num_bits) >> 32 from 16-bit halves fits 32 bits */
int pnet_text_presence(const uint8_t *text, size_t len, uint32_t seed, int32_t num_bits, int32_t hashes,
                       int32_t char_max_n, int32_t words, uint32_t *bits);

/* Streaming presence projection: the bits of pnet_text_presence over the concatenation of the
   chunks fed, with the contract of pnet_text_stream_* (errors stick; begin again per text). The
   state is one pnet_text_presence_stream followed by the bits: PNET_TEXT_PRESENCE_STREAM_BYTES(num_bits)
   bytes, 8-byte aligned, owned by the caller. begin: PNET_OK, PNET_ERR_NULL, PNET_ERR_LENGTH
   (num_bits out of range) or PNET_ERR_ARG (hashes, char_max_n or words out of range). */
typedef struct pnet_text_presence_stream {
    pnet_text_iter it;
    uint32_t rows[PNET_TEXT_MAX_HASHES]; /* folded hash rows of j = 0..hashes-1 */
    int32_t num_bits;
    int32_t hashes;
    int32_t state;          /* PNET_TEXT_STREAM_FEEDING, _FINISHED, or the sticky error */
} pnet_text_presence_stream; /* followed in memory by PNET_WORDS(num_bits) words of bits */
#define PNET_TEXT_PRESENCE_STREAM_BYTES(num_bits) \
    (sizeof(pnet_text_presence_stream) + 4u * (size_t)PNET_WORDS(num_bits))
int pnet_text_presence_stream_begin(pnet_text_presence_stream *s, uint32_t seed, int32_t num_bits, int32_t hashes,
                                    int32_t char_max_n, int32_t words);
int pnet_text_presence_stream_feed(pnet_text_presence_stream *s, const uint8_t *chunk, size_t len);
int pnet_text_presence_stream_finish(pnet_text_presence_stream *s, uint32_t *bits);

/* ------------------------------------------- first layer over bits -- */

/* bitsum_s32.c: acc[j] = bias[j] + sum_{k: bit k set} w[k][j], j < out. w is [num_bits][out] int8
   (a row per bit), so the kernel adds whole rows and never multiplies. */
void pnet_bitsum_s32(const uint32_t *bits, int32_t num_bits, const int8_t *w, const int32_t *bias, int32_t out,
                     int32_t *acc);
/* bitsum_f32.c: y[j] = bias[j] + sum_{k set, increasing k} w[k][j]  (starting from bias[j]). */
void pnet_bitsum_f32(const uint32_t *bits, int32_t num_bits, const float *w, const float *bias, int32_t out,
                     float *y);

/* popcount.c: SWAR population count (no libgcc call on Cortex-M). */
uint32_t pnet_popcount32(uint32_t v);

/* xnor_popcount.c: +-1 weights and +-1 inputs (bit 1 = +1, bit 0 = -1):
   acc[j] = bias[j] + sum_k (2b_k - 1)(2w_jk - 1) = bias[j] + 2 * popcount(~(b ^ w_j)) - num_bits,
   counting only the num_bits real bits. wbits is [out][PNET_WORDS(num_bits)], same packing as bits. */
void pnet_xnor_popcount(const uint32_t *bits, int32_t num_bits, const uint32_t *wbits, const int32_t *bias,
                        int32_t out, int32_t *acc);

/* ------------------------------------------------------------- int8 -- */
/*
 * TFLite / CMSIS-NN convention: int8 activations (real = scale * (q - zero_point)), int8
 * weights (symmetric), int32 bias, per-channel Q31 multiplier `mult` and `shift`
 * (real multiplier = mult * 2^(shift - 31)).
 */

/* requantize.c: TFLite MultiplyByQuantizedMultiplier(v, mult, shift) =
   RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(v * 2^max(shift, 0), mult), max(-shift, 0)).
   The left shift wraps modulo 2^32 (as CMSIS-NN does on ARM); -31 <= shift <= 30.
   Equals CMSIS-NN arm_nn_requantize (default, non single-rounding path) for every input except
   v * 2^max(shift,0) == mult == INT32_MIN, where this saturates to INT32_MAX as TFLite does. */
int32_t pnet_requantize(int32_t v, int32_t mult, int32_t shift);

/* requantize_s8.c: y[i] = clamp(requantize(acc[i], mult[i], shift[i]) + out_offset, act_min, act_max),
   i < n; -128 <= act_min <= act_max <= 127. */
void pnet_requantize_s8(const int32_t *acc, int32_t n, const int32_t *mult, const int32_t *shift,
                        int32_t out_offset, int32_t act_min, int32_t act_max, int8_t *y);

/* dense_s8.c: y[j] = clamp(requantize(bias[j] + sum_i (x[i] + in_offset) * w[j][i], mult[j], shift[j])
   + out_offset, act_min, act_max). w is [out][in] int8 (a row per output, as ONNX Gemm transB=1).
   Precondition: the int32 accumulator does not overflow (in * 255 * 128 < 2^31 suffices). */
void pnet_dense_s8(const int8_t *x, int32_t in, const int8_t *w, const int32_t *bias, int32_t out,
                   int32_t in_offset, const int32_t *mult, const int32_t *shift, int32_t out_offset,
                   int32_t act_min, int32_t act_max, int8_t *y);

/* dense_s4.c: dense_s8 with int4 weights (-8..7), two per byte: w is [out][4 * ceil(in / 8)] bytes,
   byte k of each group of 8 inputs holding input k (low nibble) and input k + 4 (high nibble). */
void pnet_dense_s4(const int8_t *x, int32_t in, const uint8_t *w, const int32_t *bias, int32_t out,
                   int32_t in_offset, const int32_t *mult, const int32_t *shift, int32_t out_offset,
                   int32_t act_min, int32_t act_max, int8_t *y);

/* dense_pm1.c: dense_s8 with +-1 weights, bit 1 = +1: wbits is [out][PNET_WORDS(in)] (packed like the
   projection bits); the int8 inputs are added or subtracted, never multiplied. */
void pnet_dense_pm1(const int8_t *x, int32_t in, const uint32_t *wbits, const int32_t *bias, int32_t out,
                    int32_t in_offset, const int32_t *mult, const int32_t *shift, int32_t out_offset,
                    int32_t act_min, int32_t act_max, int8_t *y);

/* lut_s8.c: in place, x[i] = lut[x[i] + 128] (a 256-entry table for any int8 activation). */
void pnet_lut_s8(int8_t *x, int32_t n, const int8_t *lut);

/* argmax_s8.c: index of the first maximum (0 if n <= 0). */
int32_t pnet_argmax_s8(const int8_t *x, int32_t n);

/* ------------------------------------------------------------ float -- */

/* dense_f32.c: y[j] = (sum_{i in increasing order} x[i] * w[j][i]) + bias[j], w is [out][in].
   The sum starts at 0.0f; bias is added last. */
void pnet_dense_f32(const float *x, int32_t in, const float *w, const float *bias, int32_t out, float *y);
/* relu_f32.c: in place, x = x > 0 ? x : 0. */
void pnet_relu_f32(float *x, int32_t n);
/* sigmoid_f32.c: in place, x = 1 / (1 + expf(-x)). Needs libm. */
void pnet_sigmoid_f32(float *x, int32_t n);
/* tanh_f32.c: in place, x = tanhf(x). Needs libm. */
void pnet_tanh_f32(float *x, int32_t n);
/* softmax_f32.c: in place, e_i = expf(x_i - max x), s = sum e_i in index order, x_i = e_i / s.
   Needs libm. */
void pnet_softmax_f32(float *x, int32_t n);
/* argmax_f32.c: index of the first maximum (0 if n <= 0). NaNs never win over an earlier number. */
int32_t pnet_argmax_f32(const float *x, int32_t n);

/* ------------------------------------------------- convolution, pooling -- */
/*
 * Tensors are NCHW without the batch, as ONNX: activations x[c][h][w] (c < channels, h < in_h,
 * w < in_w), outputs y[c][oh][ow], conv weights w[out_c][in_c][k_h][k_w]. Conv1d / 1-D pooling is
 * the case in_h = k_h = 1 (stride_h = dilation_h = 1, no vertical padding).
 *
 * Window tap (kh, kw) of output (oh, ow) reads input row ih = oh * stride_h - pad_top + kh * dilation_h
 * and column iw = ow * stride_w - pad_left + kw * dilation_w. A tap is "inside" when
 * 0 <= ih < in_h and 0 <= iw < in_w; taps outside read nothing (implicit padding).
 * Geometry preconditions (the generated code meets them statically; pnetc.kernels.window
 * computes a valid struct): every field >= 0, k, stride, dilation and out sizes >= 1, and for the
 * pools every window has at least one inside tap (true for every ONNX geometry: pads < kernel).
 * out_h / out_w are given (floor or ceil mode are the caller's choice); pad_bottom / pad_right
 * only matter for average pooling with count_include_pad.
 */
typedef struct pnet_window {
    int32_t in_h, in_w;             /* input rows, columns */
    int32_t out_h, out_w;           /* output rows, columns */
    int32_t k_h, k_w;               /* kernel (window) rows, columns */
    int32_t stride_h, stride_w;     /* >= 1 */
    int32_t dilation_h, dilation_w; /* >= 1 (1 = dense window) */
    int32_t pad_top, pad_left, pad_bottom, pad_right; /* ONNX pads order: begins, then ends */
} pnet_window;

/* conv2d_s8.c: int8 convolution (TFLite/CMSIS-NN convention, symmetric per-output-channel weights):
   y[co][oh][ow] = clamp(requantize(bias[co] + sum over inside taps (kh, kw) and ci of
                                    (x[ci][ih][iw] + in_offset) * w[co][ci][kh][kw], mult[co], shift[co])
                         + out_offset, act_min, act_max).
   Padding is the real zero (taps outside the input add nothing, as x + in_offset == 0 would).
   Precondition: the int32 accumulator does not overflow (in_c * k_h * k_w * 255 * 128 < 2^31 suffices). */
void pnet_conv2d_s8(const int8_t *x, int32_t in_c, const pnet_window *win, const int8_t *w, const int32_t *bias,
                    int32_t out_c, int32_t in_offset, const int32_t *mult, const int32_t *shift, int32_t out_offset,
                    int32_t act_min, int32_t act_max, int8_t *y);

/* conv2d_f32.c: y[co][oh][ow] = (sum from 0.0f, over ci increasing, then kh increasing, then kw
   increasing, of inside taps only, of x[ci][ih][iw] * w[co][ci][kh][kw]) + bias[co] (bias added last).
   Each product and each sum rounds to float: the file never fuses multiply-adds. */
void pnet_conv2d_f32(const float *x, int32_t in_c, const pnet_window *win, const float *w, const float *bias,
                     int32_t out_c, float *y);

/* maxpool_s8.c: y[c][oh][ow] = clamp(max over inside taps of x[c][ih][iw], act_min, act_max)
   (outside taps are ignored, as ONNX MaxPool). */
void pnet_maxpool_s8(const int8_t *x, int32_t channels, const pnet_window *win, int32_t act_min, int32_t act_max,
                     int8_t *y);

/* maxpool_f32.c: y[c][oh][ow] = the first inside tap in (kh, kw) order, replaced by each later tap v
   with v > y (so a NaN never replaces a number; outside taps are ignored). */
void pnet_maxpool_f32(const float *x, int32_t channels, const pnet_window *win, float *y);

/* avgpool_s8.c: ONNX AveragePool on the raw int8 values (input and output share scale and zero
   point, as TFLite/CMSIS-NN): s = sum of x over inside taps, n = number of inside taps
   (count_include_pad = 0) or of taps inside the padded extent -pad_top <= ih < in_h + pad_bottom,
   -pad_left <= iw < in_w + pad_right (count_include_pad = 1; outside taps still add 0 to s);
   y = clamp(round(s / n), act_min, act_max), rounding half away from zero:
   s >= 0 ? (s + n / 2) / n : (s - n / 2) / n in C integer division (as TFLite's and CMSIS-NN's
   average pool). Global average pooling: k_h = in_h, k_w = in_w, out 1 x 1. */
void pnet_avgpool_s8(const int8_t *x, int32_t channels, const pnet_window *win, int32_t count_include_pad,
                     int32_t act_min, int32_t act_max, int8_t *y);

/* avgpool_f32.c: y[c][oh][ow] = s / n, s = sum from 0.0f of the inside taps in (kh, kw) order, n as
   for avgpool_s8 (as a float, exact). */
void pnet_avgpool_f32(const float *x, int32_t channels, const pnet_window *win, int32_t count_include_pad, float *y);

/* ------------------------------------------------------ bench markers -- */
/* The benchmark harness (not this library) defines pnet_bench_mark when PNET_BENCH is set. */
#ifdef PNET_BENCH
void pnet_bench_mark(int stage);
#define PNET_STAGE_MARK(k) pnet_bench_mark(k)
#else
#define PNET_STAGE_MARK(k) ((void)0)
#endif

#ifdef __cplusplus
}
#endif

#endif /* PNET_PNET_H */
