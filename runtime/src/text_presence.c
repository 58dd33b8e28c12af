/* text_presence.c - text -> packed presence bits (docs/format.md section 3.4), one-shot and streaming.
   Feature f sets bits k_j = (hash32(seed, j, f) * num_bits) >> 32 for j < hashes; bit_k = 1 iff some
   feature occurrence set it. So a feature costs `hashes` hashes and bit writes, whatever num_bits:
   the bits are the only state (no counters), and a stream is the featurizer plus the bits. */
#include "pnet/pnet.h"

#if defined(__GNUC__)
#define PRESENCE_INLINE __inline__ __attribute__((always_inline))
#else
#define PRESENCE_INLINE
#endif

/* fmix32 starts with h ^= h >> 16, linear over xor: rows and ids are kept folded (x ^ (x >> 16)),
   so hash32(seed, j, f) = rest(fold(row_j) ^ fold(f * GOLDEN_B)), one shift and xor less per hash. */
static PRESENCE_INLINE uint32_t fold(uint32_t x)
{
    return x ^ (x >> 16);
}

static PRESENCE_INLINE uint32_t unfolded_fmix(uint32_t h)
{
#if defined(PNET_EXTERN_HASH)
    return PNET_FMIX32(fold(h)); /* hash.c's, so the cost test can count it */
#else
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
#endif
}

/* floor(h * n / 2^32) for n <= 2^16, exactly, with 32-bit multiplies only (Cortex-M0 has no
   32x32->64 multiply): h * n = hi * n * 2^16 + lo * n, and the sum below stays under 2^32. */
static PRESENCE_INLINE uint32_t scale(uint32_t h, uint32_t n)
{
    return ((h >> 16) * n + (((h & 0xFFFFu) * n) >> 16)) >> 16;
}

/* Sets the bits of feature f: rows are the folded hash rows of j = 0..hashes-1. */
static PRESENCE_INLINE void set_feature(uint32_t *bits, const uint32_t *rows, int32_t hashes, uint32_t num_bits,
                                        uint32_t f)
{
    const uint32_t fb = fold(f * PNET_HASH_GOLDEN_B);
    int32_t j;
    for (j = 0; j < hashes; ++j) {
        const uint32_t k = scale(unfolded_fmix(rows[j] ^ fb), num_bits);
        bits[k >> 5] |= 1u << (k & 31u);
    }
}

/* num_bits and hashes within range: 0, else the error code. */
static int check_shape(int32_t num_bits, int32_t hashes)
{
    if (num_bits < 1 || num_bits > PNET_PRESENCE_MAX_BITS) {
        return PNET_ERR_LENGTH;
    }
    return hashes < 1 || hashes > PNET_TEXT_MAX_HASHES ? PNET_ERR_ARG : PNET_OK;
}

static void begin_rows(uint32_t *rows, uint32_t seed, int32_t hashes)
{
    int32_t j;
    for (j = 0; j < hashes; ++j) {
        rows[j] = fold(PNET_HASH_ROW(seed, (uint32_t)j));
    }
}

int pnet_text_presence(const uint8_t *text, size_t len, uint32_t seed, int32_t num_bits, int32_t hashes,
                       int32_t char_max_n, int32_t words, uint32_t *bits)
{
    pnet_text_iter it;
    uint32_t rows[PNET_TEXT_MAX_HASHES];
    uint32_t f;
    int32_t g;
    int rc;

    if (bits == NULL) {
        return PNET_ERR_NULL;
    }
    rc = check_shape(num_bits, hashes);
    if (rc == PNET_ERR_LENGTH) {
        return rc; /* num_bits is not a size to clear */
    }
    for (g = 0; g < PNET_WORDS(num_bits); ++g) {
        bits[g] = 0u;
    }
    if (rc != PNET_OK) {
        return rc;
    }
    rc = pnet_text_begin(&it, text, len, char_max_n, words);
    if (rc != PNET_OK) {
        return rc;
    }
    begin_rows(rows, seed, hashes);
    while (pnet_text_next(&it, &f)) {
        set_feature(bits, rows, hashes, (uint32_t)num_bits, f);
    }
    return PNET_OK;
}

/* ------------------------------------------------------------------ streaming -- */

/* The bits that follow the state in the caller's memory. */
static uint32_t *stream_bits(pnet_text_presence_stream *s)
{
    return (uint32_t *)(void *)(s + 1);
}

/* Sets the bits of the features the bytes supplied so far give. */
static void stream_drain(pnet_text_presence_stream *s)
{
    uint32_t *const bits = stream_bits(s);
    uint32_t f;
    while (pnet_text_next(&s->it, &f)) {
        set_feature(bits, s->rows, s->hashes, (uint32_t)s->num_bits, f);
    }
}

int pnet_text_presence_stream_begin(pnet_text_presence_stream *s, uint32_t seed, int32_t num_bits, int32_t hashes,
                                    int32_t char_max_n, int32_t words)
{
    int32_t g;
    int rc;
    if (s == NULL) {
        return PNET_ERR_NULL;
    }
    s->num_bits = 0;
    s->hashes = 0;
    s->state = PNET_ERR_ARG;
    rc = check_shape(num_bits, hashes);
    if (rc == PNET_OK) {
        rc = pnet_text_begin_stream(&s->it, char_max_n, words);
    }
    if (rc != PNET_OK) {
        s->state = rc;
        return rc;
    }
    s->num_bits = num_bits;
    s->hashes = hashes;
    s->state = PNET_TEXT_STREAM_FEEDING;
    begin_rows(s->rows, seed, hashes);
    for (g = 0; g < PNET_WORDS(num_bits); ++g) {
        stream_bits(s)[g] = 0u;
    }
    return PNET_OK;
}

int pnet_text_presence_stream_feed(pnet_text_presence_stream *s, const uint8_t *chunk, size_t len)
{
    int rc;
    if (s == NULL) {
        return PNET_ERR_NULL;
    }
    rc = pnet_text_stream_supply(&s->it, &s->state, chunk, len, 0);
    if (rc == PNET_OK) {
        stream_drain(s);
        pnet_text_park(&s->it);
    }
    return rc;
}

int pnet_text_presence_stream_finish(pnet_text_presence_stream *s, uint32_t *bits)
{
    int32_t g;
    int rc;
    if (s == NULL || bits == NULL) {
        return PNET_ERR_NULL;
    }
    rc = pnet_text_stream_supply(&s->it, &s->state, NULL, 0u, 1);
    if (rc != PNET_OK) {
        return rc; /* bits untouched */
    }
    stream_drain(s);
    for (g = 0; g < PNET_WORDS(s->num_bits); ++g) {
        bits[g] = stream_bits(s)[g];
    }
    return PNET_OK;
}
