/* conv2d_f32.c - float convolution over NCHW, w is [out_c][in_c][k_h][k_w]. Each output sums from
   0.0f over ci, then kh, then kw (increasing), skipping taps in the padding, and adds the bias
   last, so the numpy twin can follow the same order. Multiply-adds are never fused (FMA rounds
   once, the twin twice): gcc's default in GNU C modes and FPU cores such as the Cortex-M4F would
   fuse them, so contraction is switched off for this file. */
#include "pnet/pnet_support.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

void pnet_conv2d_f32(const float *x, int32_t in_c, const pnet_window *win, const float *w, const float *bias,
                     int32_t out_c, float *y)
{
    /* the geometry in locals: stores through y may alias *win, so the loops would reload it */
    const int32_t in_w = win->in_w;
    const int32_t k_w = win->k_w;
    const int32_t dil_h = win->dilation_h;
    const int32_t dil_w = win->dilation_w;
    const size_t plane = (size_t)win->in_h * (size_t)in_w;
    const size_t taps = (size_t)win->k_h * (size_t)k_w;
    const size_t out_plane = (size_t)win->out_h * (size_t)win->out_w;
    int32_t oh, ow, co, ci, kh, kw;
    for (oh = 0; oh < win->out_h; ++oh) {
        for (ow = 0; ow < win->out_w; ++ow) {
            const pnet_taps t = pnet_window_taps(win, oh, ow);
            for (co = 0; co < out_c; ++co) {
                const float *wc = w + (size_t)co * (size_t)in_c * taps;
                float acc = 0.0f;
                for (ci = 0; ci < in_c; ++ci) {
                    const float *xc = x + (size_t)ci * plane;
                    const float *wk = wc + (size_t)ci * taps;
                    for (kh = t.kh_lo; kh < t.kh_hi; ++kh) {
                        const float *xr = xc + (size_t)(t.ih0 + kh * dil_h) * (size_t)in_w;
                        const float *wr = wk + (size_t)kh * (size_t)k_w;
                        for (kw = t.kw_lo; kw < t.kw_hi; ++kw) {
                            acc += xr[t.iw0 + kw * dil_w] * wr[kw];
                        }
                    }
                }
                y[(size_t)co * out_plane + (size_t)oh * (size_t)win->out_w + (size_t)ow] =
                    acc + (bias != NULL ? bias[co] : 0.0f);
            }
        }
    }
}
