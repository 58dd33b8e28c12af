/* dense_f32.c - float fully connected layer, w is [out][in]; the dot product runs in index
   order from 0.0f and the bias is added last, so the numpy twin can follow the same order. */
#include "pnet/pnet.h"

void pnet_dense_f32(const float *x, int32_t in, const float *w, const float *bias, int32_t out, float *y)
{
    int32_t j;
    for (j = 0; j < out; ++j) {
        const float *row = w + (size_t)j * (size_t)in;
        float acc = 0.0f;
        int32_t i;
        for (i = 0; i < in; ++i) {
            acc += x[i] * row[i];
        }
        y[j] = acc + (bias != NULL ? bias[j] : 0.0f);
    }
}
