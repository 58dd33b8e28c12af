/* dense_s8.c - int8 fully connected layer, TFLite/CMSIS-NN convention:
   y[j] = clamp(requantize(bias[j] + sum_i (x[i] + in_offset) * w[j][i]) + out_offset). w is [out][in].

   Arm DSP path (Cortex-M4/M7/M33/M55, ARMv7-A; define PNET_PORTABLE for the plain C loop): three
   rows at a time (Thumb-2), then pairs, then single rows, four inputs per step. The inputs are
   widened once per step and shared by the rows: SXTAB16 adds in_offset while it sign-extends bytes
   (0, 2) and (1, 3) of x into 16-bit lanes (|x + in_offset| <= 255), each row's word of weights is
   split the same way by SXTB16, and two SMLADs do its four multiply-accumulates: 21 instructions
   per 12 MACs in the three-row loop. NEON (AArch64): 16 inputs by four rows per step (SADDW,
   SXTL, SMLAL). Integer sums: identical results to the C loop. */
#include "pnet/pnet_support.h"

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#define PNET_DENSE_DSP 1
#include <arm_acle.h>
#elif !defined(PNET_PORTABLE) && defined(__aarch64__) && defined(__ARM_NEON)
#define PNET_DENSE_NEON 1
#include <arm_neon.h>
#endif

