"""Op handlers for convolution and pooling (Conv, MaxPool, AveragePool, GlobalAveragePool,
GlobalMaxPool), 1-D and 2-D, NCHW as ONNX. A 1-D op becomes the 2-D one with H = 1."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from pnetc.errors import PnetcError
from pnetc.frontend.context import Ctx, attrs, node_name
from pnetc.ir.graph import Conv, Pool
from pnetc.ir.limits import MAX_CONV_MACS, MAX_LAYER_WIDTH, MAX_WINDOW_STRIDE
from pnetc.kernels import window


def _spatial_input(node, ctx: Ctx, spatial: int = 0) -> tuple[str, tuple]:
    """The activation input and its per-sample shape [C, L] or [C, H, W] (spatial 1 or 2; 0: either)."""
    x = ctx.activation(node, node.input[0])
    if ctx.dtypes.get(x) != "float32":
        raise ctx.fail(node, f"input '{x}' must be float32 (got {ctx.dtypes.get(x)}); add a Cast")
    shape = ctx.shapes.get(x, (ctx.sizes[x],))
    if len(shape) not in (2, 3) or (spatial and len(shape) != spatial + 1):
        want = {1: "[batch, channels, length]", 2: "[batch, channels, height, width]"}.get(
            spatial, "[batch, channels, length] or [batch, channels, height, width]")
        raise ctx.fail(node, f"input '{x}' must be {want}, got [batch, {', '.join(map(str, shape))}]")
    return x, shape


def _as_2d(shape: tuple) -> tuple:
    """[C, L] -> (C, 1, L); [C, H, W] unchanged."""
    return (shape[0], 1, shape[1]) if len(shape) == 2 else tuple(shape)


def _geometry(node, ctx: Ctx, a: dict, spatial: int, kernel: tuple) -> tuple:
    """strides, pads (top, left, bottom, right), dilations as 2-D tuples, each attribute checked."""
    auto_pad = a.get("auto_pad", "NOTSET")
    if auto_pad not in ("NOTSET", "VALID"):
        raise ctx.fail(node, f"auto_pad={auto_pad} is not supported (give explicit pads)")
    strides = [int(v) for v in a.get("strides", [1] * spatial)]
    pads = [int(v) for v in a.get("pads", [0] * 2 * spatial)] if auto_pad == "NOTSET" else [0] * 2 * spatial
    dilations = [int(v) for v in a.get("dilations", [1] * spatial)]
    if len(strides) != spatial or len(pads) != 2 * spatial or len(dilations) != spatial:
        raise ctx.fail(node, f"strides/pads/dilations must have {spatial}/{2 * spatial}/{spatial} values for a "
                             f"{spatial}-D window")
    if any(d != 1 for d in dilations):
        raise ctx.fail(node, f"dilations={dilations} are not supported (only 1)")
    for s in strides:
        ctx.limit(node, "stride", s, MAX_WINDOW_STRIDE, 1)
    for i, p in enumerate(pads):
        k = kernel[-spatial:][i % spatial]
        ctx.limit(node, "pad", p, k - 1)  # a pad of k or more gives outputs that see only padding
    if spatial == 1:
        return (1, strides[0]), (0, pads[0], 0, pads[1]), (1, 1)
    return tuple(strides), tuple(pads), tuple(dilations)


def _window(node, ctx: Ctx, in_shape: tuple, kernel: tuple, strides, pads, dilations, ceil_mode=False):
    try:
        return window(in_shape[1:], kernel, strides, pads, dilations, ceil_mode)
    except PnetcError as exc:
        raise ctx.fail(node, str(exc)) from None


def _out_shape(spatial: int, channels: int, win) -> tuple:
    return (channels, win.out_w) if spatial == 1 else (channels, win.out_h, win.out_w)


def _conv(node, ctx: Ctx) -> None:
    a = attrs(node)
    if len(node.input) not in (2, 3):
        raise ctx.fail(node, f"expects inputs (x, W) or (x, W, B), got {len(node.input)}")
    w = ctx.const(node, node.input[1]).astype(np.float32)
    if w.ndim not in (3, 4):
        raise ctx.fail(node, f"weights must be [out_c, in_c, k] (1-D) or [out_c, in_c, k_h, k_w] (2-D), "
                             f"got shape {list(w.shape)}")
    spatial = w.ndim - 2
    x, shape = _spatial_input(node, ctx, spatial)
    if ctx.int_attr(node, a, "group", 1) != 1:
        raise ctx.fail(node, f"group={a.get('group')} is not supported (only 1: no grouped or depthwise convolution)")
    if "kernel_shape" in a and [int(k) for k in a["kernel_shape"]] != list(w.shape[2:]):
        raise ctx.fail(node, f"kernel_shape {list(a['kernel_shape'])} disagrees with the weights {list(w.shape)}")
    if w.shape[1] != shape[0]:
        raise ctx.fail(node, f"weights expect {w.shape[1]} input channels but '{x}' has {shape[0]}")
    out_c = int(w.shape[0])
    bias = np.zeros(out_c, np.float32)
    if len(node.input) > 2 and node.input[2]:
        bias = ctx.const(node, node.input[2]).astype(np.float32).reshape(-1)
        if bias.shape != (out_c,):
            raise ctx.fail(node, f"bias must have shape [{out_c}], got {list(bias.shape)}")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(bias))):
        raise ctx.fail(node, "the weights or bias are NaN or infinite")
    strides, pads, dilations = _geometry(node, ctx, a, spatial, w.shape[2:])
    w4 = w.reshape(out_c, w.shape[1], 1, w.shape[2]) if spatial == 1 else w
    in_shape = _as_2d(shape)
    win = _window(node, ctx, in_shape, w4.shape[2:], strides, pads, dilations)
    out = _out_shape(spatial, out_c, win)
    ctx.limit(node, "output elements", math.prod(out), MAX_LAYER_WIDTH, 1)
    ctx.conv_macs += math.prod(out) * int(np.prod(w4.shape[1:]))
    ctx.limit(node, "total conv multiply-adds", ctx.conv_macs, MAX_CONV_MACS)
    op = Conv(node_name(node), [x], [node.output[0]], weight=np.ascontiguousarray(w4), bias=bias, in_shape=in_shape,
              strides=strides, pads=pads, dilations=dilations)
    ctx.emit(op, node.output[0], math.prod(out), len(out) + 1, shape=out)


def _pool(mode: str, global_pool: bool) -> Callable:
    def convert(node, ctx: Ctx) -> None:
        a = attrs(node)
        x, shape = _spatial_input(node, ctx)
        spatial = len(shape) - 1
        if len([o for o in node.output if o]) != 1:
            raise ctx.fail(node, "the Indices output of MaxPool is not supported")
        if ctx.int_attr(node, a, "storage_order", 0) != 0:
            raise ctx.fail(node, "storage_order=1 is not supported")
        if global_pool:
            kernel = tuple(shape[1:])
            strides, pads, dilations = (1, 1), (0, 0, 0, 0), (1, 1)
            ceil_mode = False
        else:
            if "kernel_shape" not in a:
                raise ctx.fail(node, "kernel_shape is required")
            kernel = tuple(int(k) for k in a["kernel_shape"])
            if len(kernel) != spatial:
                raise ctx.fail(node, f"kernel_shape {list(kernel)} must have {spatial} values for input "
                                     f"[batch, {', '.join(map(str, shape))}]")
            strides, pads, dilations = _geometry(node, ctx, a, spatial, kernel)
            ceil_mode = bool(a.get("ceil_mode", 0))
        kernel = (1, kernel[0]) if spatial == 1 else kernel
        in_shape = _as_2d(shape)
        win = _window(node, ctx, in_shape, kernel, strides, pads, dilations, ceil_mode)
        out = _out_shape(spatial, shape[0], win)
        op = Pool(node_name(node), [x], [node.output[0]], mode=mode, in_shape=in_shape, kernel=kernel,
                  strides=strides, pads=pads, dilations=dilations, ceil_mode=ceil_mode,
                  count_include_pad=bool(a.get("count_include_pad", 0)))
        ctx.emit(op, node.output[0], math.prod(out), len(out) + 1, shape=out)

    return convert


CONV_HANDLERS: dict[str, Callable] = {
    "Conv": _conv,
    "MaxPool": _pool("max", False),
    "AveragePool": _pool("avg", False),
    "GlobalMaxPool": _pool("max", True),
    "GlobalAveragePool": _pool("avg", True),
}
