/* tanh_f32.c - in place tanhf. Needs libm. */
#include <math.h>

#include "pnet/pnet.h"

void pnet_tanh_f32(float *x, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        x[i] = tanhf(x[i]);
    }
}
