/* pnet_support.h - helpers shared by several kernels in runtime/src (not part of the public API;
   the one public header is pnet.h). Each helper is static inline: a kernel file that includes this
   header stays one self-contained translation unit. */
#ifndef PNET_SUPPORT_H
#define PNET_SUPPORT_H

#include "pnet.h" /* same folder: resolves wherever the pair is copied */

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#define PNET_SUPPORT_DSP 1
#include <arm_acle.h>
#endif

/* Sum of xp[j] over the set bits j of h (bit j <-> xp[j]), branch-free; m <= 32 inputs.
   Full words go four at a time (about 7 Thumb-1 instructions per input on Cortex-M0). On Arm cores
   with the DSP extension each nibble of h selects 16-bit 0/1 lanes from a table and two SMLADs add
   the four inputs it covers (exact integer sums; PNET_PORTABLE forces plain C). Used by the dense
   +-1 projections, whose signs come from a hash (project_binary.c) or a table (project_binary_table.c). */
static inline int32_t pnet_sum_set_s16(const int16_t *xp, uint32_t h, int32_t m)
{
    int32_t pos = 0;
    int32_t j = 0;
    if (m == 32) {
#if defined(PNET_SUPPORT_DSP)
        /* lanes (bit 0, bit 1) and (bit 2, bit 3) of every nibble */
        static const int32_t nibble_lanes[16][2] = {
            {0x00000, 0x00000}, {0x00001, 0x00000}, {0x10000, 0x00000}, {0x10001, 0x00000},
            {0x00000, 0x00001}, {0x00001, 0x00001}, {0x10000, 0x00001}, {0x10001, 0x00001},
            {0x00000, 0x10000}, {0x00001, 0x10000}, {0x10000, 0x10000}, {0x10001, 0x10000},
            {0x00000, 0x10001}, {0x00001, 0x10001}, {0x10000, 0x10001}, {0x10001, 0x10001},
        };
        /* unrolled: eight nibbles, each one table lookup, two loads, two SMLADs */
#define PNET_SUM_NIBBLE(q)                                                    \
        do {                                                                  \
            const int32_t *const lanes = nibble_lanes[(h >> (q)) & 15u];      \
            int32_t lo;                                                       \
            int32_t hi;                                                       \
            __builtin_memcpy(&lo, xp + (q), 4); /* x[q] | x[q+1] << 16 */     \
            __builtin_memcpy(&hi, xp + (q) + 2, 4);                           \
            pos = __smlad(lo, lanes[0], pos);                                 \
            pos = __smlad(hi, lanes[1], pos);                                 \
        } while (0)
        PNET_SUM_NIBBLE(0);
        PNET_SUM_NIBBLE(4);
        PNET_SUM_NIBBLE(8);
        PNET_SUM_NIBBLE(12);
        PNET_SUM_NIBBLE(16);
        PNET_SUM_NIBBLE(20);
        PNET_SUM_NIBBLE(24);
        PNET_SUM_NIBBLE(28);
#undef PNET_SUM_NIBBLE
#else
        for (; j < 32; j += 4) {
            pos += (int32_t)xp[j] & -(int32_t)(h & 1u);
            pos += (int32_t)xp[j + 1] & -(int32_t)((h >> 1) & 1u);
            pos += (int32_t)xp[j + 2] & -(int32_t)((h >> 2) & 1u);
            pos += (int32_t)xp[j + 3] & -(int32_t)((h >> 3) & 1u);
            h >>= 4;
        }
#endif
        return pos;
    }
    for (; j < m; ++j) {
        pos += (int32_t)xp[j] & -(int32_t)(h & 1u);
        h >>= 1;
    }
    return pos;
}

/* Run BODY once for every set bit b < num_bits of the packed words `bits`, in increasing order
   (padding bits above num_bits are ignored). The portable first layers over bits use it. */
#define PNET_FOR_EACH_SET_BIT(bits, num_bits, b, BODY)                     \
    do {                                                                  \
        int32_t pnet_k_;                                                  \
        for (pnet_k_ = 0; pnet_k_ < (num_bits); pnet_k_ += 32) {          \
            uint32_t pnet_word_ = (bits)[pnet_k_ >> 5];                   \
            int32_t b = pnet_k_;                                          \
            while (pnet_word_ != 0u && b < (num_bits)) {                  \
                if (pnet_word_ & 1u) {                                    \
                    BODY                                                  \
                }                                                         \
                pnet_word_ >>= 1;                                         \
                ++b;                                                      \
            }                                                             \
        }                                                                 \
    } while (0)

/* The tail of an int8 layer: clamp(requantized + out_offset, act_min, act_max), as int8. Callers pass
   pnet_requantize(acc, mult, shift) themselves, so the kernel index (pnetc.codegen.render) sees the
   call. 64-bit add: requantize may return up to INT32_MAX before the clamp. */
