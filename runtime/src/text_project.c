/* text_project.c - text -> packed projection bits, streaming over pnet_text_next.
   s_k(f) = +1 iff bit (k & 31) of hash32(seed, k >> 5, f) is set: one hash per feature per 32 bits.
   acc counts the +1 signs; at the end acc_k = 2 * plus_k - total. O(len) time, O(1) memory. */
#include "pnet/pnet.h"

/* hash_row(seed, g) of the first groups, kept on the stack (512 bits); later groups recompute it. */
#define ROW_CACHE 16

int pnet_text_project(const uint8_t *text, size_t len, uint32_t seed, int32_t num_bits, int32_t char_max_n,
                      int32_t words, int32_t *acc, uint32_t *bits)
{
    pnet_text_iter it;
    uint32_t rows[ROW_CACHE];
    uint32_t f;
    int32_t total = 0;
    int32_t nwords;
    int32_t k;
    int32_t g;
    int rc;

    if (bits == NULL) {
        return PNET_ERR_NULL;
    }
    if (num_bits < 1) {
        return PNET_ERR_LENGTH;
    }
    nwords = PNET_WORDS(num_bits);
    for (k = 0; k < nwords; ++k) {
        bits[k] = 0u;
    }
    if (acc == NULL) {
        return PNET_ERR_NULL;
    }
    rc = pnet_text_begin(&it, text, len, char_max_n, words);
    if (rc != PNET_OK) {
        return rc;
    }
    for (k = 0; k < num_bits; ++k) {
        acc[k] = 0;
    }
    for (g = 0; g < nwords && g < ROW_CACHE; ++g) {
        rows[g] = pnet_hash_row(seed, (uint32_t)g);
    }
    while (pnet_text_next(&it, &f)) {
        const uint32_t fb = f * PNET_HASH_GOLDEN_B;
        total += 1;
        for (g = 0; g < nwords; ++g) {
            const uint32_t row = g < ROW_CACHE ? rows[g] : pnet_hash_row(seed, (uint32_t)g);
            uint32_t h = pnet_fmix32(row ^ fb);
            int32_t *a = acc + (size_t)g * 32u;
            const int32_t m = num_bits - 32 * g < 32 ? num_bits - 32 * g : 32;
            int32_t j;
            for (j = 0; j < m; ++j) {
                a[j] += (int32_t)(h & 1u);
                h >>= 1;
            }
        }
    }
    for (k = 0; k < num_bits; ++k) {
        acc[k] = 2 * acc[k] - total;
        if (acc[k] > 0) {
            bits[k >> 5] |= 1u << ((uint32_t)k & 31u);
        }
    }
    return PNET_OK;
}
