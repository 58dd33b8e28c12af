/* libFuzzer target: differential fuzzing of the hash and projection kernels.
 *
 * Each input is decoded (see decode() and fuzz/replay.py, which decodes the same way) into
 * one kernel call; the C kernel's output is compared in-process with a straightforward
 * re-implementation written from docs/format.md (spec_ref.c: int64 accumulators, one entry at
 * a time, no sign-sum identity, no unrolling; built without instrumentation). Replaying the
 * corpus through fuzz/replay.py then compares the same outputs with the numpy reference
 * (pnetc.kernels), so every corpus input is checked against both.
 *
 * Layout: byte 0 op, bytes 1-4 seed, 5-6 num_bits, 7-8 nnz/split, 9 text options, then
 * the payload (int16 LE samples, or text bytes, or hash arguments).
 *   op 0 pnet_project_binary      op 1 pnet_project_ternary
 *   op 2 pnet_project_binary_table op 3 pnet_project_ternary_table
 *   op 4 pnet_text_project (including invalid char_max_n / words / num_bits = 0), and on valid
 *        arguments pnet_text_presence with 1 + nnz % 8 hashes
 *   op 5 pnet_fmix32, pnet_hash_row, pnet_hash32 and streaming pnet_fnv1a */
#include <string.h>

#include "fuzz_common.h"
#include "pnet/pnet.h"
#include "spec_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 10

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }

/* Centered samples: int16 LE, clamped to +-lim with lim = min(32767, (2^30 - 1) / n), the
   kernels' precondition n * max|x| < 2^30. */
static int16_t *decode_x(const uint8_t *p, size_t bytes, int32_t max_n, int32_t *n_out)
{
    int32_t n = (int32_t)(bytes / 2), i, lim;
    int16_t *x;
    if (n > max_n) {
        n = max_n;
    }
    *n_out = n;
    if (n < 1) {
        return NULL;
    }
    lim = (int32_t)((1L << 30) - 1) / n;
    if (lim > 32767) {
        lim = 32767;
    }
    x = (int16_t *)malloc((size_t)n * sizeof(int16_t));
    FUZZ_CHECK(x != NULL, "out of memory");
    for (i = 0; i < n; ++i) {
        int32_t v = (int32_t)(int16_t)(uint16_t)rd16(p + 2 * i);
        v = v > lim ? lim : (v < -lim ? -lim : v);
        x[i] = (int16_t)v;
    }
    return x;
}

static void pack(const int64_t *acc, int32_t num_bits, uint32_t *bits)
{
    int32_t k;
    memset(bits, 0, (size_t)PNET_WORDS(num_bits) * sizeof(uint32_t));
    for (k = 0; k < num_bits; ++k) {
        FUZZ_CHECK(acc[k] >= INT32_MIN && acc[k] <= INT32_MAX, "acc %lld leaves int32", (long long)acc[k]);
        if (acc[k] > 0) {
            bits[k >> 5] |= 1u << (k & 31);
        }
    }
}

static void compare(const char *what, const uint32_t *got, const uint32_t *want, int32_t num_bits)
{
    int32_t w;
    for (w = 0; w < PNET_WORDS(num_bits); ++w) {
        FUZZ_CHECK(got[w] == want[w], "%s: word %d is %08x, reference %08x (num_bits %d)", what, w,
                   (unsigned)got[w], (unsigned)want[w], num_bits);
    }
}

