/* dense_pm1.c - int8 fully connected layer with +-1 weights (bit 1 = +1, bit 0 = -1, packed like the
   projection bits: PNET_WORDS(in) words per row, input i at bit i & 31 of word i >> 5):
   acc[j] = bias[j] + sum_i (x[i] + in_offset) * s_ji, then requantized like dense_s8. The int8
   activations keep their precision (only the weights are 1-bit). Padding bits never count.
   |acc - bias| <= 255 * in fits int32 for in <= 2^15 (the compiler's limit).

   Portable C: (x[i] + in_offset) added or subtracted by a branch-free select, no multiplies.
   Arm DSP path (Cortex-M4/M7/M33/M55, ARMv7-A; define PNET_PORTABLE for the plain C loop): four
   inputs per step, widened with in_offset into 16-bit lanes (x0,x2) and (x1,x3) by SXTAB16; their
   four sign bits index a 16-entry table of the matching +-1 lanes, and two SMLADs add the four signed
   inputs. Integer sums: identical results to the C loop. */
#include "pnet/pnet_support.h"

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#define PNET_DENSE_PM1_DSP 1
#include <arm_acle.h>
#endif

#if defined(PNET_DENSE_PM1_DSP)
/* lanes(a, b) = a in bits 0..15, b in bits 16..31, each +1 or -1 */
#define PM1_LANES(a, b) ((int32_t)(((uint32_t)(uint16_t)(int16_t)(a)) | ((uint32_t)(uint16_t)(int16_t)(b) << 16)))
#define PM1_SIGN(n, k) ((((n) >> (k)) & 1) != 0 ? 1 : -1)
/* nibble n (bit k = sign of input k): {lanes for inputs (0, 2), lanes for inputs (1, 3)} */
#define PM1_ENTRY(n) {PM1_LANES(PM1_SIGN(n, 0), PM1_SIGN(n, 2)), PM1_LANES(PM1_SIGN(n, 1), PM1_SIGN(n, 3))}
static const int32_t pm1_lanes[16][2] = {
    PM1_ENTRY(0),  PM1_ENTRY(1),  PM1_ENTRY(2),  PM1_ENTRY(3),  PM1_ENTRY(4),  PM1_ENTRY(5),
    PM1_ENTRY(6),  PM1_ENTRY(7),  PM1_ENTRY(8),  PM1_ENTRY(9),  PM1_ENTRY(10), PM1_ENTRY(11),
    PM1_ENTRY(12), PM1_ENTRY(13), PM1_ENTRY(14), PM1_ENTRY(15),
};

/* sum_{i < in4} (x[i] + in_offset) * s_i over one row, in4 a multiple of 4 */
static int32_t row_dsp(const int8_t *x, int32_t in4, const uint32_t *row, int32_t off2)
{
    int32_t acc = 0;
    int32_t i = 0;
    while (i < in4) {
        uint32_t bits = row[i >> 5];
        const int32_t end = i + 32 < in4 ? i + 32 : in4;
        for (; i < end; i += 4, bits >>= 4) {
            const int32_t xv = pnet_load_s32(x + i);
            const int32_t *lanes = pm1_lanes[bits & 15u];
            acc = __smlad(__sxtab16(off2, xv), lanes[0], acc);
            acc = __smlad(pnet_sxtab16_ror8(off2, xv), lanes[1], acc);
        }
    }
    return acc;
}
#endif

void pnet_dense_pm1(const int8_t *x, int32_t in, const uint32_t *wbits, const int32_t *bias, int32_t out,
                    int32_t in_offset, const int32_t *mult, const int32_t *shift, int32_t out_offset,
                    int32_t act_min, int32_t act_max, int8_t *y)
{
    const int32_t nwords = PNET_WORDS(in);
    int32_t from = 0; /* inputs [0, from) go through the DSP path */
    int32_t j;
#if defined(PNET_DENSE_PM1_DSP)
    const int32_t off2 = (int32_t)(((uint32_t)in_offset & 0xFFFFu) * 0x00010001u);
    from = in & ~3;
#endif

    for (j = 0; j < out; ++j) {
        const uint32_t *row = wbits + (size_t)j * (size_t)nwords;
        int32_t acc = bias != NULL ? bias[j] : 0;
        int32_t i;
#if defined(PNET_DENSE_PM1_DSP)
        acc += row_dsp(x, from, row, off2);
#endif
        for (i = from; i < in; ++i) {
            /* plus: all ones where the weight is +1; (v ^ m) - m is v or -v, branch-free */
            const int32_t m = (int32_t)((row[i >> 5] >> (i & 31)) & 1u) - 1;
            acc += (((int32_t)x[i] + in_offset) ^ m) - m;
        }
        y[j] = pnet_clamp_s8(pnet_requantize(acc, mult[j], shift[j]), out_offset, act_min, act_max);
    }
}
