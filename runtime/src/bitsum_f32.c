/* bitsum_f32.c - float first layer over {0,1} bits: y = bias + sum of the rows of set bits,
   added in increasing bit order (the numpy twin adds in the same order). */
#include "pnet/pnet_support.h"

void pnet_bitsum_f32(const uint32_t *bits, int32_t num_bits, const float *w, const float *bias, int32_t out,
                     float *y)
{
    int32_t j;

    for (j = 0; j < out; ++j) {
        y[j] = bias != NULL ? bias[j] : 0.0f;
    }
    PNET_FOR_EACH_SET_BIT(bits, num_bits, b, {
        const float *row = w + (size_t)b * (size_t)out;
        for (j = 0; j < out; ++j) {
            y[j] += row[j];
        }
    });
}
