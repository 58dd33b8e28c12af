/* center.c - x[i] = q[i] - mean[i]: the projection's exact integer input.
   Arm DSP path (define PNET_PORTABLE for the C loop): four inputs per step, widened into 16-bit
   lanes by UXTB16/SXTB16, repacked in order (PKHBT/PKHTB) and subtracted lane-wise (SSUB16);
   exact because |x| <= 32767 is the caller's precondition. */
#include "pnet/pnet.h"

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#include <arm_acle.h>

static int32_t load_s32(const void *p)
{
    int32_t v;
    __builtin_memcpy(&v, p, 4); /* unaligned-safe; one LDR on ARMv7 */
    return v;
}

static void store_s32(void *p, int32_t v)
{
    __builtin_memcpy(p, &v, 4);
}

/* bytes 0 and 2 zero-extended into 16-bit lanes (asm: ACLE's operand types differ between gcc
   and clang for UXTB16) */
static int32_t uxtb16(int32_t v)
{
    int32_t r;
    __asm__("uxtb16 %0, %1" : "=r"(r) : "r"(v));
    return r;
}

/* bytes 1 and 3 widened (ROR #8 form of UXTB16 / SXTB16; ACLE has no rotated form) */
static int32_t uxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("uxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

static int32_t sxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* e = (q0, q2), o = (q1, q3) as 16-bit lanes -> x[i..i+3] = (q0, q1) - mean, (q2, q3) - mean */
static void sub4(int32_t e, int32_t o, const int16_t *mean, int16_t *x)
{
    int32_t lo;
    int32_t hi;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(lo) : "r"(e), "r"(o)); /* (e.lo, o.lo) */
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(hi) : "r"(o), "r"(e)); /* (e.hi, o.hi) */
    store_s32(x, __ssub16(lo, load_s32(mean)));
    store_s32(x + 2, __ssub16(hi, load_s32(mean + 2)));
}

void pnet_center_u8(const uint8_t *q, const int16_t *mean, int32_t n, int16_t *x)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t v = load_s32(q + i);
        sub4(uxtb16(v), uxtb16_ror8(v), mean + i, x + i);
    }
    for (; i < n; ++i) {
        x[i] = (int16_t)((int32_t)q[i] - (int32_t)mean[i]);
    }
}

void pnet_center_s8(const int8_t *q, const int16_t *mean, int32_t n, int16_t *x)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t v = load_s32(q + i);
        sub4(__sxtb16(v), sxtb16_ror8(v), mean + i, x + i);
    }
    for (; i < n; ++i) {
        x[i] = (int16_t)((int32_t)q[i] - (int32_t)mean[i]);
    }
}

#else /* portable C */

void pnet_center_u8(const uint8_t *q, const int16_t *mean, int32_t n, int16_t *x)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        x[i] = (int16_t)((int32_t)q[i] - (int32_t)mean[i]);
    }
}

void pnet_center_s8(const int8_t *q, const int16_t *mean, int32_t n, int16_t *x)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        x[i] = (int16_t)((int32_t)q[i] - (int32_t)mean[i]);
    }
}

#endif
