/* avgpool_f32.c - float average pooling over NCHW (ONNX AveragePool): the inside taps summed from
   0.0f in (kh, kw) order, divided by the tap count (inside the input, or with count_include_pad
   inside the padded extent: pnet_window_count; exact as a float). */
#include "pnet/pnet_support.h"

void pnet_avgpool_f32(const float *x, int32_t channels, const pnet_window *win, int32_t count_include_pad, float *y)
{
    const size_t plane = (size_t)win->in_h * (size_t)win->in_w;
    int32_t c, oh, ow, kh, kw;
    for (c = 0; c < channels; ++c) {
        const float *xc = x + (size_t)c * plane;
        for (oh = 0; oh < win->out_h; ++oh) {
            for (ow = 0; ow < win->out_w; ++ow) {
                const pnet_taps t = pnet_window_taps(win, oh, ow);
                float s = 0.0f;
                for (kh = t.kh_lo; kh < t.kh_hi; ++kh) {
                    const float *xr = xc + (size_t)(t.ih0 + kh * win->dilation_h) * (size_t)win->in_w;
                    for (kw = t.kw_lo; kw < t.kw_hi; ++kw) {
                        s += xr[t.iw0 + kw * win->dilation_w];
                    }
                }
                *y++ = s / (float)pnet_window_count(win, oh, ow, count_include_pad);
            }
        }
    }
}
