/* libFuzzer target: the text reference model (--name model) and the C text featurizer,
 * fed arbitrary bytes (run with -max_len=1048576: 0 to 1 MB).
 *
 * Checks:
 *  - model_predict_text returns a class in range that is the first maximum of its scores;
 *  - the projection bits it leaves equal an independent projection of the featurizer's ids
 *    (spec_ref.c, acc summed in int64), padding bits 0;
 *  - the featurizer emits at most (char_max_n + 3) ids per normalised byte (O(len) work)
 *    and every text is finite (the loop ends);
 *  - model_predict on a NUL-terminated copy equals predict_text on the bytes before the
 *    first NUL;
 *  - the API contract: NULL text with len > 0 gives PNET_ERR_NULL, NULL with len 0 is the
 *    empty text, len >= 2^26 gives PNET_ERR_LENGTH without reading the text.
 * The featurizer itself is compared with the numpy spec by replaying the corpus
 * (fuzz/replay.py). */
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_params.h"
#include "model.h"
#include "pnet/pnet.h"
#include "spec_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int first_max(const model_score_t *s)
{
    int j, best = 0;
    for (j = 1; j < MODEL_NUM_CLASSES; ++j) {
        if (s[j] > s[best]) {
            best = j;
        }
    }
    return best;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    model_score_t scores[MODEL_NUM_CLASSES], scores2[MODEL_NUM_CLASSES];
    uint32_t bits[MODEL_NUM_WORDS], ref_bits[MODEL_NUM_WORDS];
    int64_t acc[FUZZ_NUM_BITS];
    pnet_text_iter it;
    uint32_t id;
    size_t count = 0, k, nul;
    uint8_t *copy;
    int c, c2;

    c = model_predict_text(data, size, scores);
    FUZZ_CHECK(c >= 0 && c < MODEL_NUM_CLASSES, "class %d for %zu bytes", c, size);
    FUZZ_CHECK(first_max(scores) == c, "class %d is not the first maximum of the scores", c);
    memcpy(bits, model_last_bits(), sizeof bits);

    /* independent projection of the featurizer's ids */
    memset(acc, 0, sizeof acc);
    FUZZ_CHECK(pnet_text_begin(&it, data, size, FUZZ_CHAR_MAX_N, FUZZ_WORDS) == PNET_OK, "begin failed");
    while (pnet_text_next(&it, &id)) {
        ++count;
        FUZZ_CHECK(count <= (size + 2) * (FUZZ_CHAR_MAX_N + 3), "%zu ids from %zu bytes", count, size);
        spec_text_add(FUZZ_SEED, FUZZ_NUM_BITS, id, acc);
    }
    FUZZ_CHECK(pnet_text_next(&it, &id) == 0, "iterator restarted after the end");
    memset(ref_bits, 0, sizeof ref_bits);
    for (k = 0; k < FUZZ_NUM_BITS; ++k) {
        if (acc[k] > 0) {
            ref_bits[k >> 5] |= 1u << (k & 31);
        }
    }
    FUZZ_CHECK(memcmp(bits, ref_bits, sizeof bits) == 0, "projection bits differ from the reference");

    /* NUL-terminated entry point: the text ends at the first NUL */
    copy = (uint8_t *)malloc(size + 1);
    FUZZ_CHECK(copy != NULL, "out of memory");
    if (size > 0) {
        memcpy(copy, data, size);
    }
    copy[size] = 0;
    nul = strlen((const char *)copy);
    c2 = model_predict(copy, scores2);
    if (nul == size) {
        FUZZ_CHECK(c2 == c && memcmp(scores, scores2, sizeof scores) == 0, "predict != predict_text");
    } else {
        const int c3 = model_predict_text(data, nul, NULL);
        FUZZ_CHECK(c2 == c3, "predict %d != predict_text of the prefix %d", c2, c3);
    }
    free(copy);

    /* the error contract */
    FUZZ_CHECK(model_predict_text(NULL, size + 1, scores2) == PNET_ERR_NULL, "NULL text not rejected");
    FUZZ_CHECK(model_predict(NULL, scores2) == PNET_ERR_NULL, "NULL string not rejected");
    FUZZ_CHECK(model_predict_text(data, PNET_TEXT_MAX_LEN + size, scores2) == PNET_ERR_LENGTH, "2^26 bytes accepted");
    FUZZ_CHECK(model_predict_text(data, (size_t)-1 - size, scores2) == PNET_ERR_LENGTH, "SIZE_MAX accepted");
    c2 = model_predict_text(NULL, 0, scores2);
    FUZZ_CHECK(c2 >= 0 && c2 < MODEL_NUM_CLASSES, "empty text gave %d", c2);

#ifdef FUZZ_REPLAY
    printf("class %d\n", c);
    printf("scores");
    for (k = 0; k < MODEL_NUM_CLASSES; ++k) {
        printf(" %d", (int)scores[k]);
    }
    printf("\n");
    replay_words("bits", bits, MODEL_NUM_WORDS);
    printf("features %zu\n", count);
#endif
    return 0;
}
