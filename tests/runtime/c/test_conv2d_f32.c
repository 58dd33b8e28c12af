/* Driver for conv2d_f32.c. Case: i32 in_c, out_c, has_bias; window (14 i32); f32 x[in_c][in_h][in_w];
   f32 w[out_c][in_c][k_h][k_w]; f32 bias[out_c] if has_bias -> f32 y[out_c][out_h][out_w]. */
#include "window_io.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t in_c = io_i32(), out_c = io_i32(), has_bias = io_i32();
        pnet_window win = io_window();
        size_t taps = (size_t)win.k_h * (size_t)win.k_w;
        float *x = (float *)io_take(io_in_size(&win, in_c) * 4u);
        float *w = (float *)io_take((size_t)out_c * (size_t)in_c * taps * 4u);
        float *bias = has_bias ? (float *)io_take((size_t)out_c * 4u) : NULL;
        size_t n = io_out_size(&win, out_c);
        float *y = (float *)malloc(n ? n * 4u : 1u);
        pnet_conv2d_f32(x, in_c, &win, w, bias, out_c, y);
        io_put(y, n * 4u);
        free(x); free(w); free(bias); free(y);
    }
    return 0;
}