static inline int8_t pnet_clamp_s8(int32_t requantized, int32_t out_offset, int32_t act_min, int32_t act_max)
{
    int64_t r = (int64_t)requantized + out_offset;
    if (r < act_min) {
        r = act_min;
    }
    if (r > act_max) {
        r = act_max;
    }
    return (int8_t)r;
}

/* The taps k in [*lo, *hi) of one window axis that land inside [0, size): i0 + k * dilation, k < k_n
   (an empty range gives *lo == *hi). Loops instead of a division, which Cortex-M0 would call libgcc for. */
static inline void pnet_window_axis(int32_t i0, int32_t dilation, int32_t size, int32_t k_n, int32_t *lo,
                                    int32_t *hi)
{
    int32_t a = 0;
    int32_t b = k_n;
    while (a < b && i0 + a * dilation < 0) {
        ++a;
    }
    while (b > a && i0 + (b - 1) * dilation >= size) {
        --b;
    }
    *lo = a;
    *hi = b;
}

/* The inside taps of output (oh, ow) of a conv/pool window (pnet.h): kernel rows kh in [kh_lo, kh_hi)
   read input row ih0 + kh * dilation_h, kernel columns kw in [kw_lo, kw_hi) read column
   iw0 + kw * dilation_w. Found once per output, so the kernels' tap loops need no bounds checks. */
typedef struct pnet_taps {
    int32_t ih0, iw0;
    int32_t kh_lo, kh_hi, kw_lo, kw_hi;
} pnet_taps;

static inline pnet_taps pnet_window_taps(const pnet_window *win, int32_t oh, int32_t ow)
{
    pnet_taps t;
    t.ih0 = oh * win->stride_h - win->pad_top;
    t.iw0 = ow * win->stride_w - win->pad_left;
    pnet_window_axis(t.ih0, win->dilation_h, win->in_h, win->k_h, &t.kh_lo, &t.kh_hi);
    pnet_window_axis(t.iw0, win->dilation_w, win->in_w, win->k_w, &t.kw_lo, &t.kw_hi);
    return t;
}

/* The divisor of an average pool at output (oh, ow): its inside taps, or with count_include_pad
   its taps inside the padded extent [-pad_top, in_h + pad_bottom) x [-pad_left, in_w + pad_right). */
static inline int32_t pnet_window_count(const pnet_window *win, int32_t oh, int32_t ow, int32_t count_include_pad)
{
    const int32_t top = count_include_pad ? win->pad_top : 0;
    const int32_t left = count_include_pad ? win->pad_left : 0;
    const int32_t ext_h = win->in_h + (count_include_pad ? win->pad_top + win->pad_bottom : 0);
    const int32_t ext_w = win->in_w + (count_include_pad ? win->pad_left + win->pad_right : 0);
    int32_t h_lo, h_hi, w_lo, w_hi;
    pnet_window_axis(oh * win->stride_h - win->pad_top + top, win->dilation_h, ext_h, win->k_h, &h_lo, &h_hi);
    pnet_window_axis(ow * win->stride_w - win->pad_left + left, win->dilation_w, ext_w, win->k_w, &w_lo, &w_hi);
    return (h_hi - h_lo) * (w_hi - w_lo);
}

/* y[j] = bias[j] (0 without a bias) plus the weight row (of `out` elements of type weight_t) of
   every set bit, added in increasing bit order: the portable first layer over bits, one body for
   the int32 (bitsum_s32.c) and float (bitsum_f32.c) accumulators. */
#define PNET_BITSUM_PORTABLE(weight_t, bits, num_bits, w, bias, out, y)          \
    do {                                                                        \
        int32_t pnet_j_;                                                        \
        for (pnet_j_ = 0; pnet_j_ < (out); ++pnet_j_) {                         \
            (y)[pnet_j_] = (bias) != NULL ? (bias)[pnet_j_] : 0;                \
        }                                                                       \
        PNET_FOR_EACH_SET_BIT(bits, num_bits, pnet_b_, {                        \
            const weight_t *pnet_row_ = (w) + (size_t)pnet_b_ * (size_t)(out);  \
            for (pnet_j_ = 0; pnet_j_ < (out); ++pnet_j_) {                     \
                (y)[pnet_j_] += pnet_row_[pnet_j_];                             \
            }                                                                   \
        });                                                                     \
    } while (0)

#if defined(PNET_SUPPORT_DSP)
/* bytes 1 and 3 of w, sign-extended to 16-bit lanes (SXTB16 with ROR #8: ACLE has no rotated
   form and gcc does not fold a separate rotate into it) */
static inline int32_t pnet_sxtb16_ror8(int32_t w)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(w));
    return r;
}

/* a + bytes 1 and 3 of w, sign-extended, per 16-bit lane */
static inline int32_t pnet_sxtab16_ror8(int32_t a, int32_t w)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(w));
    return r;
}

/* 4 bytes from p (unaligned-safe; one LDR on ARMv7) */
static inline int32_t pnet_load_s32(const void *p)
{
    int32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}
#endif

#endif /* PNET_SUPPORT_H */