void pnet_dense_s8(const int8_t *x, int32_t in, const int8_t *w, const int32_t *bias, int32_t out,
                   int32_t in_offset, const int32_t *mult, const int32_t *shift, int32_t out_offset,
                   int32_t act_min, int32_t act_max, int8_t *y)
{
    int32_t j = 0;
#if defined(PNET_DENSE_DSP)
    const int32_t in4 = in & ~3;
    /* in_offset in both 16-bit lanes */
    const int32_t off2 = (int32_t)(((uint32_t)in_offset & 0xFFFFu) * 0x00010001u);
#if defined(__thumb2__)
    for (; j + 3 <= out && out - j != 4; j += 3) { /* 4 rows left: two pairs */
        /* rows j, j+1, j+2 at p, p + in, p + 2 * in. Written out: gcc spills the accumulators
           (23 instead of 20 instructions per 12 MACs); four rows need more registers than the
           13 that gcc lets an asm statement have. */
        const int8_t *p = w + (size_t)j * (size_t)in;
        const int8_t *xp = x;
        const int8_t *const xend = x + in4;
        const int32_t in2 = 2 * in;
        int32_t a0 = bias != NULL ? bias[j] : 0;
        int32_t a1 = bias != NULL ? bias[j + 1] : 0;
        int32_t a2 = bias != NULL ? bias[j + 2] : 0;
        int32_t i;
        if (in4 > 0) {
            int32_t x02, x13, wv, t;
            __asm__("1:\n\t"
                    "ldr %[t], [%[xp]], #4\n\t"
                    "sxtab16 %[x02], %[off], %[t]\n\t"
                    "sxtab16 %[x13], %[off], %[t], ror #8\n\t"
                    "ldr %[wv], [%[p], %[in]]\n\t"
                    "sxtb16 %[t], %[wv]\n\t"
                    "smlad %[a1], %[x02], %[t], %[a1]\n\t"
                    "sxtb16 %[t], %[wv], ror #8\n\t"
                    "smlad %[a1], %[x13], %[t], %[a1]\n\t"
                    "ldr %[wv], [%[p], %[in2]]\n\t"
                    "sxtb16 %[t], %[wv]\n\t"
                    "smlad %[a2], %[x02], %[t], %[a2]\n\t"
                    "sxtb16 %[t], %[wv], ror #8\n\t"
                    "smlad %[a2], %[x13], %[t], %[a2]\n\t"
                    "ldr %[wv], [%[p]], #4\n\t"
                    "sxtb16 %[t], %[wv]\n\t"
                    "smlad %[a0], %[x02], %[t], %[a0]\n\t"
                    "sxtb16 %[t], %[wv], ror #8\n\t"
                    "smlad %[a0], %[x13], %[t], %[a0]\n\t"
                    "ldr %[t], %[xend]\n\t"
                    "cmp %[xp], %[t]\n\t"
                    "bne 1b"
                    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [xp] "+r"(xp), [p] "+r"(p),
                      [x02] "=&r"(x02), [x13] "=&r"(x13), [wv] "=&r"(wv), [t] "=&r"(t)
                    : [in] "r"(in), [in2] "r"(in2), [off] "r"(off2), [xend] "m"(xend)
                    : "cc");
        }
        for (i = in4; i < in; ++i, ++p) {
            const int32_t xi = (int32_t)x[i] + in_offset;
            a0 += xi * (int32_t)p[0];
            a1 += xi * (int32_t)p[in];
            a2 += xi * (int32_t)p[in2];
        }
        y[j] = pnet_clamp_s8(pnet_requantize(a0, mult[j], shift[j]), out_offset, act_min, act_max);
        y[j + 1] = pnet_clamp_s8(pnet_requantize(a1, mult[j + 1], shift[j + 1]), out_offset, act_min, act_max);
        y[j + 2] = pnet_clamp_s8(pnet_requantize(a2, mult[j + 2], shift[j + 2]), out_offset, act_min, act_max);
    }
#endif
    for (; j + 2 <= out; j += 2) {
        const int8_t *r0 = w + (size_t)j * (size_t)in;
        const int8_t *r1 = r0 + in;
        int32_t a0 = bias != NULL ? bias[j] : 0;
        int32_t a1 = bias != NULL ? bias[j + 1] : 0;
        int32_t i;
        for (i = 0; i < in4; i += 4) {
            const int32_t xv = pnet_load_s32(x + i);
            const int32_t x02 = __sxtab16(off2, xv);
            const int32_t x13 = pnet_sxtab16_ror8(off2, xv);
            const int32_t w0 = pnet_load_s32(r0 + i);
            const int32_t w1 = pnet_load_s32(r1 + i);
            a0 = __smlad(x02, __sxtb16(w0), a0);
            a0 = __smlad(x13, pnet_sxtb16_ror8(w0), a0);
            a1 = __smlad(x02, __sxtb16(w1), a1);
            a1 = __smlad(x13, pnet_sxtb16_ror8(w1), a1);
        }
        for (; i < in; ++i) {
            const int32_t xi = (int32_t)x[i] + in_offset;
            a0 += xi * (int32_t)r0[i];
            a1 += xi * (int32_t)r1[i];
        }
        y[j] = pnet_clamp_s8(pnet_requantize(a0, mult[j], shift[j]), out_offset, act_min, act_max);
        y[j + 1] = pnet_clamp_s8(pnet_requantize(a1, mult[j + 1], shift[j + 1]), out_offset, act_min, act_max);
    }
    for (; j < out; ++j) {
        const int8_t *const r0 = w + (size_t)j * (size_t)in;
        int32_t a0 = bias != NULL ? bias[j] : 0;
        int32_t i;
        for (i = 0; i < in4; i += 4) {
            const int32_t xv = pnet_load_s32(x + i);
            const int32_t w0 = pnet_load_s32(r0 + i);
            a0 = __smlad(__sxtab16(off2, xv), __sxtb16(w0), a0);
            a0 = __smlad(pnet_sxtab16_ror8(off2, xv), pnet_sxtb16_ror8(w0), a0);
        }
        for (; i < in; ++i) {
            a0 += ((int32_t)x[i] + in_offset) * (int32_t)r0[i];
        }
        y[j] = pnet_clamp_s8(pnet_requantize(a0, mult[j], shift[j]), out_offset, act_min, act_max);
    }
#elif defined(PNET_DENSE_NEON)
    /* 16 inputs per step, widened once to int16 with in_offset added (SADDW) and shared by four
       rows; each row's 16 weights are widened (SXTL) and multiplied into int32 lanes (SMLAL):
       products |x + in_offset| * |w| <= 255 * 128 fit int16 operands, sums are exact int32. */
    const int32_t in16 = in & ~15;
    const int16x8_t off8 = vdupq_n_s16((int16_t)in_offset);
#define PNET_ROW16(acc, row)                                                  \
    do {                                                                      \
        const int8x16_t wv = vld1q_s8((row) + i);                             \
        const int16x8_t wl = vmovl_s8(vget_low_s8(wv));                       \
        const int16x8_t wh = vmovl_high_s8(wv);                               \
        acc = vmlal_s16(acc, vget_low_s16(xl), vget_low_s16(wl));             \
        acc = vmlal_high_s16(acc, xl, wl);                                    \
        acc = vmlal_s16(acc, vget_low_s16(xh), vget_low_s16(wh));             \
        acc = vmlal_high_s16(acc, xh, wh);                                    \
    } while (0)
    while (j < out) {
        const int32_t rows = out - j >= 4 ? 4 : 1;
        const int8_t *const r0 = w + (size_t)j * (size_t)in;
        const int8_t *const r1 = rows == 4 ? r0 + in : r0; /* no pointer past the matrix */
        const int8_t *const r2 = rows == 4 ? r1 + in : r0;
        const int8_t *const r3 = rows == 4 ? r2 + in : r0;
        int32x4_t s0 = vdupq_n_s32(0), s1 = vdupq_n_s32(0), s2 = vdupq_n_s32(0), s3 = vdupq_n_s32(0);
        int32_t r;
        int32_t i;
        for (i = 0; i < in16; i += 16) {
            const int8x16_t xv = vld1q_s8(x + i);
            const int16x8_t xl = vaddw_s8(off8, vget_low_s8(xv));
            const int16x8_t xh = vaddw_high_s8(off8, xv);
            PNET_ROW16(s0, r0);
            if (rows == 4) {
                PNET_ROW16(s1, r1);
                PNET_ROW16(s2, r2);
                PNET_ROW16(s3, r3);
            }
        }
        for (r = 0; r < rows; ++r) {
            const int8_t *const row = r0 + (size_t)r * (size_t)in;
            const int32x4_t sr = r == 0 ? s0 : r == 1 ? s1 : r == 2 ? s2 : s3;
            int32_t acc = (bias != NULL ? bias[j + r] : 0) + vaddvq_s32(sr);
            int32_t k;
            for (k = in16; k < in; ++k) {
                acc += ((int32_t)x[k] + in_offset) * (int32_t)row[k];
            }
            y[j + r] = pnet_clamp_s8(pnet_requantize(acc, mult[j + r], shift[j + r]), out_offset, act_min, act_max);
        }
        j += rows;
    }
#undef PNET_ROW16
#endif
    for (; j < out; ++j) {
        const int8_t *row = w + (size_t)j * (size_t)in;
        int32_t acc = bias != NULL ? bias[j] : 0;
        int32_t i;
        for (i = 0; i < in; ++i) {
            acc += ((int32_t)x[i] + in_offset) * (int32_t)row[i];
        }
        y[j] = pnet_clamp_s8(pnet_requantize(acc, mult[j], shift[j]), out_offset, act_min, act_max);
    }
}
