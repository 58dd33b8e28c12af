/* conv2d_s8.c - int8 convolution over NCHW, TFLite/CMSIS-NN convention: per output channel
   y = clamp(requantize(bias + sum (x + in_offset) * w) + out_offset). w is [out_c][in_c][k_h][k_w].
   Taps in the padding are skipped (the padding is the real zero), so each output sums only the
   taps inside the input: the tap range of every output row and column is found once
   (pnet_window_taps) and the inner loops carry no bounds checks. Exact int32 sums, then
   pnet_requantize and pnet_clamp_s8 per output.

   Unless PNET_PORTABLE is defined (which keeps these direct loops, the reference form), a layer
   whose taps per output, in_c * k_h * k_w, fit PNET_CONV_COLUMN bytes takes a faster route when
   the padding value -in_offset is an int8 (true for every int8 zero point): the taps of each
   output position are gathered once into an int8 column (as CMSIS-NN's im2col; taps in the
   padding hold -in_offset, so x + in_offset == 0 there) and pnet_dense_s8 multiplies it by all
   output channels at once (the weights are [out_c][in_c * k_h * k_w] rows already), with its
   SIMD loops on Arm DSP and NEON cores and its plain loop elsewhere. Integer sums: identical
   results. */
#include "pnet/pnet_support.h"

#if !defined(PNET_PORTABLE)
#if defined(__thumb__) && !defined(__thumb2__)
#define PNET_CONV_COLUMN 256 /* Thumb-1 cores (Cortex-M0/M0+/M23): small RAM and stacks */
#else
#define PNET_CONV_COLUMN 512 /* bytes of stack for one output's taps */
#endif
#define PNET_CONV_BLOCK 48 /* output channels per pnet_dense_s8 call (their int8 results on the stack) */
#endif

#if defined(__GNUC__)
#define PNET_NOINLINE __attribute__((noinline))
#else
#define PNET_NOINLINE
#endif

#if defined(PNET_CONV_COLUMN)
/* noinline: the column stays out of the direct path's frame */
static PNET_NOINLINE void conv_column(const int8_t *x, int32_t in_c, const pnet_window *win,
                                     const int8_t *w, const int32_t *bias, int32_t out_c, int32_t in_offset,
                                     const int32_t *mult, const int32_t *shift, int32_t out_offset,
                                     int32_t act_min, int32_t act_max, int8_t *y)
{
    int8_t col[PNET_CONV_COLUMN];
    int8_t part[PNET_CONV_BLOCK];
    const int8_t pad = (int8_t)-in_offset; /* x + in_offset == 0 */
    const int32_t k_h = win->k_h;
    const int32_t k_w = win->k_w;
    const int32_t n = in_c * k_h * k_w;
    const size_t plane = (size_t)win->in_h * (size_t)win->in_w;
    const size_t out_plane = (size_t)win->out_h * (size_t)win->out_w;
    int32_t oh, ow;
    for (oh = 0; oh < win->out_h; ++oh) {
        for (ow = 0; ow < win->out_w; ++ow) {
            const pnet_taps t = pnet_window_taps(win, oh, ow);
            const size_t at = (size_t)oh * (size_t)win->out_w + (size_t)ow;
            int8_t *c = col;
            int32_t ci, co;
            for (ci = 0; ci < in_c; ++ci) {
                int32_t kh;
                for (kh = 0; kh < k_h; ++kh, c += k_w) {
                    const int8_t *xr;
                    int32_t kw;
                    if (kh < t.kh_lo || kh >= t.kh_hi) {
                        for (kw = 0; kw < k_w; ++kw) {
                            c[kw] = pad;
                        }
                        continue;
                    }
                    xr = x + (size_t)ci * plane + (size_t)(t.ih0 + kh * win->dilation_h) * (size_t)win->in_w;
                    for (kw = 0; kw < t.kw_lo; ++kw) {
                        c[kw] = pad;
                    }
                    for (; kw < t.kw_hi; ++kw) {
                        c[kw] = xr[t.iw0 + kw * win->dilation_w];
                    }
                    for (; kw < k_w; ++kw) {
                        c[kw] = pad;
                    }
                }
            }
            for (co = 0; co < out_c; co += PNET_CONV_BLOCK) {
                const int32_t rows = out_c - co < PNET_CONV_BLOCK ? out_c - co : PNET_CONV_BLOCK;
                int32_t j;
                pnet_dense_s8(col, n, w + (size_t)co * (size_t)n, bias != NULL ? bias + co : NULL, rows, in_offset,
                              mult + co, shift + co, out_offset, act_min, act_max, part);
                for (j = 0; j < rows; ++j) {
                    y[(size_t)(co + j) * out_plane + at] = part[j];
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
    /* the geometry in locals: stores through y may alias *win, so the loops would reload it */
    const int32_t in_w = win->in_w;
    const int32_t k_w = win->k_w;
    const int32_t dil_h = win->dilation_h;
    const int32_t dil_w = win->dilation_w;
    const size_t plane = (size_t)win->in_h * (size_t)in_w;
    const size_t taps = (size_t)win->k_h * (size_t)k_w;
    const size_t out_plane = (size_t)win->out_h * (size_t)win->out_w;
    int32_t oh, ow, co, ci, kh, kw;
#if defined(PNET_CONV_COLUMN)
    if ((size_t)in_c * taps <= PNET_CONV_COLUMN && in_offset >= -127 && in_offset <= 128) {
        conv_column(x, in_c, win, w, bias, out_c, in_offset, mult, shift, out_offset, act_min, act_max, y);
        return;
    }
#endif
    for (oh = 0; oh < win->out_h; ++oh) {
        for (ow = 0; ow < win->out_w; ++ow) {
            const pnet_taps t = pnet_window_taps(win, oh, ow);
            for (co = 0; co < out_c; ++co) {
                const int8_t *wc = w + (size_t)co * (size_t)in_c * taps;
                int32_t acc = bias != NULL ? bias[co] : 0;
                for (ci = 0; ci < in_c; ++ci) {
                    const int8_t *xc = x + (size_t)ci * plane;
                    const int8_t *wk = wc + (size_t)ci * taps;
                    for (kh = t.kh_lo; kh < t.kh_hi; ++kh) {
                        const int8_t *xr = xc + (size_t)(t.ih0 + kh * dil_h) * (size_t)in_w;
                        const int8_t *wr = wk + (size_t)kh * (size_t)k_w;
                        for (kw = t.kw_lo; kw < t.kw_hi; ++kw) {
                            acc += ((int32_t)xr[t.iw0 + kw * dil_w] + in_offset) * (int32_t)wr[kw];
                        }
                    }
                }
                y[(size_t)co * out_plane + (size_t)oh * (size_t)win->out_w + (size_t)ow] =
                    pnet_clamp_s8(pnet_requantize(acc, mult[co], shift[co]), out_offset, act_min, act_max);
            }
        }
    }
}
