/* quantize_f32.c - float activations -> int8 levels with one scale and zero point: the float32
   form of a projection after a stem (its int8 input). The rounding is pnetc's one input rounding
   (docs/format.md, "Input encoding"): t = x / scale in float32, clamped to +-2^24 (NaN to -2^24),
   rounded half to even, plus the zero point, clamped to -128..127. The scale is a one-entry table
   (a model constant like the weights). */
#include "pnet/pnet.h"

static int32_t round_half_even(float t)
{
    int32_t r = (int32_t)t;
    float frac = t - (float)r;
    if (frac > 0.5f || (frac == 0.5f && (r & 1) != 0)) {
        r += 1;
    } else if (frac < -0.5f || (frac == -0.5f && (r & 1) != 0)) {
        r -= 1;
    }
    return r;
}

void pnet_quantize_f32(const float *x, int32_t n, const float *scale, int32_t zero_point, int8_t *q)
{
    const float s = scale[0];
    int32_t i;
    for (i = 0; i < n; ++i) {
        float t = x[i] / s;
        int32_t v;
        if (!(t >= -16777216.0f)) { /* NaN included */
            t = -16777216.0f;
        } else if (t > 16777216.0f) {
            t = 16777216.0f;
        }
        v = round_half_even(t) + zero_point;
        q[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
}
