/* Driver for project_binary_table.c. Case: i32 n, num_bits; u32 table[num_bits][W(n)]; i16 x[n]
   -> u32 bits[W(num_bits)]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t n = io_i32(), num_bits = io_i32();
        uint32_t *table = (uint32_t *)io_take((size_t)num_bits * io_words(n) * 4u);
        int16_t *x = (int16_t *)io_take((size_t)n * 2u);
        uint32_t *bits = (uint32_t *)malloc(io_words(num_bits) * 4u);
        memset(bits, 0xA5, io_words(num_bits) * 4u);
        pnet_project_binary_table(x, n, table, num_bits, bits);
        io_put(bits, io_words(num_bits) * 4u);
        free(table); free(x); free(bits);
    }
    return 0;
}
