/* bitsum_s32.c - first layer over {0,1} bits without multiplies: add the int8 weight row of
   every set bit. w is [num_bits][out], so each set bit reads one contiguous row.

   Portable path: one int32 add per (set bit, output).
   SIMD paths (selected by the compiler's feature macros; define PNET_PORTABLE to force the
   portable one): the set bits are gathered into chunks of at most PNET_BITSUM_CHUNK row
   pointers, then each block of outputs sums the chunk's rows in 16-bit lanes held in
   registers (|sum| <= 64 * 128 fits int16) and adds the block into the int32 accumulators.
   - Arm DSP (Cortex-M4/M7/M33/M55, ARMv7-A): SXTAB16 sign-extends two bytes and adds them to
     two 16-bit lanes in one instruction: 16 outputs of a row cost 4 loads + 8 SXTAB16.
   - NEON (AArch64): SADDW/SADDW2 widen-and-add 8 bytes per instruction.
   Integer addition is exact in any order, so every path gives the same int32 results. */
#include "pnet/pnet_support.h"

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#define PNET_BITSUM_DSP 1
#include <arm_acle.h>
#elif !defined(PNET_PORTABLE) && defined(__aarch64__) && defined(__ARM_NEON)
#define PNET_BITSUM_NEON 1
#include <arm_neon.h>
#endif

#if defined(PNET_BITSUM_DSP) || defined(PNET_BITSUM_NEON)

#define PNET_BITSUM_CHUNK 64 /* rows summed in int16 lanes before widening: 64 * 128 < 32768 */

/* sign-extended low / high 16-bit lane of a packed pair */
static int32_t lane_lo(int32_t v)
{
    return (int32_t)((uint32_t)v << 16) >> 16; /* Arm compilers: arithmetic shift, modular cast */
}

static int32_t lane_hi(int32_t v)
{
    return v >> 16;
}

#if defined(PNET_BITSUM_DSP)
static int32_t load_s32(const int8_t *p)
{
    int32_t v;
    __builtin_memcpy(&v, p, 4); /* unaligned-safe; one LDR on ARMv7 */
    return v;
}

/* SXTAB16 with ROR #8: adds bytes 1 and 3 of w to the two 16-bit lanes of a (ACLE has no
   rotated form and gcc does not fold a separate rotate into the instruction) */
static int32_t sxtab16_ror8(int32_t a, int32_t w)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(w));
    return r;
}
#endif

#if defined(PNET_BITSUM_DSP)
/* 16 weights at p into the eight lane-pair accumulators a0..a7 */
#define PNET_ADD16(p)                           \
    do {                                        \
        const int32_t w0 = load_s32(p);         \
        const int32_t w1 = load_s32((p) + 4);   \
        const int32_t w2 = load_s32((p) + 8);   \
        const int32_t w3 = load_s32((p) + 12);  \
        a0 = __sxtab16(a0, w0);                 \
        a1 = sxtab16_ror8(a1, w0);              \
        a2 = __sxtab16(a2, w1);                 \
        a3 = sxtab16_ror8(a3, w1);              \
        a4 = __sxtab16(a4, w2);                 \
        a5 = sxtab16_ror8(a5, w2);              \
        a6 = __sxtab16(a6, w3);                 \
        a7 = sxtab16_ror8(a7, w3);              \
    } while (0)
#endif

/* acc[j] += sum over the n rows of rows[i][j], j < out. aligned: every row is word-aligned. */
static void add_rows(const int8_t *const *rows, int32_t n, int32_t out, int32_t *acc, int aligned)
{
    int32_t j = 0;
    int32_t i;
    (void)aligned; /* used by the Thumb-2 path only */
#if defined(PNET_BITSUM_DSP)
    for (; j + 16 <= out; j += 16) {
        /* lane pairs: a0 = (j, j+2), a1 = (j+1, j+3), a2 = (j+4, j+6), ... */
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
        int32_t *const o = acc + j;
        const int8_t *const *r;
#if defined(__thumb2__)
        if (aligned) {
            /* word-aligned rows: two LDRDs (which fault on unaligned addresses) instead of four
               LDRs; written out because gcc runs out of registers to pair them itself */
            for (r = rows; r != rows + n; ++r) {
                const int8_t *const p = *r + j;
                int32_t t0, t1;
                __asm__("ldrd %[t0], %[t1], [%[p]]\n\t"
                        "sxtab16 %[a0], %[a0], %[t0]\n\t"
                        "sxtab16 %[a1], %[a1], %[t0], ror #8\n\t"
                        "sxtab16 %[a2], %[a2], %[t1]\n\t"
                        "sxtab16 %[a3], %[a3], %[t1], ror #8\n\t"
                        "ldrd %[t0], %[t1], [%[p], #8]\n\t"
                        "sxtab16 %[a4], %[a4], %[t0]\n\t"
                        "sxtab16 %[a5], %[a5], %[t0], ror #8\n\t"
                        "sxtab16 %[a6], %[a6], %[t1]\n\t"
                        "sxtab16 %[a7], %[a7], %[t1], ror #8"
                        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4),
                          [a5] "+r"(a5), [a6] "+r"(a6), [a7] "+r"(a7), [t0] "=&r"(t0), [t1] "=&r"(t1)
                        : [p] "r"(p));
            }
        } else
#endif
        {
            for (r = rows; r != rows + n; ++r) {
                const int8_t *const p = *r + j;
                PNET_ADD16(p);
            }
        }
        o[0] += lane_lo(a0);
        o[1] += lane_lo(a1);
        o[2] += lane_hi(a0);
        o[3] += lane_hi(a1);
        o[4] += lane_lo(a2);
        o[5] += lane_lo(a3);
        o[6] += lane_hi(a2);
        o[7] += lane_hi(a3);
        o[8] += lane_lo(a4);
        o[9] += lane_lo(a5);
        o[10] += lane_hi(a4);
        o[11] += lane_hi(a5);
        o[12] += lane_lo(a6);
        o[13] += lane_lo(a7);
        o[14] += lane_hi(a6);
        o[15] += lane_hi(a7);
    }
