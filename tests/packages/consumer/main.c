/* Runs the samples of samples.h (written by the test) through the model and prints one line
 * per sample: "P <class> <score>..." (int8 scores in decimal, float scores as 8 hex digits of
 * their bits), then "E <count>". Bare metal prints through semihosting, the host through stdio. */
#include <stdint.h>
#include <string.h>

#include "samples.h" /* includes the model's header; defines NUM_SAMPLES, run_sample(i, scores) */

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

static char *put_hex(char *p, uint32_t v)
{
    int i;
    for (i = 7; i >= 0; i--) {
        *p++ = "0123456789abcdef"[(v >> (4 * i)) & 0xfu];
    }
    return p;
}

int main(void)
{
    static char line[32 + 12 * NUM_CLASSES];
    score_t scores[NUM_CLASSES];
    int i, k;
    for (i = 0; i < NUM_SAMPLES; i++) {
        char *p = line;
        int cls = run_sample(i, scores);
        *p++ = 'P';
        *p++ = ' ';
        p = put_int(p, cls);
        for (k = 0; k < NUM_CLASSES; k++) {
            *p++ = ' ';
#if SCORES_FLOAT
            {
                uint32_t bits;
                memcpy(&bits, &scores[k], sizeof bits);
                p = put_hex(p, bits);
            }
#else
            p = put_int(p, scores[k]);
            (void)put_hex;
#endif
        }
        *p++ = '\n';
        *p = '\0';
        OUT(line);
    }
    {
        char *p = line;
        *p++ = 'E';
        *p++ = ' ';
        p = put_int(p, NUM_SAMPLES);
        *p++ = '\n';
        *p = '\0';
        OUT(line);
    }
    return 0;
}
