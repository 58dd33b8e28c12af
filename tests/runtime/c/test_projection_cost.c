/* Counts hash work in the projection kernels: this file replaces hash.c with counting copies of
   pnet_fmix32 / pnet_hash_row / pnet_hash32 (same results), runs one kernel per case and prints
   the counts. Case: i32 kind (0 binary, 1 ternary, 2 text, 3 text presence with nnz hashes); i32 n,
   num_bits, nnz; then i16 x[n] (kinds 0, 1) or bytes[n] (kinds 2, 3) -> u32 fmix_calls, row_calls,
   hash32_calls. */
#include "driver_io.h"
#include "pnet/pnet.h"

static uint32_t n_fmix, n_row, n_hash32;

static uint32_t mix(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

uint32_t pnet_fmix32(uint32_t h) { ++n_fmix; return mix(h); }
uint32_t pnet_hash_row(uint32_t seed, uint32_t a) { ++n_row; return mix(seed ^ (a * PNET_HASH_GOLDEN_A)); }
uint32_t pnet_hash32(uint32_t seed, uint32_t a, uint32_t b)
{
    ++n_hash32;
    return mix(mix(seed ^ (a * PNET_HASH_GOLDEN_A)) ^ (b * PNET_HASH_GOLDEN_B));
}

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t kind = io_i32(), n = io_i32(), num_bits = io_i32(), nnz = io_i32();
        uint32_t *bits = (uint32_t *)malloc(io_words(num_bits) * 4u);
        uint32_t counts[3];
        n_fmix = n_row = n_hash32 = 0;
        if (kind == 2) {
            char *text = (char *)io_take((size_t)n);
            int32_t *acc = (int32_t *)malloc((size_t)num_bits * 4u);
            if (pnet_text_project((const uint8_t *)text, (size_t)n, 7u, num_bits, 3, 1, acc, bits) != PNET_OK) return 5;
            free(text); free(acc);
        } else if (kind == 3) {
            char *text = (char *)io_take((size_t)n);
            if (pnet_text_presence((const uint8_t *)text, (size_t)n, 7u, num_bits, nnz, 3, 1, bits) != PNET_OK) return 5;
            free(text);
        } else {
            int16_t *x = (int16_t *)io_take((size_t)n * 2u);
            if (kind == 0) pnet_project_binary(x, n, 7u, num_bits, bits);
            else pnet_project_ternary(x, n, 7u, num_bits, nnz, bits);
            free(x);
        }
        counts[0] = n_fmix; counts[1] = n_row; counts[2] = n_hash32;
        io_put(counts, sizeof counts);
        free(bits);
    }
    return 0;
}
