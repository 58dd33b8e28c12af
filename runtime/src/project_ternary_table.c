/* project_ternary_table.c - sparse projection with the nonzeros read from a flash table
   entries[num_bits][nnz], entry = index << 1 | (sign < 0).
   Arm DSP path (define PNET_PORTABLE for the C loop): two entries per 32-bit load, the two
   values packed into 16-bit lanes and signed through two SMLADs, sum s*v = sum v - 2 * sum b*v
   (b = sign bit, bits 0 and 16 of the entry pair): exact integer sums, the same bits. */
#include "pnet/pnet.h"

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#define PNET_TTABLE_DSP 1
#include <arm_acle.h>
#endif

void pnet_project_ternary_table(const int16_t *x, const uint16_t *entries, int32_t num_bits, int32_t nnz,
                                uint32_t *bits)
{
    const int32_t nwords = PNET_WORDS(num_bits);
    int32_t k;

    for (k = 0; k < nwords; ++k) {
        bits[k] = 0u;
    }
    for (k = 0; k < num_bits; ++k) {
        const uint16_t *e = entries + (size_t)k * (size_t)nnz;
        int32_t acc = 0;
        int32_t j = 0;
#if defined(PNET_TTABLE_DSP)
        int32_t all = 0;      /* sum of v */
        int32_t negative = 0; /* sum of b * v */
        for (; j + 2 <= nnz; j += 2) {
            uint32_t pair;
            __builtin_memcpy(&pair, e + j, 4); /* entries j, j+1; one LDR on ARMv7 */
            {
                const uint32_t v0 = (uint16_t)x[(pair & 0xFFFFu) >> 1];
                const uint32_t v1 = (uint16_t)x[pair >> 17];
                const int32_t p = (int32_t)(v0 | (v1 << 16));
                all = __smlad(p, 0x00010001, all);
                negative = __smlad(p, (int32_t)(pair & 0x00010001u), negative);
            }
        }
        acc = all - 2 * negative;
#endif
        for (; j < nnz; ++j) {
            const uint32_t v = e[j];
            const int32_t xv = x[v >> 1];
            acc += (v & 1u) ? -xv : xv;
        }
        if (acc > 0) {
            bits[k >> 5] |= 1u << ((uint32_t)k & 31u);
        }
    }
}
