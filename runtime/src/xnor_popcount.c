/* xnor_popcount.c - +-1 weights times +-1 inputs: acc = bias + 2 * popcount(~(b ^ w)) - num_bits.
   Padding bits of the last word are masked out, so they never count. */
#include "pnet/pnet.h"

void pnet_xnor_popcount(const uint32_t *bits, int32_t num_bits, const uint32_t *wbits, const int32_t *bias,
                        int32_t out, int32_t *acc)
{
    const int32_t nwords = PNET_WORDS(num_bits);
    const uint32_t rem = (uint32_t)num_bits & 31u;
    const uint32_t last_mask = rem == 0u ? 0xFFFFFFFFu : (1u << rem) - 1u;
    int32_t j;

    for (j = 0; j < out; ++j) {
        const uint32_t *wr = wbits + (size_t)j * (size_t)nwords;
        uint32_t count = 0u;
        int32_t w;
        for (w = 0; w < nwords; ++w) {
            uint32_t same = ~(bits[w] ^ wr[w]);
            if (w == nwords - 1) {
                same &= last_mask;
            }
            count += pnet_popcount32(same);
        }
        acc[j] = (bias != NULL ? bias[j] : 0) + 2 * (int32_t)count - num_bits;
    }
}
