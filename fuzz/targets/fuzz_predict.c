/* libFuzzer target: the generated predict of a dense reference model (built with --name model).
 *
 * Input: arbitrary bytes. The first MODEL_INPUT_SIZE bytes are the sample (missing bytes are
 * 0), copied into a heap buffer of exactly MODEL_INPUT_SIZE elements so ASan catches any read
 * past it. Checks: the class is in range and is the first maximum of the scores, the padding
 * bits of last_bits are 0, a second call (scores NULL) gives the same class and bits, and a
 * NULL input returns PNET_ERR_NULL. Exactness against the golden interpreter is checked by
 * replaying the corpus (fuzz/replay.py). */
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_params.h"
#include "model.h"
#include "pnet/pnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    model_input_t *x = (model_input_t *)malloc(MODEL_INPUT_SIZE * sizeof(model_input_t));
    model_score_t scores[MODEL_NUM_CLASSES];
    uint32_t bits[MODEL_NUM_WORDS];
    size_t n = size < MODEL_INPUT_SIZE ? size : MODEL_INPUT_SIZE;
    int c, c2, j, best = 0;

    FUZZ_CHECK(x != NULL, "out of memory");
    memset(x, 0, MODEL_INPUT_SIZE * sizeof(model_input_t));
    memcpy(x, data, n);

    c = model_predict(x, scores);
    FUZZ_CHECK(c >= 0 && c < MODEL_NUM_CLASSES, "class %d", c);
    for (j = 1; j < MODEL_NUM_CLASSES; ++j) {
        if (scores[j] > scores[best]) {
            best = j;
        }
    }
    FUZZ_CHECK(best == c, "class %d is not the first maximum %d of the scores", c, best);
    memcpy(bits, model_last_bits(), sizeof bits);
    if (MODEL_NUM_BITS % 32 != 0) {
        FUZZ_CHECK((bits[MODEL_NUM_WORDS - 1] >> (MODEL_NUM_BITS % 32)) == 0u, "padding bits set");
    }

    c2 = model_predict(x, NULL);
    FUZZ_CHECK(c2 == c, "second call gave class %d, first %d", c2, c);
    FUZZ_CHECK(memcmp(bits, model_last_bits(), sizeof bits) == 0, "second call gave other bits");
    FUZZ_CHECK(model_predict(NULL, scores) == PNET_ERR_NULL, "NULL input not rejected");

#ifdef FUZZ_REPLAY
    printf("class %d\n", c);
    printf("scores");
    for (j = 0; j < MODEL_NUM_CLASSES; ++j) {
        printf(" %d", (int)scores[j]);
    }
    printf("\n");
    replay_words("bits", bits, MODEL_NUM_WORDS);
#endif
    free(x);
    return 0;
}
