/* Driver for text_features.c. Case: i32 char_max_n, words; u32 flags (bit 0: pass a NULL text),
   u32 len (passed to the API), u32 nbytes; bytes[nbytes] -> i32 rc, u32 count, u32 ids[count].
   The bytes go through a plain char buffer, so -fsigned-char/-funsigned-char would show a bug. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        int32_t char_max_n = io_i32(), words = io_i32();
        uint32_t flags = io_u32(), len = io_u32(), nbytes = io_u32();
        char *text = (char *)io_take(nbytes);
        const uint8_t *p = (flags & 1u) ? NULL : (const uint8_t *)text;
        pnet_text_iter it;
        uint32_t id, count = 0;
        int rc = pnet_text_begin(&it, p, len, char_max_n, words);
        while (pnet_text_next(&it, &id)) ++count;
        io_put_i32(rc);
        io_put(&count, 4);
        pnet_text_begin(&it, p, len, char_max_n, words);
        while (pnet_text_next(&it, &id)) io_put(&id, 4);
        free(text);
    }
    return 0;
}
