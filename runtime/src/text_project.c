/* text_project.c - text -> packed projection bits, streaming over pnet_text_next.
   s_k(f) = +1 iff bit (k & 31) of hash32(seed, k >> 5, f) is set: one hash per feature per 32 bits.
   bit_k = acc_k > 0 with acc_k = 2 * plus_k - total, i.e. bit_k = plus_k > total / 2 (rounded down),
   where plus_k counts the occurrences whose sign bit k is set.

   Fast path: plus_k is kept in bit-sliced counters. Group g (bits 32g..32g+31) owns `planes`
   words of the caller's acc scratch; plane j holds bit j of the 32 counters, so one sign word is
   added to 32 counters at once. Features are buffered 16 at a time; for each group their 16 sign
   words go through a carry-save adder tree into planes 0..3 (kept in registers) and only the
   carry of weight 16 ripples into the planes above. The final pass compares the planes with
   total / 2 bit-sliced, so no counter is ever converted back to an integer.
   The hash rows fmix32(seed ^ g * A) live in `bits` (its words are written last).
   Fallback, when the counters of the longest possible text do not fit in acc (only for a small
   num_bits that is not a multiple of 32): one int32 counter per bit, one add per sign bit. */
#include "pnet/pnet.h"

#define BATCH 16 /* features per carry-save batch */

#if defined(__GNUC__)
#define PNET_ALWAYS_INLINE __inline__ __attribute__((always_inline))
#define PNET_NOINLINE __attribute__((noinline))
#else
#define PNET_ALWAYS_INLINE
#define PNET_NOINLINE
#endif

/* One carry-save (full) adder over 32 lanes: l + 2 * h = a + b + c, lane by lane. */
#define CSA(h, l, a, b, c)                          \
    do {                                            \
        const uint32_t csa_a_ = (a);                \
        const uint32_t csa_b_ = (b);                \
        const uint32_t csa_c_ = (c);                \
        const uint32_t csa_u_ = csa_a_ ^ csa_b_;    \
        (h) = (csa_a_ & csa_b_) | (csa_u_ & csa_c_); \
        (l) = csa_u_ ^ csa_c_;                      \
    } while (0)

/* fmix32 starts with h ^= h >> 16, which is linear over xor: for h = row ^ fb it equals
   fold(row) ^ fold(fb) with fold(x) = x ^ (x >> 16). Rows and feature ids are kept folded, so
   each sign word costs one xor less. fold is its own inverse on 32 bits. */
static PNET_ALWAYS_INLINE uint32_t fold(uint32_t x)
{
    return x ^ (x >> 16);
}

/* The sign word fmix32(row ^ fb) of one feature and one group, from folded row and id. */
static PNET_ALWAYS_INLINE uint32_t sign_word(uint32_t row_folded, uint32_t fb_folded)
{
#if defined(PNET_EXTERN_HASH)
    return PNET_FMIX32(fold(row_folded ^ fb_folded)); /* hash.c's, so the cost test can count it */
#else
    uint32_t h = row_folded ^ fb_folded;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
#endif
}

/* Adds w (weight 2^j) into the counters whose plane j is p[0]; carries ripple upwards until none
   is left. The caller guarantees no counter outgrows its planes. */
static PNET_ALWAYS_INLINE void ripple(uint32_t *p, uint32_t w)
{
    while (w != 0u) {
        const uint32_t t = *p;
        *p++ = t ^ w;
        w &= t;
    }
}

/* Adds 16 words to the counters of one group: a Harley-Seal carry-save tree into planes 0..3
   (kept in registers), then the carry of weight 16 ripples upwards. The words are the sign words
   of src[i] = fold(id * GOLDEN_B) when `hashed` (a constant after inlining), else src[i] itself. */
