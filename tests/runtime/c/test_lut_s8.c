/* Driver for lut_s8.c. Case: i32 n; i8 lut[256]; i8 x[n] -> i8 y[n]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t n = io_i32();
        int8_t *lut = (int8_t *)io_take(256u);
        int8_t *x = (int8_t *)io_take((size_t)n);
        pnet_lut_s8(x, n, lut);
        io_put(x, (size_t)n);
        free(lut); free(x);
    }
    return 0;
}
