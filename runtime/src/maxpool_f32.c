/* maxpool_f32.c - float max pooling over NCHW (ONNX MaxPool: taps in the padding are ignored).
   The first inside tap in (kh, kw) order starts the max and a later tap replaces it only when
   greater, so a NaN never replaces a number and the numpy twin gives the same bits. */
#include "pnet/pnet_support.h"

void pnet_maxpool_f32(const float *x, int32_t channels, const pnet_window *win, float *y)
{
    const size_t plane = (size_t)win->in_h * (size_t)win->in_w;
    int32_t c, oh, ow, kh, kw;
    for (c = 0; c < channels; ++c) {
        const float *xc = x + (size_t)c * plane;
        for (oh = 0; oh < win->out_h; ++oh) {
            for (ow = 0; ow < win->out_w; ++ow) {
                const pnet_taps t = pnet_window_taps(win, oh, ow);
                int have = 0;
                float m = 0.0f;
                for (kh = t.kh_lo; kh < t.kh_hi; ++kh) {
                    const float *xr = xc + (size_t)(t.ih0 + kh * win->dilation_h) * (size_t)win->in_w;
                    for (kw = t.kw_lo; kw < t.kw_hi; ++kw) {
                        const float v = xr[t.iw0 + kw * win->dilation_w];
                        if (!have || v > m) {
                            m = v;
                            have = 1;
                        }
                    }
                }
                *y++ = m;
            }
        }
    }
}
