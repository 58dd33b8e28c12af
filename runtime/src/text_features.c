/* text_features.c - streaming text featurizer (docs/format.md section 4).
   Three stages, each pulling from the one before, with O(1) state:
   byte normalisation -> characters -> feature ids (char n-grams, word uni/bi/skip-grams).
   Bytes are read as uint8_t only, so plain-char signedness never matters. */
#include "pnet/pnet.h"

#define SEP 0x20

enum { PHASE_START = 0, PHASE_BODY = 1, PHASE_TAIL = 2, PHASE_DONE = 3 };

#if defined(__GNUC__)
#define TEXT_INLINE __inline__ __attribute__((always_inline)) /* the per-byte path: no calls */
#else
#define TEXT_INLINE
#endif

#define NEED_INPUT (-2) /* norm_next: the bytes fed so far do not decide the next byte yet */

/* Apply the first matching normalisation rule at it->pos; queue its output bytes. */
static void normalise_at(pnet_text_iter *it)
{
    const uint8_t *t = it->text;
    const size_t p = it->pos;
    const int32_t b = t[p];
    const int32_t nxt = p + 1 < it->len ? (int32_t)t[p + 1] : -1;
    int32_t step = 1;

    it->pend_i = 0;
    it->pend_n = 1;
    if (b >= 0x41 && b <= 0x5A) { /* 1. ASCII capitals */
        it->pend[0] = b + 0x20;
    } else if (b < 0x80 && !(b >= 0x61 && b <= 0x7A)) { /* 2. other ASCII, not a-z */
        it->pend[0] = SEP;
    } else if (b == 0xC3 && nxt >= 0x80 && nxt <= 0x9E && nxt != 0x97) { /* 3. Latin-1 capitals */
        it->pend[0] = 0xC3;
        it->pend[1] = nxt + 0x20;
        it->pend_n = 2;
        step = 2;
    } else if (b == 0xD0 && nxt >= 0x80 && nxt <= 0x8F) { /* 4. Cyrillic capitals */
        it->pend[0] = 0xD1;
        it->pend[1] = nxt + 0x10;
        it->pend_n = 2;
        step = 2;
    } else if (b == 0xD0 && nxt >= 0x90 && nxt <= 0x9F) {
        it->pend[0] = 0xD0;
        it->pend[1] = nxt + 0x20;
        it->pend_n = 2;
        step = 2;
    } else if (b == 0xD0 && nxt >= 0xA0 && nxt <= 0xAF) {
        it->pend[0] = 0xD1;
        it->pend[1] = nxt - 0x20;
        it->pend_n = 2;
        step = 2;
    } else if (b == 0xC2 && nxt >= 0x80 && nxt <= 0xBF) { /* 5. C1 controls, Latin-1 punctuation */
        it->pend[0] = SEP;
        step = 2;
    } else if (b == 0xE2 && nxt == 0x80 && p + 2 < it->len && t[p + 2] >= 0x80 && t[p + 2] <= 0xBF) {
        it->pend[0] = SEP; /* 6. U+2000..U+203F */
        step = 3;
    } else { /* 7. anything else passes through */
        it->pend[0] = b;
    }
    it->pos = p + (size_t)step;
}

/* How far into len bytes at hand the rules can be applied: all of them at the end of the text,
   else all but the last 2, which a rule may read ahead to. */
static size_t decided_end(size_t len, int32_t final)
{
    return final ? len : (len > 2u ? len - 2u : 0u);
}

/* Next normalised byte (separator runs collapsed, framed by separators), -1 at the end, or
   NEED_INPUT when streaming and the rule at pos may depend on bytes not fed yet (a rule reads
   at most 2 bytes ahead, so the last 2 bytes of a chunk wait for the next one). Streaming reads
   the bytes carried from the previous chunk from a small window (them and the chunk's first 2
   bytes), then the chunk itself, so the one-shot path reads text[] directly. */
static TEXT_INLINE int32_t norm_next(pnet_text_iter *it)
{
    for (;;) {
        if (it->pend_i < it->pend_n) {
            const int32_t o = it->pend[it->pend_i];
            it->pend_i += 1;
            if (o == SEP && it->last == SEP) {
                continue;
            }
            it->last = o;
            return o;
        }
        if (it->phase == PHASE_START) {
            it->phase = PHASE_BODY;
            it->last = SEP;
            return SEP;
        }
        if (it->phase == PHASE_BODY) {
            if (it->pos < it->decided) {
                normalise_at(it);
                continue;
            }
            if (it->rest != NULL) { /* the carried bytes are done: on in the chunk itself */
                it->pos -= (size_t)it->carry_n;
                it->text = it->rest;
                it->len = it->rest_len;
                it->decided = decided_end(it->len, it->final);
                it->rest = NULL;
                it->carry_n = 0;
                continue;
            }
            if (!it->final) {
                return NEED_INPUT;
            }
            it->phase = PHASE_TAIL;
            if (it->last != SEP) {
                it->last = SEP;
                return SEP;
            }
        }
        return -1;
    }
}

