/* dense_pm1.c - int8 fully connected layer with +-1 weights (bit 1 = +1, bit 0 = -1, packed like the
   projection bits: PNET_WORDS(in) words per row, input i at bit i & 31 of word i >> 5):
   acc[j] = bias[j] + sum_i (x[i] + in_offset) * s_ji = bias[j] + 2 * sum_{s_ji = +1} (x[i] + in_offset) - total,
   total = sum_i (x[i] + in_offset), then requantized like dense_s8. Adds only, no multiplies; the
   int8 activations keep their precision (only the weights are 1-bit). Padding bits never count.
   |2 * plus - total| <= 3 * 255 * in fits int32 for in <= 2^15 (the compiler's limit). */
#include "pnet/pnet.h"

void pnet_dense_pm1(const int8_t *x, int32_t in, const uint32_t *wbits, const int32_t *bias, int32_t out,
                    int32_t in_offset, const int32_t *mult, const int32_t *shift, int32_t out_offset,
                    int32_t act_min, int32_t act_max, int8_t *y)
{
    const int32_t nwords = PNET_WORDS(in);
    int32_t total = 0;
    int32_t i, j;

    for (i = 0; i < in; ++i) {
        total += (int32_t)x[i] + in_offset;
    }
    for (j = 0; j < out; ++j) {
        const uint32_t *row = wbits + (size_t)j * (size_t)nwords;
        int32_t plus = 0;
        int64_t r;
        for (i = 0; i < in; ++i) {
            /* mask is all ones where the weight is +1: a branch-free select */
            const int32_t mask = -(int32_t)((row[i >> 5] >> (i & 31)) & 1u);
            plus += ((int32_t)x[i] + in_offset) & mask;
        }
        r = (int64_t)pnet_requantize((bias != NULL ? bias[j] : 0) + 2 * plus - total, mult[j], shift[j]) + out_offset;
        if (r < act_min) {
            r = act_min;
        }
        if (r > act_max) {
            r = act_max;
        }
        y[j] = (int8_t)r;
    }
}
