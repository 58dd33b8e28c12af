/* argmax_f32.c - index of the first maximum of float scores (strict >, so ties keep the first). */
#include "pnet/pnet.h"

int32_t pnet_argmax_f32(const float *x, int32_t n)
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
