/* Driver for xnor_popcount.c. Case: i32 num_bits, out, has_bias; u32 bits[W]; u32 wbits[out][W];
   i32 bias[out] if has_bias -> i32 acc[out]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t num_bits = io_i32(), out = io_i32(), has_bias = io_i32();
        uint32_t *bits = (uint32_t *)io_take(io_words(num_bits) * 4u);
        uint32_t *wbits = (uint32_t *)io_take((size_t)out * io_words(num_bits) * 4u);
        int32_t *bias = has_bias ? (int32_t *)io_take((size_t)out * 4u) : NULL;
        int32_t *acc = (int32_t *)malloc((size_t)out * 4u + 4u);
        pnet_xnor_popcount(bits, num_bits, wbits, bias, out, acc);
        io_put(acc, (size_t)out * 4u);
        free(bits); free(wbits); free(bias); free(acc);
    }
    return 0;
}
