/* lut_s8.c - any int8 -> int8 activation as a 256-entry table, in place. */
#include "pnet/pnet.h"

void pnet_lut_s8(int8_t *x, int32_t n, const int8_t *lut)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        x[i] = lut[(int32_t)x[i] + 128];
    }
}
