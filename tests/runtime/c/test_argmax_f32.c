/* Driver for argmax_f32.c. Case: i32 n; f32 x[n] -> i32 index. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t n = io_i32();
        float *x = (float *)io_take((size_t)n * 4u);
        io_put_i32(pnet_argmax_f32(x, n));
        free(x);
    }
    return 0;
}
