/* center.c - x[i] = q[i] - mean[i]: the projection's exact integer input. */
#include "pnet/pnet.h"

void pnet_center_u8(const uint8_t *q, const int16_t *mean, int32_t n, int16_t *x)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        x[i] = (int16_t)((int32_t)q[i] - (int32_t)mean[i]);
    }
}

void pnet_center_s8(const int8_t *q, const int16_t *mean, int32_t n, int16_t *x)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        x[i] = (int16_t)((int32_t)q[i] - (int32_t)mean[i]);
    }
}
