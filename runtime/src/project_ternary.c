/* project_ternary.c - very sparse hashed projection to packed sign bits.
   Nonzero j of bit k is the 16-bit half (j & 1) of hash32(seed, k, j >> 1):
   index = ((half >> 1) * n) >> 15, sign = (half & 1) ? -1 : +1. Both halves of every hash are used.

   The hash is inlined (fmix32 below equals pnet_fmix32 of hash.c; PNET_EXTERN_HASH calls hash.c). On Arm cores with the DSP
   extension (Cortex-M4/M7/M33/M55, ARMv7-A) one hash feeds both nonzeros through
     index = high word of ((half >> 1) * (n << 17))   (one UMULL; n < 32768)
     acc  += x[i0] * s0 + x[i1] * s1                  (SMLADs over the packed pair)
   with s * v = v - 2 * b * v for the sign bits b of both halves at once. Both give the exact integer sum of the spec;
   define PNET_PORTABLE to force the plain C path. */
#include "pnet/pnet.h"

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#define PNET_TERNARY_DSP 1
#include <arm_acle.h>
#endif

#define fmix32(h) PNET_FMIX32(h)
#define hash_row(seed, a) PNET_HASH_ROW(seed, a)

/* the signed value of nonzero `half` (16-bit half of a hash) */
static int32_t term(const int16_t *x, uint32_t un, uint32_t half)
{
    const int32_t v = x[((half >> 1) * un) >> 15];
    return (half & 1u) ? -v : v;
}

#if defined(PNET_TERNARY_DSP)
/* x[i0] | x[i1] << 16 for the two nonzeros of hash h: index = high word of (half >> 1) * (n << 17) */
static int32_t pair_of(const int16_t *x, uint32_t n17, uint32_t h)
{
    const uint32_t i0 = (uint32_t)(((uint64_t)((h & 0xFFFFu) >> 1) * n17) >> 32);
    const uint32_t i1 = (uint32_t)(((uint64_t)(h >> 17) * n17) >> 32);
    return (int32_t)(((uint32_t)(uint16_t)x[i0]) | ((uint32_t)(uint16_t)x[i1] << 16));
}

/* all bits for n < 32768, two nonzeros per hash: with sign bits b (0/1) in bit 0 and bit 16 of h,
   sum s*v = sum v - 2 * sum b*v, both sums one SMLAD over the packed pair. Bits are collected in
   a register and stored once per word. */
static void project_dsp(const int16_t *x, uint32_t n17, uint32_t seed, int32_t num_bits, int32_t nnz,
                        uint32_t *bits)
{
    const int32_t ones = 0x00010001;
    const uint32_t end = (uint32_t)(nnz >> 1) * PNET_HASH_GOLDEN_B; /* col after the last pair */
    uint32_t word = 0u;
    uint32_t ka = 0u; /* k * PNET_HASH_GOLDEN_A, wrapping */
    int32_t k;
    for (k = 0; k < num_bits; ++k, ka += PNET_HASH_GOLDEN_A) {
        const uint32_t row = fmix32(seed ^ ka);
        int32_t all = 0;      /* sum of v */
        int32_t negative = 0; /* sum of b * v */
        uint32_t col = 0u;    /* pair * PNET_HASH_GOLDEN_B, wrapping */
        for (; col != end; col += PNET_HASH_GOLDEN_B) {
            const uint32_t h = fmix32(row ^ col);
            const int32_t p = pair_of(x, n17, h);
            all = __smlad(p, ones, all);
            negative = __smlad(p, (int32_t)(h & 0x00010001u), negative);
        }
        if (nnz & 1) {
            const uint32_t h = fmix32(row ^ col);
            const int32_t v = x[(uint32_t)(((uint64_t)((h & 0xFFFFu) >> 1) * n17) >> 32)];
            all += v;
            negative += (h & 1u) ? v : 0;
        }
        word |= (uint32_t)(all - 2 * negative > 0) << ((uint32_t)k & 31u);
        if ((k & 31) == 31) {
            bits[k >> 5] = word;
            word = 0u;
        }
    }
    if (num_bits & 31) {
        bits[num_bits >> 5] = word;
    }
}
#endif

void pnet_project_ternary(const int16_t *x, int32_t n, uint32_t seed, int32_t num_bits, int32_t nnz,
                          uint32_t *bits)
{
    const uint32_t un = (uint32_t)n;
    const int32_t nwords = PNET_WORDS(num_bits);
    int32_t k;

#if defined(PNET_TERNARY_DSP)
    if (n < 32768) {
        project_dsp(x, un << 17, seed, num_bits, nnz, bits);
        return;
    }
#endif
    for (k = 0; k < nwords; ++k) {
        bits[k] = 0u;
    }
    for (k = 0; k < num_bits; ++k) {
        const uint32_t row = hash_row(seed, (uint32_t)k);
        int32_t acc = 0;
        {
            int32_t j;
            uint32_t col = 0u;
            for (j = 0; j < nnz; j += 2, col += PNET_HASH_GOLDEN_B) {
                const uint32_t h = fmix32(row ^ col);
                acc += term(x, un, h & 0xFFFFu);
                if (j + 1 < nnz) {
                    acc += term(x, un, h >> 16);
                }
            }
        }
        if (acc > 0) {
            bits[k >> 5] |= 1u << ((uint32_t)k & 31u);
        }
    }
}
