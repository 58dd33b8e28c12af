/* sigmoid_f32.c - in place 1 / (1 + expf(-x)). Needs libm. */
#include <math.h>

#include "pnet/pnet.h"

void pnet_sigmoid_f32(float *x, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        x[i] = 1.0f / (1.0f + expf(-x[i]));
    }
}