static uint32_t fnv_step(uint32_t h, int32_t byte)
{
    return (h ^ (uint32_t)byte) * PNET_FNV_PRIME;
}

#define LOOK_RESUME (-3) /* look: a char is half assembled (its bytes straddle two chunks) */

/* Start a char at normalised byte b. */
static TEXT_INLINE void start_char(pnet_text_iter *it, int32_t b)
{
    it->char_first = b;
    it->char_len = 1u;
    it->char_hash = fnv_step(PNET_FNV_OFFSET, b);
    it->word_next = fnv_step(it->word_hash, b);
}

/* Assemble the next character: a new one starts at every byte that is not 10xxxxxx.
   Returns 1 (a char is ready), 0 (the text ended) or NEED_INPUT (streaming: the char so far
   stays in the iterator, look = LOOK_RESUME, and assembly resumes with the next chunk). The
   streaming cases sit on the branches of negative bytes, which the one-shot path rarely takes. */
static int next_char(pnet_text_iter *it)
{
    const int32_t b = it->look;
    if (b >= 0) {
        start_char(it, b);
    } else if (b != LOOK_RESUME) {
        const int32_t first = norm_next(it);
        if (first < 0) {
            return first == NEED_INPUT ? NEED_INPUT : 0;
        }
        start_char(it, first);
    }
    it->look = -1;
    for (;;) {
        const int32_t c = norm_next(it);
        if (c < 0) {
            if (c == NEED_INPUT) {
                it->look = LOOK_RESUME;
                return NEED_INPUT;
            }
            break;
        }
        if ((c & 0xC0) != 0x80) {
            it->look = c;
            break;
        }
        it->char_len = 2u; /* only "exactly one byte" matters */
        it->char_hash = fnv_step(it->char_hash, c);
        it->word_next = fnv_step(it->word_next, c);
    }
    return 1;
}

/* Queue the features of the character just assembled, in the order of pnetc.hashing. */
static void char_features(pnet_text_iter *it)
{
    const int32_t max_n = it->char_max_n;
    int32_t q = 0;

    if (it->seen < PNET_TEXT_MAX_CHAR_N) {
        it->seen += 1;
    }
    if (max_n > 0) {
        uint32_t cur[PNET_TEXT_MAX_CHAR_N + 1];
        const uint32_t c = it->char_hash;
        int32_t m;
        cur[1] = c;
        it->queue[q++] = c;
        for (m = 2; m <= max_n; ++m) {
            cur[m] = pnet_hash32(PNET_TAG_CHAR, it->prev[m - 1], c);
            if (it->seen >= m) {
                it->queue[q++] = cur[m];
            }
        }
        for (m = 1; m <= max_n; ++m) {
            it->prev[m] = cur[m];
        }
    }
    if (it->words) {
        if (it->char_len == 1u && it->char_first == SEP) {
            if (it->in_word) {
                const uint32_t w = it->word_hash;
                it->queue[q++] = pnet_hash32(PNET_TAG_WORD, w, 0u);
                if (it->nwords >= 1) {
                    it->queue[q++] = pnet_hash32(PNET_TAG_BIGRAM, it->w1, w);
                }
                if (it->nwords >= 2) {
                    it->queue[q++] = pnet_hash32(PNET_TAG_SKIP, it->w2, w);
                }
                it->w2 = it->w1;
                it->w1 = w;
                if (it->nwords < 2) {
                    it->nwords += 1;
                }
                it->in_word = 0;
                it->word_hash = PNET_FNV_OFFSET;
            }
        } else {
            it->in_word = 1;
            it->word_hash = it->word_next;
        }
    }
    it->q_n = q;
    it->q_i = 0;
}