static PNET_ALWAYS_INLINE void add16(uint32_t *planes, uint32_t row, const uint32_t *src, int hashed)
{
#define WORD(i) (hashed ? sign_word(row, src[i]) : src[i])
    uint32_t ones = planes[0], twos = planes[1], fours = planes[2], eights = planes[3];
    uint32_t twos_a, twos_b, fours_a, fours_b, eights_a, eights_b, sixteens;
    CSA(twos_a, ones, ones, WORD(0), WORD(1));
    CSA(twos_b, ones, ones, WORD(2), WORD(3));
    CSA(fours_a, twos, twos, twos_a, twos_b);
    CSA(twos_a, ones, ones, WORD(4), WORD(5));
    CSA(twos_b, ones, ones, WORD(6), WORD(7));
    CSA(fours_b, twos, twos, twos_a, twos_b);
    CSA(eights_a, fours, fours, fours_a, fours_b);
    CSA(twos_a, ones, ones, WORD(8), WORD(9));
    CSA(twos_b, ones, ones, WORD(10), WORD(11));
    CSA(fours_a, twos, twos, twos_a, twos_b);
    CSA(twos_a, ones, ones, WORD(12), WORD(13));
    CSA(twos_b, ones, ones, WORD(14), WORD(15));
    CSA(fours_b, twos, twos, twos_a, twos_b);
    CSA(eights_b, fours, fours, fours_a, fours_b);
    CSA(sixteens, eights, eights, eights_a, eights_b);
#undef WORD
    planes[0] = ones;
    planes[1] = twos;
    planes[2] = fours;
    planes[3] = eights;
    ripple(planes + 4, sixteens);
}

/* Adds the sign words of 16 features, fb[i] = fold(id * GOLDEN_B), to every group's counters. */
static PNET_ALWAYS_INLINE void add_batch(uint32_t *planes, int32_t stride, const uint32_t *rows, int32_t groups, const uint32_t *fb)
{
    int32_t g;
    for (g = 0; g < groups; ++g, planes += stride) {
        add16(planes, rows[g], fb, 1);
    }
}

/* Adds the sign words of the last n < 16 features (not inlined: its 16-word buffer stays out of
   the caller's frame, which every batch runs in). From 8 on, the words padded with zeros go
   through the 16-word tree (8 features make at least 4 planes; a carry into plane 4 needs a total
   of at least 16, which makes at least 5); fewer go in pairs through one carry-save adder into
   plane 0 (the carry ripples from plane 1), an odd last one from plane 0. */
static PNET_NOINLINE void add_tail(uint32_t *planes, int32_t stride, const uint32_t *rows, int32_t groups, const uint32_t *fb,
                     int32_t n)
{
    uint32_t w[BATCH];
    int32_t g;
    int32_t i;
    for (i = n; i < BATCH; ++i) {
        w[i] = 0u;
    }
    for (g = 0; g < groups; ++g, planes += stride) {
        const uint32_t row = rows[g];
        if (n >= 8) {
            for (i = 0; i < n; ++i) {
                w[i] = sign_word(row, fb[i]);
            }
            add16(planes, row, w, 0);
            continue;
        }
        for (i = 0; i + 1 < n; i += 2) {
            uint32_t carry;
            uint32_t ones = planes[0];
            CSA(carry, ones, ones, sign_word(row, fb[i]), sign_word(row, fb[i + 1]));
            planes[0] = ones;
            ripple(planes + 1, carry);
        }
        if (i < n) {
            ripple(planes, sign_word(row, fb[i]));
        }
    }
}

/* bits[g] = lanes whose counter exceeds half = total >> 1, for counters below 2^used. */
static PNET_ALWAYS_INLINE void compare_planes(const uint32_t *planes, int32_t stride, int32_t groups, uint32_t half, int32_t used,
                           uint32_t *bits)
{
    int32_t g;
    for (g = 0; g < groups; ++g, planes += stride) {
        uint32_t gt = 0u;
        uint32_t eq = 0xFFFFFFFFu;
        int32_t j;
        for (j = used - 1; j >= 0; --j) {
            const uint32_t x = planes[j];
            if ((half >> j) & 1u) {
                eq &= x;
            } else {
                gt |= eq & x;
                eq &= ~x;
            }
        }
        bits[g] = gt;
    }
}

