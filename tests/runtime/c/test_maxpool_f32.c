/* Driver for maxpool_f32.c. Case: i32 channels; window (14 i32); f32 x[channels][in_h][in_w]
   -> f32 y[channels][out_h][out_w]. */
#include "window_io.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t channels = io_i32();
        pnet_window win = io_window();
        float *x = (float *)io_take(io_in_size(&win, channels) * 4u);
        size_t n = io_out_size(&win, channels);
        float *y = (float *)malloc(n ? n * 4u : 1u);
        pnet_maxpool_f32(x, channels, &win, y);
        io_put(y, n * 4u);
        free(x); free(y);
    }
    return 0;
}
