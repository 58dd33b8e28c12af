/* Driver for popcount.c. Input: u32 values until EOF -> u32 popcounts. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        uint32_t c = pnet_popcount32(io_u32());
        io_put(&c, 4);
    }
    return 0;
}
