/* softmax_f32.c - in place softmax: subtract the max (no overflow), expf, sum in index order,
   divide. Needs libm. */
#include <math.h>

#include "pnet/pnet.h"

void pnet_softmax_f32(float *x, int32_t n)
{
    float mx;
    float sum = 0.0f;
    int32_t i;
    if (n <= 0) {
        return;
    }
    mx = x[0];
    for (i = 1; i < n; ++i) {
        if (x[i] > mx) {
            mx = x[i];
        }
    }
    for (i = 0; i < n; ++i) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    for (i = 0; i < n; ++i) {
        x[i] = x[i] / sum;
    }
}
