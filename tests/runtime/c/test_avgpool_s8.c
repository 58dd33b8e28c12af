/* Driver for avgpool_s8.c. Case: i32 channels, count_include_pad, act_min, act_max; window (14 i32);
   i8 x[channels][in_h][in_w] -> i8 y[channels][out_h][out_w]. */
#include "window_io.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t channels = io_i32(), include_pad = io_i32(), act_min = io_i32(), act_max = io_i32();
        pnet_window win = io_window();
        int8_t *x = (int8_t *)io_take(io_in_size(&win, channels));
        size_t n = io_out_size(&win, channels);
        int8_t *y = (int8_t *)malloc(n ? n : 1u);
        pnet_avgpool_s8(x, channels, &win, include_pad, act_min, act_max, y);
        io_put(y, n);
        free(x); free(y);
    }
    return 0;
}
