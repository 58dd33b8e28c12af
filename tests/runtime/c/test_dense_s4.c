/* Driver for dense_s4.c. Case: i32 in, out, has_bias, in_offset, out_offset, act_min, act_max;
   i8 x[in]; u8 w[out][4 * ceil(in / 8)] (packed int4); i32 bias[out] if has_bias; i32 mult[out]; i32 shift[out] -> i8 y[out]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t in = io_i32(), out = io_i32(), has_bias = io_i32(), in_offset = io_i32();
        int32_t out_offset = io_i32(), act_min = io_i32(), act_max = io_i32();
        int8_t *x = (int8_t *)io_take((size_t)in);
        uint8_t *w = (uint8_t *)io_take((size_t)(4 * ((in + 7) / 8)) * (size_t)out);
        int32_t *bias = has_bias ? (int32_t *)io_take((size_t)out * 4u) : NULL;
        int32_t *mult = (int32_t *)io_take((size_t)out * 4u);
        int32_t *shift = (int32_t *)io_take((size_t)out * 4u);
        int8_t *y = (int8_t *)malloc((size_t)out + 1u);
        pnet_dense_s4(x, in, w, bias, out, in_offset, mult, shift, out_offset, act_min, act_max, y);
        io_put(y, (size_t)out);
        free(x); free(w); free(bias); free(mult); free(shift); free(y);
    }
    return 0;
}
