/* avgpool_s8.c - int8 average pooling over NCHW (ONNX AveragePool) on the raw int8 values, as
   TFLite and CMSIS-NN (input and output share scale and zero point). The mean rounds half away
   from zero: s >= 0 ? (s + n/2) / n : (s - n/2) / n. n counts the taps inside the input, or with
   count_include_pad those inside the padded extent. One integer division per output (a libgcc
   call on Cortex-M0, which has no divide instruction). */
#include "pnet/pnet_support.h"

void pnet_avgpool_s8(const int8_t *x, int32_t channels, const pnet_window *win, int32_t count_include_pad,
                     int32_t act_min, int32_t act_max, int8_t *y)
{
    const int32_t in_w = win->in_w;
    const int32_t out_h = win->out_h;
    const int32_t out_w = win->out_w;
    const size_t plane = (size_t)win->in_h * (size_t)in_w;
    /* the extent whose taps count: the input, or the input with its padding */
    const int32_t top = count_include_pad ? win->pad_top : 0;
    const int32_t left = count_include_pad ? win->pad_left : 0;
    const int32_t ext_h = win->in_h + (count_include_pad ? win->pad_top + win->pad_bottom : 0);
    const int32_t ext_w = in_w + (count_include_pad ? win->pad_left + win->pad_right : 0);
    int32_t c;
    for (c = 0; c < channels; ++c) {
        const int8_t *xc = x + (size_t)c * plane;
        int32_t oh;
        for (oh = 0; oh < out_h; ++oh) {
            const int32_t ih0 = oh * win->stride_h - win->pad_top;
            int32_t kh_lo, kh_hi, nh_lo, nh_hi, ow;
            pnet_window_axis(ih0, win->dilation_h, win->in_h, win->k_h, &kh_lo, &kh_hi);
            pnet_window_axis(ih0 + top, win->dilation_h, ext_h, win->k_h, &nh_lo, &nh_hi);
            for (ow = 0; ow < out_w; ++ow) {
                const int32_t iw0 = ow * win->stride_w - win->pad_left;
                int32_t kw_lo, kw_hi, nw_lo, nw_hi, kh, n, q;
                int32_t s = 0;
                pnet_window_axis(iw0, win->dilation_w, in_w, win->k_w, &kw_lo, &kw_hi);
                pnet_window_axis(iw0 + left, win->dilation_w, ext_w, win->k_w, &nw_lo, &nw_hi);
                for (kh = kh_lo; kh < kh_hi; ++kh) {
                    const int8_t *xr = xc + (size_t)(ih0 + kh * win->dilation_h) * (size_t)in_w;
                    int32_t kw;
                    for (kw = kw_lo; kw < kw_hi; ++kw) {
                        s += xr[iw0 + kw * win->dilation_w];
                    }
                }
                n = (nh_hi - nh_lo) * (nw_hi - nw_lo);
                q = s >= 0 ? (s + n / 2) / n : (s - n / 2) / n;
                q = q < act_min ? act_min : q;
                q = q > act_max ? act_max : q;
                *y++ = (int8_t)q;
            }
        }
    }
}
