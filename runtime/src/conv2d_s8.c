/* conv2d_s8.c - int8 convolution over NCHW, TFLite/CMSIS-NN convention: per output channel
   y = clamp(requantize(bias + sum (x + in_offset) * w) + out_offset). w is [out_c][in_c][k_h][k_w].
   Taps in the padding are skipped (the padding is the real zero), so each output sums only the
   taps inside the input: the tap range of every output row and column is found once
   (pnet_window_axis) and the inner loops carry no bounds checks. Exact int32 sums.

   Arm DSP path (Cortex-M4/M7/M33/M55, ARMv7-A; PNET_PORTABLE forces the plain C loops) when one
   output's taps, in_c * k_h * k_w, fit PNET_CONV_DSP_TAPS: the taps of each output position are
   gathered once into a 16-bit column on the stack (x + in_offset, 0 in the padding, as CMSIS-NN's
   im2col) and shared by all output channels, two at a time; each word of four weights is split by
   SXTB16 and two SMLADs do its four multiply-accumulates against the column, whose groups of four
   are stored (t0, t2, t1, t3) to match the SXTB16 lanes. Integer sums: identical results. */
#include "pnet/pnet_support.h"

#if !defined(PNET_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#define PNET_CONV_DSP 1
#define PNET_CONV_DSP_TAPS 256 /* a 512-byte column on the stack */
#include <arm_acle.h>
#endif

static int8_t clamp_out(int32_t acc, int32_t mult, int32_t shift, int32_t out_offset, int32_t act_min,
                        int32_t act_max)
{
    /* 64-bit add: requantize may return up to INT32_MAX before the clamp */
    int64_t r = (int64_t)pnet_requantize(acc, mult, shift) + out_offset;
    if (r < act_min) {
        r = act_min;
    }
    if (r > act_max) {
        r = act_max;
    }
    return (int8_t)r;
}

#if defined(PNET_CONV_DSP)
static int32_t load_s32(const void *p)
{
    int32_t v;
    __builtin_memcpy(&v, p, 4); /* unaligned-safe; one LDR on ARMv7 */
    return v;
}

/* bytes 1 and 3 of w, sign-extended to 16-bit lanes (ACLE has no rotated SXTB16) */
static int32_t sxtb16_ror8(int32_t w)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(w));
    return r;
}

/* Column slot of tap t: groups of four stored (t0, t2, t1, t3). */
static int32_t col_slot(int32_t t)
{
    return (t & ~3) | ((t & 1) << 1) | ((t >> 1) & 1);
}

/* noinline: its 512-byte column stays out of the portable path's frame */
static __attribute__((noinline)) void conv_dsp(const int8_t *x, int32_t in_c, const pnet_window *win,
                                               const int8_t *w, const int32_t *bias, int32_t out_c,
                                               int32_t in_offset, const int32_t *mult, const int32_t *shift,
                                               int32_t out_offset, int32_t act_min, int32_t act_max, int8_t *y)
{
    int16_t col[PNET_CONV_DSP_TAPS] __attribute__((aligned(4)));
    const int32_t n = in_c * win->k_h * win->k_w;
    const int32_t n4 = n & ~3;
    const size_t out_plane = (size_t)win->out_h * (size_t)win->out_w;
    int32_t oh;
    for (oh = 0; oh < win->out_h; ++oh) {
        const int32_t ih0 = oh * win->stride_h - win->pad_top;
        int32_t ow;
        for (ow = 0; ow < win->out_w; ++ow) {
            const int32_t iw0 = ow * win->stride_w - win->pad_left;
            const size_t at = (size_t)oh * (size_t)win->out_w + (size_t)ow;
            int32_t t = 0;
            int32_t ci, co;
            for (ci = 0; ci < in_c; ++ci) {
                const int8_t *xc = x + (size_t)ci * (size_t)win->in_h * (size_t)win->in_w;
                int32_t kh;
                for (kh = 0; kh < win->k_h; ++kh) {
                    const int32_t ih = ih0 + kh * win->dilation_h;
                    const int row_inside = ih >= 0 && ih < win->in_h;
                    int32_t kw;
                    for (kw = 0; kw < win->k_w; ++kw, ++t) {
                        const int32_t iw = iw0 + kw * win->dilation_w;
                        const int32_t v = row_inside && iw >= 0 && iw < win->in_w
                                              ? (int32_t)xc[(size_t)ih * (size_t)win->in_w + (size_t)iw] + in_offset
                                              : 0;
                        col[col_slot(t)] = (int16_t)v;
                    }
                }
            }
            for (co = 0; co < out_c; co += 2) {
                const int two = co + 1 < out_c;
                const int8_t *r0 = w + (size_t)co * (size_t)n;
                const int8_t *r1 = two ? r0 + n : r0; /* a single last row: computed twice, stored once */
                int32_t a0 = bias != NULL ? bias[co] : 0;
                int32_t a1 = bias != NULL && two ? bias[co + 1] : 0;
                int32_t i;
                for (i = 0; i < n4; i += 4) {
                    const int32_t c02 = load_s32(col + i);
                    const int32_t c13 = load_s32(col + i + 2);
                    const int32_t w0 = load_s32(r0 + i);
                    const int32_t w1 = load_s32(r1 + i);
                    a0 = __smlad(c02, __sxtb16(w0), a0);
                    a0 = __smlad(c13, sxtb16_ror8(w0), a0);
                    a1 = __smlad(c02, __sxtb16(w1), a1);
                    a1 = __smlad(c13, sxtb16_ror8(w1), a1);
                }
                for (; i < n; ++i) {
                    const int32_t c = col[col_slot(i)];
                    a0 += c * (int32_t)r0[i];
                    a1 += c * (int32_t)r1[i];
                }
                y[(size_t)co * out_plane + at] = clamp_out(a0, mult[co], shift[co], out_offset, act_min, act_max);
                if (two) {
                    y[(size_t)(co + 1) * out_plane + at] =
                        clamp_out(a1, mult[co + 1], shift[co + 1], out_offset, act_min, act_max);
                }
            }
        }
    }
}
#endif

