/* Driver for requantize_s8.c. Case: i32 n, out_offset, act_min, act_max; i32 acc[n], mult[n], shift[n]
   -> i8 y[n]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t n = io_i32(), out_offset = io_i32(), act_min = io_i32(), act_max = io_i32();
        int32_t *acc = (int32_t *)io_take((size_t)n * 4u);
        int32_t *mult = (int32_t *)io_take((size_t)n * 4u);
        int32_t *shift = (int32_t *)io_take((size_t)n * 4u);
        int8_t *y = (int8_t *)malloc((size_t)n + 1u);
        pnet_requantize_s8(acc, n, mult, shift, out_offset, act_min, act_max, y);
        io_put(y, (size_t)n);
        free(acc); free(mult); free(shift); free(y);
    }
    return 0;
}