int pnet_text_begin(pnet_text_iter *it, const uint8_t *text, size_t len, int32_t char_max_n, int32_t words)
{
    int32_t m;
    int rc = PNET_OK;

    if (it == NULL) {
        return PNET_ERR_NULL;
    }
    if (len >= PNET_TEXT_MAX_LEN) {
        rc = PNET_ERR_LENGTH;
    } else if (text == NULL && len > 0u) {
        rc = PNET_ERR_NULL;
    } else if (char_max_n < 0 || char_max_n > PNET_TEXT_MAX_CHAR_N || (words != 0 && words != 1)) {
        rc = PNET_ERR_ARG;
    }
    it->text = text;
    it->len = rc == PNET_OK ? len : 0u;
    it->pos = 0u;
    it->fed = it->len;
    it->final = 1;
    it->decided = it->len;
    for (m = 0; m < 4; ++m) {
        it->window[m] = 0u;
    }
    it->carry_n = 0;
    it->rest = NULL;
    it->rest_len = 0u;
    it->char_max_n = char_max_n;
    it->words = words;
    it->phase = rc == PNET_OK ? PHASE_START : PHASE_DONE;
    it->last = SEP;
    it->pend[0] = 0;
    it->pend[1] = 0;
    it->pend_n = 0;
    it->pend_i = 0;
    it->look = -1;
    it->char_hash = PNET_FNV_OFFSET;
    it->char_len = 0u;
    it->char_first = 0;
    it->word_hash = PNET_FNV_OFFSET;
    it->word_next = PNET_FNV_OFFSET;
    it->in_word = 0;
    it->w1 = 0u;
    it->w2 = 0u;
    it->nwords = 0;
    it->seen = 0;
    for (m = 0; m <= PNET_TEXT_MAX_CHAR_N; ++m) {
        it->prev[m] = 0u;
    }
    for (m = 0; m < PNET_TEXT_MAX_CHAR_N + 3; ++m) {
        it->queue[m] = 0u;
    }
    it->q_n = 0;
    it->q_i = 0;
    return rc;
}

int pnet_text_next(pnet_text_iter *it, uint32_t *feature_id)
{
    if (it == NULL || feature_id == NULL) {
        return 0;
    }
    while (it->q_i >= it->q_n) {
        if (next_char(it) != 1) {
            return 0;
        }
        char_features(it);
    }
    *feature_id = it->queue[it->q_i];
    it->q_i += 1;
    return 1;
}

int pnet_text_begin_stream(pnet_text_iter *it, int32_t char_max_n, int32_t words)
{
    const int rc = pnet_text_begin(it, NULL, 0u, char_max_n, words);
    if (rc == PNET_OK) {
        it->final = 0;
    }
    return rc;
}

int pnet_text_supply(pnet_text_iter *it, const uint8_t *chunk, size_t len, int32_t final)
{
    if (it == NULL || (chunk == NULL && len > 0u)) {
        return PNET_ERR_NULL;
    }
    if (it->final) {
        return PNET_ERR_ARG; /* not a stream, or its last chunk was supplied already */
    }
    if (len >= PNET_TEXT_MAX_LEN - it->fed) {
        it->phase = PHASE_DONE; /* the text is too long: it yields nothing more */
        it->final = 1;
        return PNET_ERR_LENGTH;
    }
    it->fed += len;
    it->final = final != 0;
    it->pos = 0u;
    if (it->carry_n == 0) {
        it->text = chunk;
        it->len = len;
        it->decided = decided_end(len, it->final);
        return PNET_OK;
    }
    {
        /* the carried bytes and the chunk's first 2, which is all a rule at a carried byte reads */
        const size_t head = len < 2u ? len : 2u;
        size_t i;
        /* cppcheck follows the finishing call (len 0) into here and calls this always false */
        /* cppcheck-suppress knownConditionTrueFalse */
        for (i = 0; i < head; ++i) {
            it->window[(size_t)it->carry_n + i] = chunk[i];
        }
        it->text = it->window;
        it->len = (size_t)it->carry_n + head;
        /* a chunk of at most 2 bytes is all in the window */
        /* cppcheck-suppress knownConditionTrueFalse */
        it->rest = len > head ? chunk : NULL;
        it->rest_len = len;
        /* with more of the chunk to come, the rules apply to the carried bytes only */
        it->decided = it->rest != NULL ? (size_t)it->carry_n : decided_end(it->len, it->final);
    }
    return PNET_OK;
}

void pnet_text_park(pnet_text_iter *it)
{
    uint8_t keep[2];
    int32_t n = 0;
    size_t p;
    if (it == NULL || it->final) {
        return;
    }
    for (p = it->pos; p < it->len && n < 2; ++p) {
        keep[n++] = it->text[p];
    }
    it->window[0] = n > 0 ? keep[0] : 0u;
    it->window[1] = n > 1 ? keep[1] : 0u;
    it->carry_n = n;
    it->text = it->window;
    it->len = (size_t)n;
    it->decided = 0u;
    it->pos = 0u;
}

int pnet_text_stream_supply(pnet_text_iter *it, int32_t *state, const uint8_t *chunk, size_t len, int32_t final)
{
    int rc;
    if (*state != PNET_TEXT_STREAM_FEEDING) {
        return *state < 0 ? (int)*state : PNET_ERR_ARG;
    }
    rc = pnet_text_supply(it, chunk, len, final);
    if (rc != PNET_OK) {
        *state = rc;
        return rc;
    }
    if (final) {
        *state = PNET_TEXT_STREAM_FINISHED;
    }
    return PNET_OK;
}
