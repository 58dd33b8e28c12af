/* Shared helpers of the pnetc fuzz targets: a check that aborts (libFuzzer then saves the
 * input as a crash), an independent re-implementation of the hash of docs/format.md
 * section 1 (written from the spec, not from runtime/src/hash.c), and replay output. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...)                                                        \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__,  \
                    #cond);                                                          \
            fprintf(stderr, __VA_ARGS__);                                            \
            fprintf(stderr, "\n");                                                   \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* fnv1a straight from docs/format.md section 1 (the hash itself is in spec_ref.c). */
static inline uint32_t ref_fnv1a(const uint8_t *p, size_t n, uint32_t h)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        h = (h ^ p[i]) * 0x01000193u;
    }
    return h;
}

/* Replay builds (-DFUZZ_REPLAY) print each input's outputs for fuzz/replay.py, which
   compares them with the numpy reference (pnetc.kernels and the golden interpreter). */
#ifdef FUZZ_REPLAY
static inline void replay_words(const char *tag, const uint32_t *w, size_t n)
{
    size_t i;
    printf("%s", tag);
    for (i = 0; i < n; ++i) {
        printf(" %08x", (unsigned)w[i]);
    }
    printf("\n");
}
#endif

#endif /* FUZZ_COMMON_H */
