/* requantize_s8.c - int32 accumulators -> int8 with per-channel multiplier/shift, output offset
   and activation clamp (the tail of every int8 layer). */
#include "pnet/pnet.h"

void pnet_requantize_s8(const int32_t *acc, int32_t n, const int32_t *mult, const int32_t *shift,
                        int32_t out_offset, int32_t act_min, int32_t act_max, int8_t *y)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        /* 64-bit add: requantize may return up to INT32_MAX before the clamp */
        int64_t r = (int64_t)pnet_requantize(acc[i], mult[i], shift[i]) + out_offset;
        if (r < act_min) {
            r = act_min;
        }
        if (r > act_max) {
            r = act_max;
        }
        y[i] = (int8_t)r;
    }
}
