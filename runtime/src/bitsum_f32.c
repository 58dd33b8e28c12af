/* bitsum_f32.c - float first layer over {0,1} bits: y = bias + sum of the rows of set bits,
   added in increasing bit order (the numpy twin adds in the same order). */
#include "pnet/pnet.h"

void pnet_bitsum_f32(const uint32_t *bits, int32_t num_bits, const float *w, const float *bias, int32_t out,
                     float *y)
{
    int32_t j;
    int32_t k;

    for (j = 0; j < out; ++j) {
        y[j] = bias != NULL ? bias[j] : 0.0f;
    }
    for (k = 0; k < num_bits; k += 32) {
        uint32_t word = bits[k >> 5];
        int32_t b = k;
        while (word != 0u && b < num_bits) {
            if (word & 1u) {
                const float *row = w + (size_t)b * (size_t)out;
                for (j = 0; j < out; ++j) {
                    y[j] += row[j];
                }
            }
            word >>= 1;
            ++b;
        }
    }
}
