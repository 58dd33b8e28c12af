/* dense_s8.c - int8 fully connected layer, TFLite/CMSIS-NN convention:
   y[j] = clamp(requantize(bias[j] + sum_i (x[i] + in_offset) * w[j][i]) + out_offset). w is [out][in]. */
#include "pnet/pnet.h"

void pnet_dense_s8(const int8_t *x, int32_t in, const int8_t *w, const int32_t *bias, int32_t out,
                   int32_t in_offset, const int32_t *mult, const int32_t *shift, int32_t out_offset,
                   int32_t act_min, int32_t act_max, int8_t *y)
{
    int32_t j;
    for (j = 0; j < out; ++j) {
        const int8_t *row = w + (size_t)j * (size_t)in;
        int32_t acc = bias != NULL ? bias[j] : 0;
        int64_t r;
        int32_t i;
        for (i = 0; i < in; ++i) {
            acc += ((int32_t)x[i] + in_offset) * (int32_t)row[i];
        }
        r = (int64_t)pnet_requantize(acc, mult[j], shift[j]) + out_offset;
        if (r < act_min) {
            r = act_min;
        }
        if (r > act_max) {
            r = act_max;
        }
        y[j] = (int8_t)r;
    }
}
