/* requantize.c - TFLite MultiplyByQuantizedMultiplier, the int8 rescale of CMSIS-NN's
   arm_nn_requantize (default path): SaturatingRoundingDoublingHighMul then RoundingDivideByPOT.
   The portable path has no implementation-defined shifts of negative numbers or narrowing
   conversions; the Arm DSP path below relies on the Arm compilers' arithmetic shifts. */
#include "pnet/pnet.h"

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
/* Arm DSP cores (Cortex-M4/M7/M33/M55, ARMv7-A) with gcc or clang, where shifts of negative
   numbers are arithmetic. gemmlowp's (a*b + nudge) / 2^31, truncating, with nudge 2^30 or
   1 - 2^30 by the sign of a*b, equals floor((a*b + 2^30) / 2^31) for every a*b (CMSIS-NN's form):
   one SMLAL and a shift. RoundingDivideByPOT as below, with arithmetic shifts. */
int32_t pnet_requantize(int32_t v, int32_t mult, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t shifted = (int32_t)((uint32_t)v << (uint32_t)left);
    const int32_t mask = (int32_t)((1u << (uint32_t)right) - 1u);
    int32_t x;
    if (shifted == INT32_MIN && mult == INT32_MIN) {
        x = INT32_MAX;
    } else {
        x = (int32_t)(((int64_t)shifted * mult + ((int64_t)1 << 30)) >> 31);
    }
    return (x >> right) + ((x & mask) > (mask >> 1) + (int32_t)((uint32_t)x >> 31) ? 1 : 0);
}
#else /* portable C */

/* uint32 -> int32 modulo 2^32, portably. */
static int32_t wrap_s32(uint32_t u)
{
    return u <= 0x7FFFFFFFu ? (int32_t)u : -(int32_t)(~u) - 1;
}

/* Arithmetic (floor) shift right by e in 0..31, portably. */
static int32_t asr_s32(int32_t x, int32_t e)
{
    return x < 0 ? ~(int32_t)((uint32_t)~x >> (uint32_t)e) : (int32_t)((uint32_t)x >> (uint32_t)e);
}

/* round(a * b / 2^31), half away from zero as in gemmlowp; INT32_MIN * INT32_MIN saturates. */
static int32_t srdhm(int32_t a, int32_t b)
{
    int64_t ab;
    int64_t nudge;
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C99 division truncates, as in TFLite */
}

/* x / 2^e rounded half away from zero (gemmlowp RoundingDivideByPOT), e in 0..31. */
static int32_t rounding_divide_by_pot(int32_t x, int32_t e)
{
    const int32_t mask = (int32_t)((1u << (uint32_t)e) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return asr_s32(x, e) + (remainder > threshold ? 1 : 0);
}

int32_t pnet_requantize(int32_t v, int32_t mult, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t shifted = wrap_s32((uint32_t)v << (uint32_t)left);
    return rounding_divide_by_pot(srdhm(shifted, mult), right);
}
#endif
