/* bitsum_s32.c - first layer over {0,1} bits without multiplies: add the int8 weight row of
   every set bit. w is [num_bits][out], so each set bit reads one contiguous row. */
#include "pnet/pnet.h"

void pnet_bitsum_s32(const uint32_t *bits, int32_t num_bits, const int8_t *w, const int32_t *bias, int32_t out,
                     int32_t *acc)
{
    int32_t j;
    int32_t k;

    for (j = 0; j < out; ++j) {
        acc[j] = bias != NULL ? bias[j] : 0;
    }
    for (k = 0; k < num_bits; k += 32) {
        uint32_t word = bits[k >> 5];
        int32_t b = k;
        while (word != 0u && b < num_bits) {
            if (word & 1u) {
                const int8_t *row = w + (size_t)b * (size_t)out;
                for (j = 0; j < out; ++j) {
                    acc[j] += row[j];
                }
            }
            word >>= 1;
            ++b;
        }
    }
}
