/* project_binary.c - dense +-1 hashed projection to packed sign bits.
   s_k(i) = +1 iff bit (i & 31) of hash32(seed, k, i >> 5) is set. Per bit k: one hash_row,
   one fmix32 per 32 inputs, and acc_k = 2 * sum(x[i] : s = +1) - sum(x), with sum(x) shared.
   The hash is inlined (equal to hash.c's; PNET_EXTERN_HASH calls hash.c instead). On Arm cores with
   the DSP extension each nibble of the hash selects 16-bit 0/1 lanes from a table and two SMLADs add
   the four inputs it covers (exact integer sums: the same bits; PNET_PORTABLE forces plain C). */
#include "pnet/pnet.h"

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#define PNET_BINARY_DSP 1
#include <arm_acle.h>
#endif

#define fmix32(h) PNET_FMIX32(h)
#define hash_row(seed, a) PNET_HASH_ROW(seed, a)

#if defined(PNET_BINARY_DSP)
/* 16-bit lanes (bit 0, bit 1) and (bit 2, bit 3) of every nibble: SMLAD of an (x[j], x[j+1]) pair
   with them adds the x of the set bits */
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

#define PNET_NIBBLE(j)                                                        \
    do {                                                                      \
        const int32_t *const lanes = nibble_lanes[(h >> (j)) & 15u];             \
        pos = __smlad(load_s32(xp + (j)), lanes[0], pos);                      \
        pos = __smlad(load_s32(xp + (j) + 2), lanes[1], pos);                  \
    } while (0)
#endif

/* sum of xp[j] over the set bits j of h (bit j <-> xp[j]), branch-free; m <= 32 inputs.
   Full words go four at a time (about 7 Thumb-1 instructions per input on Cortex-M0). */
static int32_t sum_plus(const int16_t *xp, uint32_t h, int32_t m)
{
    int32_t pos = 0;
    int32_t j = 0;
    if (m == 32) {
#if defined(PNET_BINARY_DSP)
        /* 4 inputs: one nibble lookup, two loads, two SMLADs */
        PNET_NIBBLE(0);
        PNET_NIBBLE(4);
        PNET_NIBBLE(8);
        PNET_NIBBLE(12);
        PNET_NIBBLE(16);
        PNET_NIBBLE(20);
        PNET_NIBBLE(24);
        PNET_NIBBLE(28);
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

void pnet_project_binary(const int16_t *x, int32_t n, uint32_t seed, int32_t num_bits, uint32_t *bits)
{
    int32_t total = 0;
    int32_t i;
    int32_t k;
    const int32_t nwords = PNET_WORDS(num_bits);

    for (i = 0; i < n; ++i) {
        total += x[i];
    }
    for (k = 0; k < nwords; ++k) {
        bits[k] = 0u;
    }
    for (k = 0; k < num_bits; ++k) {
        const uint32_t row = hash_row(seed, (uint32_t)k);
        int32_t pos = 0;
        uint32_t w = 0u;
        for (i = 0; i < n; i += 32, ++w) {
            const int32_t m = n - i < 32 ? n - i : 32;
            pos += sum_plus(x + i, fmix32(row ^ (w * PNET_HASH_GOLDEN_B)), m);
        }
        if (2 * pos - total > 0) {
            bits[k >> 5] |= 1u << ((uint32_t)k & 31u);
        }
    }
}
