/* bitsum_f32.c - float first layer over {0,1} bits: y = bias + sum of the rows of set bits,
   added in increasing bit order (the numpy twin adds in the same order). */
#include "pnet/pnet_support.h"

void pnet_bitsum_f32(const uint32_t *bits, int32_t num_bits, const float *w, const float *bias, int32_t out,
                     float *y)
{
    PNET_BITSUM_PORTABLE(float, bits, num_bits, w, bias, out, y);
}
