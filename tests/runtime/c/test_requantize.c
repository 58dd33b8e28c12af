/* Driver for requantize.c. Input: (i32 v, mult, shift) triples until EOF -> i32 results. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t v = io_i32(), mult = io_i32(), shift = io_i32();
        io_put_i32(pnet_requantize(v, mult, shift));
    }
    return 0;
}
