/* project_binary.c - dense +-1 hashed projection to packed sign bits.
   s_k(i) = +1 iff bit (i & 31) of hash32(seed, k, i >> 5) is set. Per bit k: one hash_row,
   one fmix32 per 32 inputs, and acc_k = 2 * sum(x[i] : s = +1) - sum(x), with sum(x) shared.
   The hash is inlined (equal to hash.c's; PNET_EXTERN_HASH calls hash.c instead). On Arm cores with
   the DSP extension each nibble of the hash selects 16-bit 0/1 lanes from a table and two SMLADs add
   the four inputs it covers (exact integer sums: the same bits; PNET_PORTABLE forces plain C). */
#include "pnet/pnet_support.h"

#define fmix32(h) PNET_FMIX32(h)
#define hash_row(seed, a) PNET_HASH_ROW(seed, a)

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
            pos += pnet_sum_set_s16(x + i, fmix32(row ^ (w * PNET_HASH_GOLDEN_B)), m);
        }
        if (2 * pos - total > 0) {
            bits[k >> 5] |= 1u << ((uint32_t)k & 31u);
        }
    }
}
