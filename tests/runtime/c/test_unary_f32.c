/* Driver for the in-place float kernels (relu, sigmoid, tanh, softmax); build with
   -DKERNEL=pnet_<name>_f32. Case: i32 n; f32 x[n] -> f32 y[n]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t n = io_i32();
        float *x = (float *)io_take((size_t)n * 4u);
        KERNEL(x, n);
        io_put(x, (size_t)n * 4u);
        free(x);
    }
    return 0;
}
