/* maxpool_s8.c - int8 max pooling over NCHW (ONNX MaxPool: taps in the padding are ignored), then
   the activation clamp. Every window has at least one tap inside the input (pnet.h). */
#include "pnet/pnet_support.h"

void pnet_maxpool_s8(const int8_t *x, int32_t channels, const pnet_window *win, int32_t act_min, int32_t act_max,
                     int8_t *y)
{
    const size_t plane = (size_t)win->in_h * (size_t)win->in_w;
    int32_t c, oh, ow, kh, kw;
    for (c = 0; c < channels; ++c) {
        const int8_t *xc = x + (size_t)c * plane;
        for (oh = 0; oh < win->out_h; ++oh) {
            for (ow = 0; ow < win->out_w; ++ow) {
                const pnet_taps t = pnet_window_taps(win, oh, ow);
                int32_t m = -128;
                for (kh = t.kh_lo; kh < t.kh_hi; ++kh) {
                    const int8_t *xr = xc + (size_t)(t.ih0 + kh * win->dilation_h) * (size_t)win->in_w;
                    for (kw = t.kw_lo; kw < t.kw_hi; ++kw) {
                        const int32_t v = (int32_t)xr[t.iw0 + kw * win->dilation_w];
                        m = v > m ? v : m;
                    }
                }
                m = m < act_min ? act_min : m;
                *y++ = (int8_t)(m > act_max ? act_max : m);
            }
        }
    }
}