/* Number of bits needed to write v (0 for 0). */
static int32_t bit_length(uint32_t v)
{
    int32_t n = 0;
    while (v != 0u) {
        v >>= 1;
        n += 1;
    }
    return n;
}

/* The reference algorithm, one int32 counter per bit: for num_bits too small to hold the planes. */
static void project_per_bit(pnet_text_iter *it, int32_t num_bits, const uint32_t *rows, int32_t *acc,
                            uint32_t *total)
{
    const int32_t groups = PNET_WORDS(num_bits);
    uint32_t f;
    int32_t k;
    for (k = 0; k < num_bits; ++k) {
        acc[k] = 0;
    }
    while (pnet_text_next(it, &f)) {
        const uint32_t fb = fold(f * PNET_HASH_GOLDEN_B);
        int32_t g;
        *total += 1u;
        for (g = 0; g < groups; ++g) {
            uint32_t h = sign_word(rows[g], fb);
            int32_t *a = acc + (size_t)g * 32u;
            const int32_t m = num_bits - 32 * g < 32 ? num_bits - 32 * g : 32;
            int32_t j;
            for (j = 0; j < m; ++j) {
                a[j] += (int32_t)(h & 1u);
                h >>= 1;
            }
        }
    }
}

int pnet_text_project(const uint8_t *text, size_t len, uint32_t seed, int32_t num_bits, int32_t char_max_n,
                      int32_t words, int32_t *acc, uint32_t *bits)
{
    pnet_text_iter it;
    uint32_t total = 0u;
    uint32_t most;
    int32_t groups;
    int32_t planes;
    int32_t g;
    int rc;

    if (bits == NULL) {
        return PNET_ERR_NULL;
    }
    if (num_bits < 1) {
        return PNET_ERR_LENGTH;
    }
    groups = PNET_WORDS(num_bits);
    for (g = 0; g < groups; ++g) {
        bits[g] = 0u;
    }
    if (acc == NULL) {
        return PNET_ERR_NULL;
    }
    rc = pnet_text_begin(&it, text, len, char_max_n, words);
    if (rc != PNET_OK) {
        return rc;
    }
    /* Each normalised byte (at most len + 2 with the framing separators) starts at most one char,
       which emits at most char_max_n n-grams and, when it ends a word, 3 word features. */
    most = ((uint32_t)len + 2u) * (uint32_t)(char_max_n + 3 * words);
    planes = bit_length(most);
    for (g = 0; g < groups; ++g) {
        bits[g] = fold(PNET_HASH_ROW(seed, (uint32_t)g));
    }
    if (planes * groups > num_bits) {
        int32_t k;
        project_per_bit(&it, num_bits, bits, acc, &total);
        for (g = 0; g < groups; ++g) {
            bits[g] = 0u;
        }
        for (k = 0; k < num_bits; ++k) {
            if (2 * acc[k] - (int32_t)total > 0) {
                bits[k >> 5] |= 1u << ((uint32_t)k & 31u);
            }
        }
        return PNET_OK;
    }
    {
        uint32_t *const counters = (uint32_t *)acc; /* same object type up to signedness */
        uint32_t fb[BATCH];
        uint32_t f;
        int32_t n = 0;
        int32_t k;
        for (k = 0; k < planes * groups; ++k) {
            counters[k] = 0u;
        }
        while (pnet_text_next(&it, &f)) {
            fb[n++] = fold(f * PNET_HASH_GOLDEN_B);
            if (n == BATCH) {
                add_batch(counters, planes, bits, groups, fb);
                total += BATCH;
                n = 0;
            }
        }
        add_tail(counters, planes, bits, groups, fb, n);
        total += (uint32_t)n;
        compare_planes(counters, planes, groups, total >> 1, bit_length(total), bits);
        if (num_bits & 31) {
            bits[groups - 1] &= (1u << ((uint32_t)num_bits & 31u)) - 1u;
        }
    }
    return PNET_OK;
}