void pnet_conv2d_s8(const int8_t *x, int32_t in_c, const pnet_window *win, const int8_t *w, const int32_t *bias,
                    int32_t out_c, int32_t in_offset, const int32_t *mult, const int32_t *shift, int32_t out_offset,
                    int32_t act_min, int32_t act_max, int8_t *y)
{
    const int32_t in_w = win->in_w;
    const int32_t out_h = win->out_h;
    const int32_t out_w = win->out_w;
    const int32_t k_w = win->k_w;
    const int32_t dil_h = win->dilation_h;
    const int32_t dil_w = win->dilation_w;
    const size_t plane = (size_t)win->in_h * (size_t)in_w;
    const size_t taps = (size_t)win->k_h * (size_t)k_w;
    const size_t out_plane = (size_t)out_h * (size_t)out_w;
    int32_t oh;
#if defined(PNET_CONV_DSP)
    if ((size_t)in_c * taps <= PNET_CONV_DSP_TAPS) {
        conv_dsp(x, in_c, win, w, bias, out_c, in_offset, mult, shift, out_offset, act_min, act_max, y);
        return;
    }
#endif
    for (oh = 0; oh < out_h; ++oh) {
        const int32_t ih0 = oh * win->stride_h - win->pad_top;
        int32_t kh_lo, kh_hi, ow;
        pnet_window_axis(ih0, dil_h, win->in_h, win->k_h, &kh_lo, &kh_hi);
        for (ow = 0; ow < out_w; ++ow) {
            const int32_t iw0 = ow * win->stride_w - win->pad_left;
            int32_t kw_lo, kw_hi, co;
            pnet_window_axis(iw0, dil_w, in_w, k_w, &kw_lo, &kw_hi);
            for (co = 0; co < out_c; ++co) {
                const int8_t *wc = w + (size_t)co * (size_t)in_c * taps;
                int32_t acc = bias != NULL ? bias[co] : 0;
                int32_t ci;
                for (ci = 0; ci < in_c; ++ci) {
                    const int8_t *xc = x + (size_t)ci * plane;
                    const int8_t *wk = wc + (size_t)ci * taps;
                    int32_t kh;
                    for (kh = kh_lo; kh < kh_hi; ++kh) {
                        const int8_t *xr = xc + (size_t)(ih0 + kh * dil_h) * (size_t)in_w;
                        const int8_t *wr = wk + (size_t)kh * (size_t)k_w;
                        int32_t kw;
                        for (kw = kw_lo; kw < kw_hi; ++kw) {
                            acc += ((int32_t)xr[iw0 + kw * dil_w] + in_offset) * (int32_t)wr[kw];
                        }
                    }
                }
                y[(size_t)co * out_plane + (size_t)oh * (size_t)out_w + (size_t)ow] =
                    clamp_out(acc, mult[co], shift[co], out_offset, act_min, act_max);
            }
        }
    }
}
