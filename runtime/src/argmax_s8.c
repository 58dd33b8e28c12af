/* argmax_s8.c - index of the first maximum of int8 scores. */
#include "pnet/pnet.h"

int32_t pnet_argmax_s8(const int8_t *x, int32_t n)
{
    int32_t best = 0;
    int32_t i;
    for (i = 1; i < n; ++i) {
        if (x[i] > x[best]) {
            best = i;
        }
    }
    return best;
}
