/* Driver for text_presence.c, one-shot and streaming. Case: u32 mode (0 one-shot, 1 stream), u32
   seed; i32 num_bits, hashes, char_max_n, words.
   One-shot: u32 flags (bit 0: NULL text), len, nbytes; bytes -> i32 rc, then if 1 <= num_bits <=
   65536: u32 bits[W] (allocated with exactly W words, pre-filled with junk).
   Stream: i32 nops, then per op u32 op (0 feed, 1 finish, 2 begin), flags (bit 0: NULL chunk), len,
   nbytes; bytes -> per op i32 rc, and after a finish that returns 0, u32 bits[W]. Each chunk is a
   fresh allocation freed right after its feed, and the state is exactly
   PNET_TEXT_PRESENCE_STREAM_BYTES(num_bits), so the sanitizer build catches a late read or a
   write past it. */
#include "driver_io.h"
#include "pnet/pnet.h"

static int32_t in_range(int32_t num_bits)
{
    return num_bits >= 1 && num_bits <= PNET_PRESENCE_MAX_BITS;
}

static void one_shot(uint32_t seed, int32_t num_bits, int32_t hashes, int32_t char_max_n, int32_t words)
{
    uint32_t flags = io_u32(), len = io_u32(), nbytes = io_u32();
    char *text = (char *)io_take(nbytes);
    int32_t w = in_range(num_bits) ? io_words(num_bits) : 1;
    uint32_t *bits = (uint32_t *)malloc((size_t)w * 4u);
    int rc;
    memset(bits, 0xA5, (size_t)w * 4u);
    rc = pnet_text_presence((flags & 1u) ? NULL : (const uint8_t *)text, len, seed, num_bits, hashes, char_max_n,
                            words, bits);
    io_put_i32(rc);
    if (in_range(num_bits)) {
        io_put(bits, (size_t)w * 4u);
    }
    free(text);
    free(bits);
}

static void stream(uint32_t seed, int32_t num_bits, int32_t hashes, int32_t char_max_n, int32_t words)
{
    int32_t nops = io_i32();
    int32_t nb = in_range(num_bits) ? num_bits : 1;
    pnet_text_presence_stream *s = (pnet_text_presence_stream *)calloc(1u, PNET_TEXT_PRESENCE_STREAM_BYTES(nb));
    uint32_t *bits = (uint32_t *)malloc((size_t)io_words(nb) * 4u);
    int32_t i;
    for (i = 0; i < nops; ++i) {
        uint32_t op = io_u32(), flags = io_u32(), len = io_u32(), nbytes = io_u32();
        uint8_t *chunk = (uint8_t *)io_take(nbytes);
        int rc;
        if (op == 2u) {
            rc = pnet_text_presence_stream_begin(s, seed, num_bits, hashes, char_max_n, words);
        } else if (op == 0u) {
            rc = pnet_text_presence_stream_feed(s, (flags & 1u) ? NULL : chunk, len);
        } else {
            rc = pnet_text_presence_stream_finish(s, bits);
        }
        free(chunk);
        io_put_i32(rc);
        if (op == 1u && rc == 0) {
            io_put(bits, (size_t)io_words(nb) * 4u);
        }
    }
    free(s);
    free(bits);
}

int main(void)
{
    io_begin();
    while (io_more()) {
        uint32_t mode = io_u32(), seed = io_u32();
        int32_t num_bits = io_i32(), hashes = io_i32(), char_max_n = io_i32(), words = io_i32();
        if (mode == 0u) {
            one_shot(seed, num_bits, hashes, char_max_n, words);
        } else {
            stream(seed, num_bits, hashes, char_max_n, words);
        }
    }
    return 0;
}
