/* project_binary_table.c - dense +-1 projection with the signs read from a packed flash table
   sign_words[num_bits][ceil(n/32)] (bit set = +1). acc_k = 2 * sum(x : s = +1) - sum(x).
   Arm DSP path (PNET_PORTABLE forces plain C): each nibble of a sign word picks 16-bit 0/1 lanes
   from a table and two SMLADs add its four inputs, as in project_binary.c. */
#include "pnet/pnet.h"

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#define PNET_BTABLE_DSP 1
#include <arm_acle.h>

/* as in project_binary.c: 16-bit 0/1 lanes (bit 0, bit 1), (bit 2, bit 3) of every nibble */
static const int32_t nibble_lanes[16][2] = {
    {0x00000, 0x00000}, {0x00001, 0x00000}, {0x10000, 0x00000}, {0x10001, 0x00000},
    {0x00000, 0x00001}, {0x00001, 0x00001}, {0x10000, 0x00001}, {0x10001, 0x00001},
    {0x00000, 0x10000}, {0x00001, 0x10000}, {0x10000, 0x10000}, {0x10001, 0x10000},
    {0x00000, 0x10001}, {0x00001, 0x10001}, {0x10000, 0x10001}, {0x10001, 0x10001},
};

static int32_t load_s32(const int16_t *p)
{
    int32_t v;
    __builtin_memcpy(&v, p, 4); /* x[j] | x[j+1] << 16; one LDR on ARMv7 */
    return v;
}
#endif

/* sum of xp[j] over the set bits j of h (bit j <-> xp[j]), branch-free; m <= 32 inputs.
   Full words go four at a time (about 7 Thumb-1 instructions per input on Cortex-M0). */
static int32_t sum_plus(const int16_t *xp, uint32_t h, int32_t m)
{
    int32_t pos = 0;
    int32_t j = 0;
    if (m == 32) {
#if defined(PNET_BTABLE_DSP)
        /* 4 inputs per nibble: one table lookup, two loads, two SMLADs */
        for (; j < 32; j += 4) {
            const int32_t *const lanes = nibble_lanes[(h >> j) & 15u];
            pos = __smlad(load_s32(xp + j), lanes[0], pos);
            pos = __smlad(load_s32(xp + j + 2), lanes[1], pos);
        }
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

void pnet_project_binary_table(const int16_t *x, int32_t n, const uint32_t *sign_words, int32_t num_bits,
                               uint32_t *bits)
{
    const int32_t in_words = PNET_WORDS(n);
    const int32_t nwords = PNET_WORDS(num_bits);
    int32_t total = 0;
    int32_t i;
    int32_t k;

    for (i = 0; i < n; ++i) {
        total += x[i];
    }
    for (k = 0; k < nwords; ++k) {
        bits[k] = 0u;
    }
    for (k = 0; k < num_bits; ++k) {
        const uint32_t *row = sign_words + (size_t)k * (size_t)in_words;
        int32_t pos = 0;
        int32_t w = 0;
        for (i = 0; i < n; i += 32, ++w) {
            const int32_t m = n - i < 32 ? n - i : 32;
            pos += sum_plus(x + i, row[w], m);
        }
        if (2 * pos - total > 0) {
            bits[k >> 5] |= 1u << ((uint32_t)k & 31u);
        }
    }
}
