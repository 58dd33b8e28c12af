/* project_ternary_table.c - sparse projection with the nonzeros read from a flash table
   entries[num_bits][nnz], entry = index << 1 | (sign < 0). */
#include "pnet/pnet.h"

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
        int32_t j;
        for (j = 0; j < nnz; ++j) {
            const uint32_t v = e[j];
            const int32_t xv = x[v >> 1];
            acc += (v & 1u) ? -xv : xv;
        }
        if (acc > 0) {
            bits[k >> 5] |= 1u << ((uint32_t)k & 31u);
        }
    }
}
