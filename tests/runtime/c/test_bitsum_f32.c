/* Driver for bitsum_f32.c. Case: i32 num_bits, out, has_bias; u32 bits[W]; f32 w[num_bits][out];
   f32 bias[out] if has_bias -> f32 y[out]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t num_bits = io_i32(), out = io_i32(), has_bias = io_i32();
        uint32_t *bits = (uint32_t *)io_take(io_words(num_bits) * 4u);
        float *w = (float *)io_take((size_t)num_bits * (size_t)out * 4u);
        float *bias = has_bias ? (float *)io_take((size_t)out * 4u) : NULL;
        float *y = (float *)malloc((size_t)out * 4u + 4u);
        pnet_bitsum_f32(bits, num_bits, w, bias, out, y);
        io_put(y, (size_t)out * 4u);
        free(bits); free(w); free(bias); free(y);
    }
    return 0;
}
