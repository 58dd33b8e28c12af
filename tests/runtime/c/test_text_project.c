/* Driver for text_project.c. Case: u32 seed; i32 num_bits, char_max_n, words; u32 flags (bit 0: NULL
   text, bit 1: NULL acc), len, nbytes; bytes -> i32 rc, then if num_bits >= 1: u32 bits[W].
   acc is the kernel's scratch (its counters), so only the bits are checked. It is allocated with
   exactly num_bits int32 and bits with exactly W words, so the sanitizer build catches any write
   past either. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        uint32_t seed = io_u32();
        int32_t num_bits = io_i32(), char_max_n = io_i32(), words = io_i32();
        uint32_t flags = io_u32(), len = io_u32(), nbytes = io_u32();
        char *text = (char *)io_take(nbytes);
        size_t nb = num_bits > 0 ? (size_t)num_bits : 1u;
        int32_t *acc = (int32_t *)malloc(nb * 4u);
        uint32_t *bits = (uint32_t *)malloc(io_words((int32_t)nb) * 4u);
        int rc;
        memset(acc, 0x5A, nb * 4u); /* the kernel must not rely on zeroed scratch */
        memset(bits, 0xA5, io_words((int32_t)nb) * 4u);
        rc = pnet_text_project((flags & 1u) ? NULL : (const uint8_t *)text, len, seed, num_bits, char_max_n,
                               words, (flags & 2u) ? NULL : acc, bits);
        io_put_i32(rc);
        if (num_bits >= 1) {
            io_put(bits, io_words(num_bits) * 4u);
        }
        free(text); free(acc); free(bits);
    }
    return 0;
}
