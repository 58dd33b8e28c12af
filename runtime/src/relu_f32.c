/* relu_f32.c - in place max(x, 0). */
#include "pnet/pnet.h"

void pnet_relu_f32(float *x, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        if (!(x[i] > 0.0f)) {
            x[i] = 0.0f;
        }
    }
}
