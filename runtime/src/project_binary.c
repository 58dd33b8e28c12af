/* project_binary.c - dense +-1 hashed projection to packed sign bits.
   s_k(i) = +1 iff bit (i & 31) of hash32(seed, k, i >> 5) is set. Per bit k: one hash_row,
   one fmix32 per 32 inputs, and acc_k = 2 * sum(x[i] : s = +1) - sum(x), with sum(x) shared. */
#include "pnet/pnet.h"

/* sum of xp[j] over the set bits j of h (bit j <-> xp[j]), branch-free; m <= 32 inputs.
   Full words go four at a time (about 7 Thumb-1 instructions per input on Cortex-M0). */
static int32_t sum_plus(const int16_t *xp, uint32_t h, int32_t m)
{
    int32_t pos = 0;
    int32_t j = 0;
    if (m == 32) {
        for (; j < 32; j += 4) {
            pos += (int32_t)xp[j] & -(int32_t)(h & 1u);
            pos += (int32_t)xp[j + 1] & -(int32_t)((h >> 1) & 1u);
            pos += (int32_t)xp[j + 2] & -(int32_t)((h >> 2) & 1u);
            pos += (int32_t)xp[j + 3] & -(int32_t)((h >> 3) & 1u);
            h >>= 4;
        }
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
        const uint32_t row = pnet_hash_row(seed, (uint32_t)k);
        int32_t pos = 0;
        uint32_t w = 0u;
        for (i = 0; i < n; i += 32, ++w) {
            const int32_t m = n - i < 32 ? n - i : 32;
            pos += sum_plus(x + i, pnet_fmix32(row ^ (w * PNET_HASH_GOLDEN_B)), m);
        }
        if (2 * pos - total > 0) {
            bits[k >> 5] |= 1u << ((uint32_t)k & 31u);
        }
    }
}
