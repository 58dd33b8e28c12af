/* conv2d_s8.c - int8 convolution over NCHW, TFLite/CMSIS-NN convention: per output channel
   y = clamp(requantize(bias + sum (x + in_offset) * w) + out_offset). w is [out_c][in_c][k_h][k_w].
   Taps in the padding are skipped (the padding is the real zero), so each output sums only the
   taps inside the input: the tap range of every output row and column is found once
   (pnet_window_axis) and the inner loops carry no bounds checks. Exact int32 sums. */
#include "pnet/pnet_support.h"

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
