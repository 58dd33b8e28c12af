/* window_io.h - reads a pnet_window (14 int32 in field order) for the conv and pool drivers. */
#ifndef WINDOW_IO_H
#define WINDOW_IO_H

#include "driver_io.h"
#include "pnet/pnet.h"

static pnet_window io_window(void)
{
    pnet_window win;
    win.in_h = io_i32();
    win.in_w = io_i32();
    win.out_h = io_i32();
    win.out_w = io_i32();
    win.k_h = io_i32();
    win.k_w = io_i32();
    win.stride_h = io_i32();
    win.stride_w = io_i32();
    win.dilation_h = io_i32();
    win.dilation_w = io_i32();
    win.pad_top = io_i32();
    win.pad_left = io_i32();
    win.pad_bottom = io_i32();
    win.pad_right = io_i32();
    return win;
}

static size_t io_in_size(const pnet_window *win, int32_t channels)
{
    return (size_t)channels * (size_t)win->in_h * (size_t)win->in_w;
}

static size_t io_out_size(const pnet_window *win, int32_t channels)
{
    return (size_t)channels * (size_t)win->out_h * (size_t)win->out_w;
}

#endif
