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
    for (oh = 0; oh < out_h; ++oh) {
        const int32_t ih0 = oh * win->stride_h - win->pad_top;
        int32_t kh_lo, kh_hi, ow;
        pnet_window_axis(ih0, dil_h, win->in_h, win->k_h, &kh_lo, &kh_hi);
        for (ow = 0; ow < out_w; ++ow) {
            const int32_t iw0 = ow * win->stride_w - win->pad_left;
            int32_t kw_lo, kw_hi, co;
            pnet_window_axis(iw0, dil_w, in_w, k_w, &kw_lo, &kw_hi);
            for (co = 0; co < out_c; ++co) {
                const float *wc = w + (size_t)co * (size_t)in_c * taps;
                float acc = 0.0f;
                int32_t ci;
                for (ci = 0; ci < in_c; ++ci) {
                    const float *xc = x + (size_t)ci * plane;
                    const float *wk = wc + (size_t)ci * taps;
                    int32_t kh;
                    for (kh = kh_lo; kh < kh_hi; ++kh) {
                        const float *xr = xc + (size_t)(ih0 + kh * dil_h) * (size_t)in_w;
                        const float *wr = wk + (size_t)kh * (size_t)k_w;
                        int32_t kw;
                        for (kw = kw_lo; kw < kw_hi; ++kw) {
                            acc += xr[iw0 + kw * dil_w] * wr[kw];
                        }
                    }
                }
                y[(size_t)co * out_plane + (size_t)oh * (size_t)out_w + (size_t)ow] =
                    acc + (bias != NULL ? bias[co] : 0.0f);
            }
        }
    }
}
