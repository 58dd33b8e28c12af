/* The program a user writes around a generated package: raw float features go through
 * clf_quantize (feature models) or raw UTF-8 bytes through clf_predict_text (text models), and
 * each answer is printed as "P <class> <label> <probability of the class, per mille>", then
 * "E <count>". samples.h (written by the test) holds the user's raw test data. Bare metal prints
 * through semihosting (pnetc::board), the host through stdio. */
#include <stdint.h>

#include "samples.h"

#ifdef PNET_BARE_METAL
#include "semihost.h"
#define OUT(s) pnet_sh_puts(s)
#else
#include <stdio.h>
#define OUT(s) fputs((s), stdout)
#endif

static char *put_int(char *p, long v)
{
    char tmp[24];
    int n = 0;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    if (v < 0) {
        *p++ = '-';
    }
    do {
        tmp[n++] = (char)('0' + (u % 10u));
        u /= 10u;
    } while (u != 0u);
    while (n > 0) {
        *p++ = tmp[--n];
    }
    return p;
}

static char *put_str(char *p, const char *s, int max)
{
    while (*s != '\0' && max-- > 0) {
        *p++ = *s++;
    }
    return p;
}

int main(void)
{
    static char line[160];
    clf_score_t scores[CLF_NUM_CLASSES];
    float probs[CLF_NUM_CLASSES];
    char *p;
    int i;
    for (i = 0; i < NUM_SAMPLES; i++) {
        p = line;
#if CLF_IS_TEXT
        const int cls = clf_predict_text((const uint8_t *)texts[i], text_len[i], scores);
#else
        clf_input_t q[CLF_INPUT_SIZE];
        int cls;
        clf_quantize(inputs[i], q);
        cls = clf_predict(q, scores);
#endif
        p = put_str(p, "P ", 2);
        p = put_int(p, cls);
        if (cls >= 0) {
            clf_scores_to_probabilities(scores, probs);
            *p++ = ' ';
            p = put_str(p, clf_labels[cls], 64);
            *p++ = ' ';
            p = put_int(p, (long)(probs[cls] * 1000.0f + 0.5f));
        }
        *p++ = '\n';
        *p = '\0';
        OUT(line);
    }
    p = put_str(line, "E ", 2);
    p = put_int(p, NUM_SAMPLES);
    *p++ = '\n';
    *p = '\0';
    OUT(line);
    return 0;
}
