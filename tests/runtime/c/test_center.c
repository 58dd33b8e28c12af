/* Driver for center.c. Case: i32 n; u8 q[n]; i8 qs[n]; i16 mean[n] -> i16 center_u8[n], center_s8[n]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t n = io_i32();
        uint8_t *q = (uint8_t *)io_take((size_t)n);
        int8_t *qs = (int8_t *)io_take((size_t)n);
        int16_t *mean = (int16_t *)io_take((size_t)n * 2u);
        int16_t *x = (int16_t *)malloc((size_t)n * 2u + 2u);
        pnet_center_u8(q, mean, n, x);
        io_put(x, (size_t)n * 2u);
        pnet_center_s8(qs, mean, n, x);
        io_put(x, (size_t)n * 2u);
        free(q); free(qs); free(mean); free(x);
    }
    return 0;
}