#else
    for (; j + 32 <= out; j += 32) {
        int16x8_t a0 = vdupq_n_s16(0), a1 = vdupq_n_s16(0), a2 = vdupq_n_s16(0), a3 = vdupq_n_s16(0);
        int32_t *const o = acc + j;
        for (i = 0; i < n; ++i) {
            const int8x16_t w0 = vld1q_s8(rows[i] + j);
            const int8x16_t w1 = vld1q_s8(rows[i] + j + 16);
            a0 = vaddw_s8(a0, vget_low_s8(w0));
            a1 = vaddw_high_s8(a1, w0);
            a2 = vaddw_s8(a2, vget_low_s8(w1));
            a3 = vaddw_high_s8(a3, w1);
        }
        vst1q_s32(o, vaddw_s16(vld1q_s32(o), vget_low_s16(a0)));
        vst1q_s32(o + 4, vaddw_high_s16(vld1q_s32(o + 4), a0));
        vst1q_s32(o + 8, vaddw_s16(vld1q_s32(o + 8), vget_low_s16(a1)));
        vst1q_s32(o + 12, vaddw_high_s16(vld1q_s32(o + 12), a1));
        vst1q_s32(o + 16, vaddw_s16(vld1q_s32(o + 16), vget_low_s16(a2)));
        vst1q_s32(o + 20, vaddw_high_s16(vld1q_s32(o + 20), a2));
        vst1q_s32(o + 24, vaddw_s16(vld1q_s32(o + 24), vget_low_s16(a3)));
        vst1q_s32(o + 28, vaddw_high_s16(vld1q_s32(o + 28), a3));
    }
    (void)lane_lo;
    (void)lane_hi;
#endif
    for (; j < out; ++j) {
        int32_t s = 0;
        for (i = 0; i < n; ++i) {
            s += rows[i][j];
        }
        acc[j] += s;
    }
}

void pnet_bitsum_s32(const uint32_t *bits, int32_t num_bits, const int8_t *w, const int32_t *bias, int32_t out,
                     int32_t *acc)
{
    const int8_t *rows[PNET_BITSUM_CHUNK];
    const int aligned = (((uintptr_t)(const void *)w | (uintptr_t)out) & 3u) == 0u;
    int32_t n = 0;
    int32_t j;
    int32_t k;

    for (j = 0; j < out; ++j) {
        acc[j] = bias != NULL ? bias[j] : 0;
    }
    for (k = 0; k < num_bits; k += 32) {
        uint32_t word = bits[k >> 5];
        const int32_t rest = num_bits - k;
        int32_t b = k;
        if (rest < 32) {
            word &= (1u << (uint32_t)rest) - 1u; /* padding bits are ignored */
        }
        while (word != 0u) {
            if (word & 1u) {
                rows[n++] = w + (size_t)b * (size_t)out;
                if (n == PNET_BITSUM_CHUNK) {
                    add_rows(rows, n, out, acc, aligned);
                    n = 0;
                }
            }
            word >>= 1;
            ++b;
        }
    }
    if (n > 0) {
        add_rows(rows, n, out, acc, aligned);
    }
}

#else /* portable C */

void pnet_bitsum_s32(const uint32_t *bits, int32_t num_bits, const int8_t *w, const int32_t *bias, int32_t out,
                     int32_t *acc)
{
    PNET_BITSUM_PORTABLE(int8_t, bits, num_bits, w, bias, out, acc);
}

#endif
