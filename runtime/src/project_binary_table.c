/* project_binary_table.c - dense +-1 projection with the signs read from a packed flash table
   sign_words[num_bits][ceil(n/32)] (bit set = +1). acc_k = 2 * sum(x : s = +1) - sum(x).
   The inner sum is pnet_sum_set_s16 (pnet_support.h), shared with project_binary.c. */
#include "pnet/pnet_support.h"

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
            pos += pnet_sum_set_s16(x + i, row[w], m);
        }
        if (2 * pos - total > 0) {
            bits[k >> 5] |= 1u << ((uint32_t)k & 31u);
        }
    }
}
