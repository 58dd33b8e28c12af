/* maxpool_s8.c - int8 max pooling over NCHW (ONNX MaxPool: taps in the padding are ignored), then
   the activation clamp. Every window has at least one tap inside the input (pnet.h). */
#include "pnet/pnet_support.h"

void pnet_maxpool_s8(const int8_t *x, int32_t channels, const pnet_window *win, int32_t act_min, int32_t act_max,
                     int8_t *y)
{
    const int32_t in_w = win->in_w;
    const int32_t out_h = win->out_h;
    const int32_t out_w = win->out_w;
    const size_t plane = (size_t)win->in_h * (size_t)in_w;
    int32_t c;
    for (c = 0; c < channels; ++c) {
        const int8_t *xc = x + (size_t)c * plane;
        int32_t oh;
        for (oh = 0; oh < out_h; ++oh) {
            const int32_t ih0 = oh * win->stride_h - win->pad_top;
            int32_t kh_lo, kh_hi, ow;
            pnet_window_axis(ih0, win->dilation_h, win->in_h, win->k_h, &kh_lo, &kh_hi);
            for (ow = 0; ow < out_w; ++ow) {
                const int32_t iw0 = ow * win->stride_w - win->pad_left;
                int32_t kw_lo, kw_hi, kh;
                int32_t m = -128;
                pnet_window_axis(iw0, win->dilation_w, in_w, win->k_w, &kw_lo, &kw_hi);
                for (kh = kh_lo; kh < kh_hi; ++kh) {
                    const int8_t *xr = xc + (size_t)(ih0 + kh * win->dilation_h) * (size_t)in_w;
                    int32_t kw;
                    for (kw = kw_lo; kw < kw_hi; ++kw) {
                        const int32_t v = xr[iw0 + kw * win->dilation_w];
                        m = v > m ? v : m;
                    }
                }
                m = m < act_min ? act_min : m;
                m = m > act_max ? act_max : m;
                *y++ = (int8_t)m;
            }
        }
    }
}
