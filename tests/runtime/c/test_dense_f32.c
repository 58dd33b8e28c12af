/* Driver for dense_f32.c. Case: i32 in, out, has_bias; f32 x[in]; f32 w[out][in]; f32 bias[out] if
   has_bias -> f32 y[out]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t in = io_i32(), out = io_i32(), has_bias = io_i32();
        float *x = (float *)io_take((size_t)in * 4u);
        float *w = (float *)io_take((size_t)in * (size_t)out * 4u);
        float *bias = has_bias ? (float *)io_take((size_t)out * 4u) : NULL;
        float *y = (float *)malloc((size_t)out * 4u + 4u);
        pnet_dense_f32(x, in, w, bias, out, y);
        io_put(y, (size_t)out * 4u);
        free(x); free(w); free(bias); free(y);
    }
    return 0;
}
