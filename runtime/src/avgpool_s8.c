/* avgpool_s8.c - int8 average pooling over NCHW (ONNX AveragePool) on the raw int8 values, as
   TFLite and CMSIS-NN (input and output share scale and zero point). The mean rounds half away
   from zero: s >= 0 ? (s + n/2) / n : (s - n/2) / n. n counts the taps inside the input, or with
   count_include_pad those inside the padded extent (pnet_window_count). One integer division per
   output (a libgcc call on Cortex-M0, which has no divide instruction). */
#include "pnet/pnet_support.h"

void pnet_avgpool_s8(const int8_t *x, int32_t channels, const pnet_window *win, int32_t count_include_pad,
                     int32_t act_min, int32_t act_max, int8_t *y)
{
    const size_t plane = (size_t)win->in_h * (size_t)win->in_w;
    int32_t c, oh, ow, kh, kw;
    for (c = 0; c < channels; ++c) {
        const int8_t *xc = x + (size_t)c * plane;
        for (oh = 0; oh < win->out_h; ++oh) {
            for (ow = 0; ow < win->out_w; ++ow) {
                const pnet_taps t = pnet_window_taps(win, oh, ow);
                const int32_t n = pnet_window_count(win, oh, ow, count_include_pad);
                int32_t s = 0;
                int32_t q;
                for (kh = t.kh_lo; kh < t.kh_hi; ++kh) {
                    const int8_t *xr = xc + (size_t)(t.ih0 + kh * win->dilation_h) * (size_t)win->in_w;
                    for (kw = t.kw_lo; kw < t.kw_hi; ++kw) {
                        s += xr[t.iw0 + kw * win->dilation_w];
                    }
                }
                q = s >= 0 ? (s + n / 2) / n : (s - n / 2) / n;
                q = q < act_min ? act_min : q;
                *y++ = (int8_t)(q > act_max ? act_max : q);
            }
        }
    }
}