static void dense_op(int op, uint32_t seed, int32_t num_bits, int32_t nnz, const uint8_t *p, size_t bytes)
{
    const int32_t max_n = op == 3 ? 32768 : PNET_DENSE_MAX_INPUT;
    int32_t n;
    int16_t *x = decode_x(p, bytes, max_n, &n);
    const int32_t words = PNET_WORDS(num_bits);
    uint32_t *got, *want;
    int64_t *acc;
    if (x == NULL) {
        return;
    }
    got = (uint32_t *)malloc((size_t)words * sizeof(uint32_t));
    want = (uint32_t *)malloc((size_t)words * sizeof(uint32_t));
    acc = (int64_t *)calloc((size_t)num_bits, sizeof(int64_t));
    FUZZ_CHECK(got && want && acc, "out of memory");
    memset(got, 0xA5, (size_t)words * sizeof(uint32_t)); /* garbage: the kernel must clear padding */

    if (op == 0 || op == 2) {
        uint32_t *table = (uint32_t *)malloc((size_t)num_bits * (size_t)PNET_WORDS(n) * sizeof(uint32_t));
        FUZZ_CHECK(table != NULL, "out of memory");
        spec_project_binary(x, n, seed, num_bits, acc, table);
        if (op == 0) {
            pnet_project_binary(x, n, seed, num_bits, got);
        } else {
            pnet_project_binary_table(x, n, table, num_bits, got);
        }
        free(table);
    } else {
        uint16_t *entries = (uint16_t *)malloc((size_t)num_bits * (size_t)nnz * sizeof(uint16_t));
        FUZZ_CHECK(entries != NULL, "out of memory");
        FUZZ_CHECK(spec_project_ternary(x, n, seed, num_bits, nnz, acc, entries) == 0, "index outside 0..%d", n - 1);
        if (op == 1) {
            pnet_project_ternary(x, n, seed, num_bits, nnz, got);
        } else {
            pnet_project_ternary_table(x, entries, num_bits, nnz, got);
        }
        free(entries);
    }
    pack(acc, num_bits, want);
    compare(op == 0 ? "project_binary" : op == 1 ? "project_ternary" : op == 2 ? "project_binary_table"
                                                                               : "project_ternary_table",
            got, want, num_bits);
#ifdef FUZZ_REPLAY
    replay_words("bits", got, (size_t)words);
#endif
    free(got);
    free(want);
    free(acc);
    free(x);
}

/* pnet_text_presence on the same text against spec_presence_add (arguments valid). */
static void presence_op(uint32_t seed, int32_t num_bits, int32_t hashes, int32_t char_max_n, int32_t words,
                        const uint8_t *p, size_t len)
{
    const int32_t nw = PNET_WORDS(num_bits);
    uint32_t *got = (uint32_t *)malloc((size_t)nw * sizeof(uint32_t));
    uint32_t *want = (uint32_t *)malloc((size_t)nw * sizeof(uint32_t));
    int64_t *acc = (int64_t *)calloc((size_t)num_bits, sizeof(int64_t));
    pnet_text_iter it;
    uint32_t id;
    FUZZ_CHECK(got && want && acc, "out of memory");
    memset(got, 0xA5, (size_t)nw * sizeof(uint32_t));
    FUZZ_CHECK(pnet_text_presence(p, len, seed, num_bits, hashes, char_max_n, words, got) == PNET_OK, "presence rc");
    FUZZ_CHECK(pnet_text_begin(&it, p, len, char_max_n, words) == PNET_OK, "begin failed");
    while (pnet_text_next(&it, &id)) {
        spec_presence_add(seed, num_bits, hashes, id, acc);
    }
    pack(acc, num_bits, want);
    compare("text_presence", got, want, num_bits);
#ifdef FUZZ_REPLAY
    replay_words("presence", got, (size_t)nw);
#endif
    free(got);
    free(want);
    free(acc);
}

