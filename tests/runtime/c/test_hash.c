/* Driver for hash.c. Cases: u32 tag; tag 0: u32 seed, a, b -> u32 fmix32(seed), hash_row(seed, a),
   hash32(seed, a, b); tag 1: u32 h0, u32 len, bytes -> u32 fnv1a(bytes, len, h0) computed
   through a plain char buffer cast to uint8_t (the signedness trap the kernel must avoid). */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        uint32_t tag = io_u32();
        if (tag == 0u) {
            uint32_t seed = io_u32(), a = io_u32(), b = io_u32();
            uint32_t r[3];
            r[0] = pnet_fmix32(seed);
            r[1] = pnet_hash_row(seed, a);
            r[2] = pnet_hash32(seed, a, b);
            io_put(r, sizeof r);
        } else {
            uint32_t h0 = io_u32();
            uint32_t len = io_u32();
            char *s = (char *)io_take(len);
            uint32_t h = pnet_fnv1a((const uint8_t *)s, len, h0);
            io_put(&h, 4);
            free(s);
        }
    }
    return 0;
}
