/* Driver for project_binary.c. Case: u32 seed; i32 n, num_bits; i16 x[n] -> u32 bits[W]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        uint32_t seed = io_u32();
        int32_t n = io_i32(), num_bits = io_i32();
        int16_t *x = (int16_t *)io_take((size_t)n * 2u);
        uint32_t *bits = (uint32_t *)malloc(io_words(num_bits) * 4u);
        memset(bits, 0xA5, io_words(num_bits) * 4u); /* the kernel must clear padding itself */
        pnet_project_binary(x, n, seed, num_bits, bits);
        io_put(bits, io_words(num_bits) * 4u);
        free(x); free(bits);
    }
    return 0;
}
