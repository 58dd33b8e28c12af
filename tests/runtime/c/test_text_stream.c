/* Driver for the streaming text projection (text_project.c, text_features.c). Case: u32 seed;
   i32 num_bits, char_max_n, words, nops; then nops ops, each u32 op (0 feed, 1 finish, 2 begin),
   u32 flags (bit 0: NULL chunk), len, nbytes; bytes -> per op i32 rc, and after a finish that
   returns 0, u32 bits[W]. Each chunk is a fresh allocation of exactly its bytes, freed right
   after the feed (the sanitizer build catches a read of a chunk after its feed returned), and the
   state is exactly PNET_TEXT_STREAM_BYTES(num_bits), so a write past it is caught too. The state
   starts zeroed (a stream never begun); begin is an op like the others. */
#include "driver_io.h"
#include "pnet/pnet.h"

int main(void)
{
    io_begin();
    while (io_more()) {
        uint32_t seed = io_u32();
        int32_t num_bits = io_i32(), char_max_n = io_i32(), words = io_i32(), nops = io_i32();
        int32_t nb = num_bits > 0 ? num_bits : 1;
        size_t state_bytes = PNET_TEXT_STREAM_BYTES(nb);
        pnet_text_stream *s = (pnet_text_stream *)calloc(1u, state_bytes);
        uint32_t *bits = (uint32_t *)malloc((size_t)io_words(nb) * 4u);
        int32_t i;
        for (i = 0; i < nops; ++i) {
            uint32_t op = io_u32(), flags = io_u32(), len = io_u32(), nbytes = io_u32();
            uint8_t *chunk = (uint8_t *)io_take(nbytes);
            int rc;
            if (op == 2u) {
                rc = pnet_text_stream_begin(s, seed, num_bits, char_max_n, words);
            } else if (op == 0u) {
                rc = pnet_text_stream_feed(s, (flags & 1u) ? NULL : chunk, len);
            } else {
                rc = pnet_text_stream_finish(s, bits);
            }
            free(chunk);
            io_put_i32(rc);
            if (op == 1u && rc == 0) {
                io_put(bits, io_words(nb) * 4u);
            }
        }
        free(s);
        free(bits);
    }
    return 0;
}
