/* Driver for project_ternary_table.c. Case: i32 n, num_bits, nnz; u16 entries[num_bits][nnz]; i16 x[n]
   -> u32 bits[W]. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t n = io_i32(), num_bits = io_i32(), nnz = io_i32();
        uint16_t *entries = (uint16_t *)io_take((size_t)num_bits * (size_t)nnz * 2u);
        int16_t *x = (int16_t *)io_take((size_t)n * 2u);
        uint32_t *bits = (uint32_t *)malloc(io_words(num_bits) * 4u);
        memset(bits, 0xA5, io_words(num_bits) * 4u);
        pnet_project_ternary_table(x, entries, num_bits, nnz, bits);
        io_put(bits, io_words(num_bits) * 4u);
        free(entries); free(x); free(bits);
    }
    return 0;
}
