/* dense_s4.c - int8 fully connected layer with int4 weights, two per byte:
   y[j] = clamp(requantize(bias[j] + sum_i (x[i] + in_offset) * w[j][i]) + out_offset), w in -8..7.

   Layout (pnetc.kernels.pack_s4): each row is 4 bytes per group of 8 inputs (the last group padded
   with zero weights); byte k of a group holds input k in its low nibble and input k + 4 in its high
   nibble. Half the flash of int8 weights.

   Arm DSP path (Cortex-M4/M7/M33/M55, ARMv7-A; define PNET_PORTABLE for the plain C loop): one word
   is 8 weights. (word << 4) & 0xF0F0F0F0 puts inputs 0..3 and word & 0xF0F0F0F0 inputs 4..7 in the
   high nibble of each byte, i.e. each byte is 16 * w, so SXTB16 sign-extends two of them into 16-bit
   lanes with no shift; SMLAD then accumulates 16 * (x + in_offset) * w. The sum is a multiple of 16
   and |sum| <= 16 * 255 * 8 * in < 2^31 for in <= 2^15 (the compiler's limit), so dividing by 16
   at the end gives exactly the portable loop's sum. Two rows share the widened inputs. */
#include "pnet/pnet_support.h"

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#define PNET_DENSE_S4_DSP 1
#include <arm_acle.h>
#endif

/* weight i of a packed row, sign-extended */
static int32_t weight_at(const uint8_t *row, int32_t i)
{
    const uint32_t b = row[((i >> 3) << 2) | (i & 3)];
    const int32_t v = (int32_t)((i & 4) != 0 ? b >> 4 : b & 15u);
    return v >= 8 ? v - 16 : v;
}

/* sum_{i in [from, in)} (x[i] + in_offset) * w[i], one weight at a time */
static int32_t dot_tail(const int8_t *x, const uint8_t *row, int32_t from, int32_t in, int32_t in_offset)
{
    int32_t acc = 0;
    int32_t i;
    for (i = from; i < in; ++i) {
        acc += ((int32_t)x[i] + in_offset) * weight_at(row, i);
    }
    return acc;
}

#if defined(PNET_DENSE_S4_DSP)
/* acc + 16 * sum of 8 products: inputs widened to lanes (x0,x2) (x1,x3) (x4,x6) (x5,x7) */
static int32_t group8(int32_t acc, uint32_t v, int32_t x02, int32_t x13, int32_t x46, int32_t x57)
{
    const int32_t lo = (int32_t)((v << 4) & 0xF0F0F0F0u); /* 16 * w0..w3 */
    const int32_t hi = (int32_t)(v & 0xF0F0F0F0u);        /* 16 * w4..w7 */
    acc = __smlad(x02, __sxtb16(lo), acc);
    acc = __smlad(x13, pnet_sxtb16_ror8(lo), acc);
    acc = __smlad(x46, __sxtb16(hi), acc);
    return __smlad(x57, pnet_sxtb16_ror8(hi), acc);
}
#endif

void pnet_dense_s4(const int8_t *x, int32_t in, const uint8_t *w, const int32_t *bias, int32_t out,
                   int32_t in_offset, const int32_t *mult, const int32_t *shift, int32_t out_offset,
                   int32_t act_min, int32_t act_max, int8_t *y)
{
    const int32_t row_bytes = 4 * ((in + 7) / 8);
    const int32_t in8 = in & ~7;
    int32_t j = 0;
#if defined(PNET_DENSE_S4_DSP)
    const int32_t off2 = (int32_t)(((uint32_t)in_offset & 0xFFFFu) * 0x00010001u);
    for (; j + 2 <= out; j += 2) {
        const uint8_t *r0 = w + (size_t)j * (size_t)row_bytes;
        const uint8_t *r1 = r0 + row_bytes;
        int32_t a0 = 0, a1 = 0;
        int32_t i;
        for (i = 0; i < in8; i += 8) {
            const int32_t xa = pnet_load_s32(x + i), xb = pnet_load_s32(x + i + 4);
            const int32_t x02 = __sxtab16(off2, xa), x13 = pnet_sxtab16_ror8(off2, xa);
            const int32_t x46 = __sxtab16(off2, xb), x57 = pnet_sxtab16_ror8(off2, xb);
            a0 = group8(a0, (uint32_t)pnet_load_s32(r0 + i / 2), x02, x13, x46, x57);
            a1 = group8(a1, (uint32_t)pnet_load_s32(r1 + i / 2), x02, x13, x46, x57);
        }
        a0 = a0 / 16 + dot_tail(x, r0, in8, in, in_offset) + (bias != NULL ? bias[j] : 0);
        a1 = a1 / 16 + dot_tail(x, r1, in8, in, in_offset) + (bias != NULL ? bias[j + 1] : 0);
        y[j] = pnet_clamp_s8(pnet_requantize(a0, mult[j], shift[j]), out_offset, act_min, act_max);
        y[j + 1] = pnet_clamp_s8(pnet_requantize(a1, mult[j + 1], shift[j + 1]), out_offset, act_min, act_max);
    }
    for (; j < out; ++j) {
        const uint8_t *r0 = w + (size_t)j * (size_t)row_bytes;
        int32_t a0 = 0;
        int32_t i;
        for (i = 0; i < in8; i += 8) {
            const int32_t xa = pnet_load_s32(x + i), xb = pnet_load_s32(x + i + 4);
            a0 = group8(a0, (uint32_t)pnet_load_s32(r0 + i / 2), __sxtab16(off2, xa), pnet_sxtab16_ror8(off2, xa),
                        __sxtab16(off2, xb), pnet_sxtab16_ror8(off2, xb));
        }
        a0 = a0 / 16 + dot_tail(x, r0, in8, in, in_offset) + (bias != NULL ? bias[j] : 0);
        y[j] = pnet_clamp_s8(pnet_requantize(a0, mult[j], shift[j]), out_offset, act_min, act_max);
    }
#endif
    for (; j < out; ++j) {
        const uint8_t *row = w + (size_t)j * (size_t)row_bytes;
        int32_t acc = bias != NULL ? bias[j] : 0;
        int32_t g;
        for (g = 0; g < in8; g += 8) { /* a group: bytes k = 0..3 give inputs g + k and g + k + 4 */
            const uint8_t *b = row + g / 2;
            int32_t k;
            for (k = 0; k < 4; ++k) {
                const int32_t lo = (int32_t)(b[k] & 15u), hi = (int32_t)(b[k] >> 4);
                acc += ((int32_t)x[g + k] + in_offset) * (lo >= 8 ? lo - 16 : lo);
                acc += ((int32_t)x[g + k + 4] + in_offset) * (hi >= 8 ? hi - 16 : hi);
            }
        }
        acc += dot_tail(x, row, in8, in, in_offset);
        y[j] = pnet_clamp_s8(pnet_requantize(acc, mult[j], shift[j]), out_offset, act_min, act_max);
    }
}
