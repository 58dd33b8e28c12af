/* Driver for conv2d_s8.c. Case: i32 in_c, out_c, has_bias, in_offset, out_offset, act_min, act_max;
   window (14 i32); i8 x[in_c][in_h][in_w]; i8 w[out_c][in_c][k_h][k_w]; i32 bias[out_c] if has_bias;
   i32 mult[out_c]; i32 shift[out_c] -> i8 y[out_c][out_h][out_w]. */
#include "window_io.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t in_c = io_i32(), out_c = io_i32(), has_bias = io_i32(), in_offset = io_i32();
        int32_t out_offset = io_i32(), act_min = io_i32(), act_max = io_i32();
        pnet_window win = io_window();
        size_t taps = (size_t)win.k_h * (size_t)win.k_w;
        int8_t *x = (int8_t *)io_take(io_in_size(&win, in_c));
        int8_t *w = (int8_t *)io_take((size_t)out_c * (size_t)in_c * taps);
        int32_t *bias = has_bias ? (int32_t *)io_take((size_t)out_c * 4u) : NULL;
        int32_t *mult = (int32_t *)io_take((size_t)out_c * 4u);
        int32_t *shift = (int32_t *)io_take((size_t)out_c * 4u);
        size_t n = io_out_size(&win, out_c);
        int8_t *y = (int8_t *)malloc(n ? n : 1u);
        pnet_conv2d_s8(x, in_c, &win, w, bias, out_c, in_offset, mult, shift, out_offset, act_min, act_max, y);
        io_put(y, n);
        free(x); free(w); free(bias); free(mult); free(shift); free(y);
    }
    return 0;
}
