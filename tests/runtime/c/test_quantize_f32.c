/* Driver for quantize_f32.c. Case: i32 n; f32 scale; i32 zero_point; f32 x[n] -> i8 q[n]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t n = io_i32();
        float *scale = (float *)io_take(4u);
        int32_t zero_point;
        float *x;
        int8_t *q;
        zero_point = io_i32();
        x = (float *)io_take((size_t)n * 4u);
        q = (int8_t *)malloc((size_t)n + 1u);
        pnet_quantize_f32(x, n, scale, zero_point, q);
        io_put(q, (size_t)n);
        free(scale); free(x); free(q);
    }
    return 0;
}