/* ------------------------------------------------------------------ streaming -- */

/* The hash rows and counters that follow the state in the caller's memory. */
static uint32_t *stream_words(pnet_text_stream *s)
{
    return (uint32_t *)(void *)(s + 1);
}

/* add_batch as one function for the streaming path (the one-shot kernel inlines its own). */
static PNET_NOINLINE void add_batch_call(uint32_t *planes, int32_t stride, const uint32_t *rows, int32_t groups,
                                         const uint32_t *fb)
{
    add_batch(planes, stride, rows, groups, fb);
}

/* Counts the features the bytes supplied so far give, PNET_TEXT_STREAM_PLANES planes per group. */
static void stream_drain(pnet_text_stream *s)
{
    const int32_t groups = PNET_WORDS(s->num_bits);
    uint32_t *const rows = stream_words(s);
    uint32_t *const counters = rows + groups;
    uint32_t f;
    while (pnet_text_next(&s->it, &f)) {
        s->fb[s->n++] = fold(f * PNET_HASH_GOLDEN_B);
        if (s->n == BATCH) {
            add_batch_call(counters, s->planes, rows, groups, s->fb);
            s->total += BATCH;
            s->n = 0;
        }
    }
}

int pnet_text_stream_begin(pnet_text_stream *s, uint32_t seed, int32_t num_bits, int32_t char_max_n, int32_t words)
{
    int32_t groups;
    int32_t k;
    int rc;
    if (s == NULL) {
        return PNET_ERR_NULL;
    }
    s->num_bits = 0;
    s->state = PNET_ERR_ARG;
    if (num_bits < 1) {
        s->state = PNET_ERR_LENGTH;
        return PNET_ERR_LENGTH;
    }
    rc = pnet_text_begin_stream(&s->it, char_max_n, words);
    if (rc != PNET_OK) {
        s->state = rc;
        return rc;
    }
    groups = PNET_WORDS(num_bits);
    s->seed = seed;
    s->num_bits = num_bits;
    s->planes = PNET_TEXT_STREAM_PLANES;
    s->n = 0;
    s->total = 0u;
    s->state = PNET_TEXT_STREAM_FEEDING;
    for (k = 0; k < groups; ++k) {
        stream_words(s)[k] = fold(PNET_HASH_ROW(seed, (uint32_t)k));
    }
    for (k = groups; k < (PNET_TEXT_STREAM_PLANES + 1) * groups; ++k) {
        stream_words(s)[k] = 0u;
    }
    return PNET_OK;
}

int pnet_text_stream_feed(pnet_text_stream *s, const uint8_t *chunk, size_t len)
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

int pnet_text_stream_finish(pnet_text_stream *s, uint32_t *bits)
{
    int32_t groups;
    int32_t g;
    int rc;
    if (s == NULL || bits == NULL) {
        return PNET_ERR_NULL;
    }
    rc = pnet_text_stream_supply(&s->it, &s->state, NULL, 0u, 1);
    if (rc != PNET_OK) {
        return rc; /* bits untouched */
    }
    groups = PNET_WORDS(s->num_bits);
    for (g = 0; g < groups; ++g) {
        bits[g] = 0u;
    }
    stream_drain(s);
    {
        uint32_t *const rows = stream_words(s);
        uint32_t *const counters = rows + groups;
        add_tail(counters, s->planes, rows, groups, s->fb, s->n);
        s->total += (uint32_t)s->n;
        s->n = 0;
        compare_planes(counters, s->planes, groups, s->total >> 1, bit_length(s->total), bits);
    }
    if (s->num_bits & 31) {
        bits[groups - 1] &= (1u << ((uint32_t)s->num_bits & 31u)) - 1u;
    }
    return PNET_OK;
}