static void text_op(uint32_t seed, int32_t num_bits, int32_t char_max_n, int32_t words, int32_t hashes,
                    const uint8_t *p, size_t len)
{
    const int32_t nw = num_bits > 0 ? PNET_WORDS(num_bits) : 1;
    const int valid = num_bits >= 1 && char_max_n >= 0 && char_max_n <= 5 && (words == 0 || words == 1);
    uint32_t *got = (uint32_t *)malloc((size_t)nw * sizeof(uint32_t));
    uint32_t *want = (uint32_t *)malloc((size_t)nw * sizeof(uint32_t));
    int32_t *scratch = (int32_t *)malloc((size_t)(num_bits > 0 ? num_bits : 1) * sizeof(int32_t));
    int64_t *acc = (int64_t *)calloc((size_t)(num_bits > 0 ? num_bits : 1), sizeof(int64_t));
    int rc;
    FUZZ_CHECK(got && want && scratch && acc, "out of memory");
    memset(got, 0xA5, (size_t)nw * sizeof(uint32_t));
    /* scratch holds the kernel's bit-sliced counters, not acc: only the bits are compared */
    rc = pnet_text_project(p, len, seed, num_bits, char_max_n, words, scratch, got);
    if (!valid) {
        const int expect = num_bits < 1 ? PNET_ERR_LENGTH : PNET_ERR_ARG;
        FUZZ_CHECK(rc == expect, "rc %d, expected %d (num_bits %d, char_max_n %d, words %d)", rc, expect,
                   num_bits, char_max_n, words);
#ifdef FUZZ_REPLAY
        printf("rc %d\n", rc);
#endif
    } else {
        pnet_text_iter it;
        uint32_t id;
        FUZZ_CHECK(rc == PNET_OK, "rc %d", rc);
        FUZZ_CHECK(pnet_text_begin(&it, p, len, char_max_n, words) == PNET_OK, "begin failed");
        while (pnet_text_next(&it, &id)) {
            spec_text_add(seed, num_bits, id, acc);
        }
        pack(acc, num_bits, want);
        compare("text_project", got, want, num_bits);
#ifdef FUZZ_REPLAY
        replay_words("bits", got, (size_t)nw);
#endif
        presence_op(seed, num_bits, hashes, char_max_n, words, p, len);
    }
    free(got);
    free(want);
    free(scratch);
    free(acc);
}

static void hash_op(uint32_t seed, uint32_t split, const uint8_t *p, size_t len)
{
    size_t i, cut;
    uint32_t h;
    for (i = 0; i + 8 <= len; i += 8) {
        const uint32_t a = rd32(p + i), b = rd32(p + i + 4);
        const uint32_t want = spec_hash32(seed, a, b);
        FUZZ_CHECK(pnet_hash32(seed, a, b) == want, "hash32(%08x, %08x, %08x)", (unsigned)seed, (unsigned)a,
                   (unsigned)b);
        FUZZ_CHECK(pnet_fmix32(pnet_hash_row(seed, a) ^ (b * 0x85EBCA77u)) == want, "hash_row/fmix32");
        FUZZ_CHECK(pnet_fmix32(a) == spec_fmix32(a), "fmix32(%08x)", (unsigned)a);
#ifdef FUZZ_REPLAY
        printf("hash32 %08x\n", (unsigned)want);
#endif
    }
    cut = len ? split % (len + 1) : 0;
    h = pnet_fnv1a(p, cut, PNET_FNV_OFFSET);
    h = pnet_fnv1a(p + cut, len - cut, h);
    FUZZ_CHECK(h == ref_fnv1a(p, len, 0x811C9DC5u), "fnv1a of %zu bytes split at %zu", len, cut);
    FUZZ_CHECK(pnet_fnv1a(NULL, 0, 7u) == 7u, "fnv1a of nothing");
#ifdef FUZZ_REPLAY
    printf("fnv1a %08x\n", (unsigned)h);
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int op;
    uint32_t seed, nb_raw, nnz_raw;
    const uint8_t *p = data + HEADER;
    size_t bytes;
    if (size < HEADER) {
        return 0;
    }
    op = data[0] % 6;
    seed = rd32(data + 1);
    nb_raw = rd16(data + 5);
    nnz_raw = rd16(data + 7);
    bytes = size - HEADER;
#ifdef FUZZ_REPLAY
    printf("op %d\n", op);
#endif
    if (op <= 3) {
        dense_op(op, seed, (int32_t)(1 + nb_raw % 128), (int32_t)(1 + nnz_raw % 256), p, bytes);
    } else if (op == 4) {
        text_op(seed, (int32_t)(nb_raw % 257), (int32_t)(data[9] % 7), (int32_t)((data[9] >> 3) % 3),
                (int32_t)(1 + nnz_raw % 8), p, bytes);
    } else {
        hash_op(seed, nnz_raw, p, bytes);
    }
    return 0;
}
