/* project_ternary.c - very sparse hashed projection to packed sign bits.
   Nonzero j of bit k is the 16-bit half (j & 1) of hash32(seed, k, j >> 1):
   index = ((half >> 1) * n) >> 15, sign = (half & 1) ? -1 : +1. Both halves of every hash are used. */
#include "pnet/pnet.h"

void pnet_project_ternary(const int16_t *x, int32_t n, uint32_t seed, int32_t num_bits, int32_t nnz,
                          uint32_t *bits)
{
    const uint32_t un = (uint32_t)n;
    const int32_t nwords = PNET_WORDS(num_bits);
    int32_t k;

    for (k = 0; k < nwords; ++k) {
        bits[k] = 0u;
    }
    for (k = 0; k < num_bits; ++k) {
        const uint32_t row = pnet_hash_row(seed, (uint32_t)k);
        int32_t acc = 0;
        int32_t j;
        uint32_t pair = 0u;
        for (j = 0; j < nnz; j += 2, ++pair) {
            const uint32_t h = pnet_fmix32(row ^ (pair * PNET_HASH_GOLDEN_B));
            uint32_t half = h & 0xFFFFu;
            int32_t v = x[((half >> 1) * un) >> 15];
            acc += (half & 1u) ? -v : v;
            if (j + 1 < nnz) {
                half = h >> 16;
                v = x[((half >> 1) * un) >> 15];
                acc += (half & 1u) ? -v : v;
            }
        }
        if (acc > 0) {
            bits[k >> 5] |= 1u << ((uint32_t)k & 31u);
        }
    }
}
