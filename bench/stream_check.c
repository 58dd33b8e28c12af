/* Streaming = one-shot on a whole data set, for a text model compiled with --name lang.
   Reads texts as (u32 little-endian length, bytes)..., feeds each through lang_text_begin /
   _feed / _predict_with_arena in chunks of 1, 2, 3, 7 and 64 bytes, and compares class, scores
   and bits with lang_predict_text. docs/results.md, "Streaming text", was measured with:
     python -m pnetc compile MODEL -o DIR --name lang
     python -c 'import struct; from pnetc.datasets import load_dataset; open("t.bin", "wb").write(
         b"".join(struct.pack("<I", len(t)) + t for t in load_dataset("langid").x_test))'
     gcc -std=c99 -O2 -fsanitize=address,undefined -IDIR DIR/lang.c DIR/lang_weights.c DIR/runtime/(each .c) \
         bench/stream_check.c -o check && ./check t.bin
     (and arm-linux-gnueabihf-gcc -static -mcpu=cortex-a7 ..., run with qemu-arm -cpu cortex-a7) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lang.h"

static const size_t chunks[] = {1, 2, 3, 7, 64};

int main(int argc, char **argv)
{
    FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
    static lang_text_stream s;
    static uint64_t arena[(LANG_ARENA_BYTES + 7) / 8];
    lang_score_t a[LANG_NUM_CLASSES], b[LANG_NUM_CLASSES];
    uint32_t bits[LANG_NUM_WORDS];
    unsigned long texts = 0, runs = 0, bad = 0;
    uint32_t len;
    if (f == NULL) {
        fprintf(stderr, "usage: check TEXTS.bin\n");
        return 2;
    }
    while (fread(&len, 4, 1, f) == 1) {
        uint8_t *t = (uint8_t *)malloc(len + 1);
        size_t c, pos;
        int ra;
        if (len && fread(t, 1, len, f) != len) return 2;
        ra = lang_predict_text(t, len, a);
        memcpy(bits, lang_last_bits(), sizeof bits);
        for (c = 0; c < sizeof chunks / sizeof chunks[0]; ++c) {
            int rb;
            lang_text_begin(&s);
            for (pos = 0; pos < len; pos += chunks[c]) {
                lang_text_feed(&s, t + pos, len - pos < chunks[c] ? len - pos : chunks[c]);
            }
            rb = lang_text_predict_with_arena(&s, b, arena);
            runs++;
            if (ra != rb || memcmp(a, b, sizeof a) != 0 || memcmp(bits, lang_arena_bits(arena), sizeof bits) != 0) {
                bad++;
            }
        }
        texts++;
        free(t);
    }
    printf("texts %lu streamed runs %lu mismatches %lu\n", texts, runs, bad);
    return bad != 0;
}
