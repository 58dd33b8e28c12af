/* Driver for argmax_s8.c. Case: i32 n; i8 x[n] -> i32 index. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t n = io_i32();
        int8_t *x = (int8_t *)io_take((size_t)n);
        io_put_i32(pnet_argmax_s8(x, n));
        free(x);
    }
    return 0;
}
