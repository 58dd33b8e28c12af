"""One function per supported op: each turns an ONNX node into IR ops (pnetc/ir/graph.py)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from pnetc.frontend.context import Ctx, attrs, node_name
from pnetc.frontend.conv_ops import CONV_HANDLERS
from pnetc.frontend.shape_ops import SHAPE_HANDLERS
from pnetc.frontend.fold import fold_constant
from pnetc.ir.graph import Activation, Affine, Dense, HashProjection, Identity, QuantParams, TextProjection
from pnetc.ir.limits import (
    MAX_BITS,
    MAX_CHAR_N,
    MAX_DENSE_WEIGHTS,
    MAX_INPUT_SIZE,
    MAX_LAYER_WIDTH,
    MAX_PROJECTION_WORK,
    MAX_SEED,
    MAX_TEXT_HASHES,
    TEXT_PROJECTIONS,
)


F32_TINY, F32_MAX = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)

STANDARD_OPS = (
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Flatten",
    "Reshape", "Identity", "Cast", "Constant", "Dropout", "BatchNormalization", *CONV_HANDLERS, *SHAPE_HANDLERS,
)


SUPPORTED_OPS = STANDARD_OPS + ("ai.pnetc::HashProjection", "ai.pnetc::TextProjection")


def _hash_projection(node, ctx: Ctx) -> None:
    a = attrs(node)
    if len(node.input) != 2:
        raise ctx.fail(node, "expects inputs (x, mean)")
    x = ctx.activation(node, node.input[0])
    if ctx.dtypes.get(x) not in ("uint8", "int8", "float32"):
        raise ctx.fail(node, f"input '{x}' must be uint8 or int8 (or a float stem's output), got {ctx.dtypes.get(x)}")
    stem_quant = _stem_quant(node, ctx, a, x)
    level_dtype = "int8" if stem_quant is not None else ctx.dtypes[x]
    mean = ctx.const(node, node.input[1])
    n = ctx.sizes[x]
    if mean.shape != (n,):
        raise ctx.fail(node, f"mean must have shape [{n}], got {list(mean.shape)}")
    if not np.issubdtype(mean.dtype, np.integer) or mean.min() < -32768 or mean.max() > 32767:
        raise ctx.fail(node, "mean must be int16")
    lo, hi = (0, 255) if level_dtype == "uint8" else (-128, 127)
    if mean.min() < lo or mean.max() > hi:  # keeps |x - mean| <= 255 and the C accumulators in int32
        raise ctx.fail(node, f"mean values must lie in the {level_dtype} input range [{lo}, {hi}] (the training "
                             f"mean of the quantized inputs), got [{int(mean.min())}, {int(mean.max())}]")
    kind = a.get("kind", "binary")
    if kind not in ("binary", "ternary"):
        raise ctx.fail(node, f"kind must be 'binary' or 'ternary', got {kind!r}")
    num_bits, seed, table_count, table_bits = _projection_attrs(node, ctx, a)
    ctx.limit(node, "N", n, MAX_INPUT_SIZE, 1)
    nnz = 0  # a binary projection has no nnz; whatever the attribute says never reaches the C
    if kind == "ternary":
        nnz = ctx.int_attr(node, a, "nnz", 0)
        ctx.limit(node, "nnz", nnz, n, 1)  # at most one nonzero per input (density <= 1)
        ctx.limit(node, "num_bits*nnz", num_bits * nnz, MAX_PROJECTION_WORK, 1)
    else:
        ctx.limit(node, "num_bits*N", num_bits * n, MAX_PROJECTION_WORK, 1)
    op = HashProjection(
        node_name(node), [x], [node.output[0]], seed=seed, num_bits=num_bits, proj_kind=kind, nnz=nnz,
        input_size=n, input_dtype=ctx.dtypes[x], mean=mean.astype(np.int16), T=table_count, d=table_bits,
        stem_quant=stem_quant,
    )
    ctx.emit(op, node.output[0], num_bits, dtype="bits")


def _stem_quant(node, ctx: Ctx, a: dict, x: str):
    """A float input (a stem's output) is read as int8 with the node's x_scale and x_zero_point
    (docs/format.md, "HashProjection after a stem"); integer inputs take neither."""
    given = [key for key in ("x_scale", "x_zero_point") if key in a]
    if ctx.dtypes[x] != "float32":
        if given:
            raise ctx.fail(node, f"{' and '.join(given)} apply to a float input (a stem's output); input '{x}' is "
                                 f"{ctx.dtypes[x]}")
        return None
    if len(given) != 2:
        raise ctx.fail(node, f"input '{x}' must be uint8 or int8, or a stem's float output with the attributes "
                             "x_scale and x_zero_point (its int8 grid)")
    if ctx.ranks.get(x, 2) != 2:
        raise ctx.fail(node, f"input '{x}' must be 2-D [batch, features]; add a Flatten")
    scale, zero_point = a["x_scale"], a["x_zero_point"]
    if not isinstance(scale, float) or not F32_TINY <= scale <= F32_MAX:
        raise ctx.fail(node, f"x_scale must be a normal positive float32, got {scale!r}")
    if not isinstance(zero_point, int) or not -128 <= zero_point <= 127:
        raise ctx.fail(node, f"x_zero_point must be an integer in -128..127, got {zero_point!r}")
    return QuantParams(float(np.float32(scale)), int(zero_point))


def _text_projection(node, ctx: Ctx) -> None:
    a = attrs(node)
    x = ctx.activation(node, node.input[0])
    if ctx.dtypes.get(x) != "bytes":
        raise ctx.fail(node, f"input '{x}' must be a string tensor")
    num_bits, seed, table_count, table_bits = _projection_attrs(node, ctx, a)
    char_max_n = ctx.int_attr(node, a, "char_max_n", 3)
    words = ctx.int_attr(node, a, "words", 1)
    ctx.limit(node, "char_max_n", char_max_n, MAX_CHAR_N)
    ctx.limit(node, "words", words, 1)
    kind = a.get("kind", "simhash")
    if kind not in TEXT_PROJECTIONS:
        raise ctx.fail(node, f"kind must be one of {', '.join(repr(k) for k in TEXT_PROJECTIONS)}, got {kind!r}")
    hashes = 0  # a simhash projection has none; whatever the attribute says never reaches the C
    if kind == "presence":
        hashes = ctx.int_attr(node, a, "hashes", 0)
        ctx.limit(node, "hashes", hashes, MAX_TEXT_HASHES, 1)
    op = TextProjection(
        node_name(node), [x], [node.output[0]], seed=seed, num_bits=num_bits, char_max_n=char_max_n,
        words=words, T=table_count, d=table_bits, proj_kind=kind, hashes=hashes,
    )
    ctx.emit(op, node.output[0], num_bits, dtype="bits")


def _projection_attrs(node, ctx: Ctx, a: dict) -> tuple[int, int, int, int]:
    """num_bits, seed, T, d of a projection, each checked against its limit."""
    values = {key: ctx.int_attr(node, a, key, 0) for key in ("num_bits", "seed", "T", "d")}
    ctx.limit(node, "num_bits", values["num_bits"], MAX_BITS, 1)
    ctx.limit(node, "seed", values["seed"], MAX_SEED)
    ctx.limit(node, "T", values["T"], MAX_BITS)
    ctx.limit(node, "d", values["d"], MAX_BITS)
    return values["num_bits"], values["seed"], values["T"], values["d"]


def _dense_input(node, ctx: Ctx) -> str:
    x = ctx.activation(node, node.input[0])
    if ctx.dtypes.get(x) not in ("float32", "bits"):
        raise ctx.fail(node, f"input '{x}' must be float32 (got {ctx.dtypes.get(x)}); add a Cast")
    return x


def _gemm(node, ctx: Ctx) -> None:
    a = attrs(node)
    x = _dense_input(node, ctx)
    if a.get("transA", 0):
        raise ctx.fail(node, "transA=1 is not supported")
    b = ctx.const(node, node.input[1]).astype(np.float32)
    if b.ndim != 2:
        raise ctx.fail(node, f"B must be a 2-D matrix, got shape {list(b.shape)}")
    w = (b if a.get("transB", 0) else b.T) * np.float32(a.get("alpha", 1.0))
    out = w.shape[0]
    bias = np.zeros(out, np.float32)
    if len(node.input) > 2 and node.input[2]:
        c = ctx.const(node, node.input[2]).astype(np.float32) * np.float32(a.get("beta", 1.0))
        try:
            bias = np.broadcast_to(c.reshape(-1) if c.size in (1, out) else c, (out,)).astype(np.float32)
        except ValueError:
            raise ctx.fail(node, f"bias C of shape {list(c.shape)} does not broadcast to [{out}]") from None
    _emit_dense(node, ctx, x, w, bias)


def _matmul(node, ctx: Ctx) -> None:
    x = _dense_input(node, ctx)
    b = ctx.const(node, node.input[1]).astype(np.float32)
    if b.ndim != 2:
        raise ctx.fail(node, f"the weight must be a 2-D matrix, got shape {list(b.shape)}")
    _emit_dense(node, ctx, x, b.T, np.zeros(b.shape[1], np.float32))


def _emit_dense(node, ctx: Ctx, x: str, w: np.ndarray, bias: np.ndarray) -> None:
    if ctx.ranks.get(x, 2) != 2:
        raise ctx.fail(node, f"input '{x}' must be 2-D [batch, features]; add a Flatten")
    if w.shape[1] != ctx.sizes[x]:
        raise ctx.fail(node, f"weight expects {w.shape[1]} inputs but '{x}' has {ctx.sizes[x]} features")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(bias))):  # e.g. alpha/beta NaN, or overflow to inf
        raise ctx.fail(node, "the weights or bias are NaN or infinite after applying alpha/beta")
    ctx.limit(node, "outputs", w.shape[0], MAX_LAYER_WIDTH, 1)
    ctx.dense_weights += w.size
    ctx.limit(node, "total dense weights", ctx.dense_weights, MAX_DENSE_WEIGHTS)
    op = Dense(node_name(node), [x], [node.output[0]], weight=np.ascontiguousarray(w, np.float32),
               bias=np.ascontiguousarray(bias, np.float32))
    ctx.emit(op, node.output[0], w.shape[0])


def _feature_vector(node, ctx: Ctx, c: np.ndarray, x: str, what: str) -> np.ndarray:
    """A constant as one value per element of activation `x` ([size] flat, NCHW order): a scalar, a
    vector per feature, or (for [C, H, W] activations) any shape that broadcasts, e.g. per channel [C, 1, 1]."""
    c = np.asarray(c, np.float32)
    size = ctx.sizes[x]
    if c.size == 1:
        return np.full(size, c.reshape(-1)[0], np.float32)
    squeezed = c.reshape(-1) if c.ndim <= 1 or all(d == 1 for d in c.shape[:-1]) else None
    if squeezed is not None and squeezed.size == size:
        return squeezed
    shape = ctx.shapes.get(x, (size,))
    if c.ndim == len(shape) + 1 and c.shape[0] == 1:  # a leading batch axis of 1
        c = c.reshape(c.shape[1:])
    try:
        return np.ascontiguousarray(np.broadcast_to(c, shape), np.float32).reshape(-1)
    except ValueError:
        raise ctx.fail(node, f"{what} of shape {list(c.shape)} must broadcast per feature ([{size}] or a scalar)"
                             + (f" or over the activation's shape {list(shape)}" if len(shape) > 1 else "")) from None


def _per_channel(node, ctx: Ctx, c: np.ndarray, x: str, what: str) -> np.ndarray:
    """BatchNormalization parameters: one per feature of a flat activation, one per channel of [C, ...]."""
    shape = ctx.shapes.get(x, (ctx.sizes[x],))
    c = np.asarray(c, np.float32)
    if len(shape) > 1 and c.size == shape[0]:
        return np.repeat(c.reshape(-1), ctx.sizes[x] // shape[0])
    return _feature_vector(node, ctx, c, x, what)


def _add_mul(node, ctx: Ctx) -> None:
    names = list(node.input)
    act = [n for n in names if n not in ctx.consts]
    if len(act) != 1:
        raise ctx.fail(node, "only one activation input with one constant is supported (no residual adds)")
    x = ctx.activation(node, act[0])
    size = ctx.sizes[x]
    c = _feature_vector(node, ctx, ctx.consts[[n for n in names if n in ctx.consts][0]], x, "the constant")
    one, zero = np.ones(size, np.float32), np.zeros(size, np.float32)
    const_first = names[0] in ctx.consts
    if node.op_type == "Add":
        scale, shift = one, c
    elif node.op_type == "Sub":
        scale, shift = (-one, c) if const_first else (one, -c)
    elif node.op_type == "Mul":
        scale, shift = c, zero
    else:  # Div
        if const_first:
            raise ctx.fail(node, "dividing a constant by an activation is not supported")
        if np.any(c == 0):
            raise ctx.fail(node, "division by zero in the constant")
        scale, shift = (1.0 / c.astype(np.float64)).astype(np.float32), zero
    ctx.finite(node, {"the scale": scale, "the shift": shift}, "(1/divisor overflows float32)")
    op = Affine(node_name(node), [x], [node.output[0]], scale=scale, shift=shift)
    ctx.emit(op, node.output[0], size, ctx.ranks.get(x, 2), shape=ctx.shapes.get(x))


def _batchnorm(node, ctx: Ctx) -> None:
    a = attrs(node)
    if len([o for o in node.output if o]) != 1 or a.get("training_mode", 0):
        raise ctx.fail(node, "only inference-mode BatchNormalization (one output) is supported")
    x = ctx.activation(node, node.input[0])
    size = ctx.sizes[x]
    gamma, beta, mean, var = (_per_channel(node, ctx, ctx.const(node, n), x, "a BN parameter")
                              for n in node.input[1:5])
    denominator = var.astype(np.float64) + float(a.get("epsilon", 1e-5))
    if not np.all(denominator > 0):  # also NaN
        i = int(np.argmin(np.where(np.isnan(denominator), -np.inf, denominator)))
        raise ctx.fail(node, f"variance + epsilon must be positive, got {denominator[i]:g} for feature {i}")
    scale = gamma / np.sqrt(denominator)
    shift = beta - mean * scale
    ctx.finite(node, {"the folded scale": scale, "the folded shift": shift},
               "after folding gamma, beta, mean and variance")
    scale, shift = scale.astype(np.float32), shift.astype(np.float32)
    ctx.emit(Affine(node_name(node), [x], [node.output[0]], scale=scale, shift=shift), node.output[0], size,
             ctx.ranks.get(x, 2), shape=ctx.shapes.get(x))


def _activation(func: str) -> Callable:
    def convert(node, ctx: Ctx) -> None:
        x = ctx.activation(node, node.input[0])
        if func in ("softmax", "log_softmax"):
            rank = ctx.ranks.get(x, 2)
            axis = attrs(node).get("axis", -1)
            if axis not in (-1, rank - 1):
                raise ctx.fail(node, f"softmax over axis {axis} is not supported (only the last axis)")
        ctx.emit(Activation(node_name(node), [x], [node.output[0]], func=func), node.output[0], ctx.sizes[x],
                 ctx.ranks.get(x, 2), shape=ctx.shapes.get(x))

    return convert


def _identity(node, ctx: Ctx) -> None:
    x = ctx.activation(node, node.input[0])
    rank = ctx.ranks.get(x, 2)
    shape = ctx.shapes.get(x)
    a = attrs(node)
    if node.op_type == "Dropout" and len(node.output) > 1 and node.output[1]:
        raise ctx.fail(node, "the Dropout mask output is not supported")
    if node.op_type == "Cast":
        from onnx import TensorProto

        if a.get("to") != TensorProto.FLOAT:
            raise ctx.fail(node, "only Cast to float32 is supported")
        if ctx.dtypes.get(x) not in ("float32", "bits"):
            raise ctx.fail(node, f"Cast of a {ctx.dtypes.get(x)} tensor is not supported")
    elif node.op_type == "Flatten":
        if a.get("axis", 1) != 1:
            raise ctx.fail(node, f"Flatten axis {a.get('axis')} is not supported (only 1)")
        rank, shape = 2, (ctx.sizes[x],)
    elif node.op_type == "Reshape":
        shape = [int(s) for s in ctx.const(node, node.input[1]).reshape(-1)]
        rest = shape[1:]
        known = math.prod(s for s in rest if s > 0)
        batch = (-1, 0, 1) if ctx.batch_one else (-1, 0)  # a batch-1 export writes its batch as 1
        ok = shape and shape[0] in batch and rest.count(-1) == 0 and 0 not in rest and known == ctx.sizes[x]
        ok = ok or (shape and shape[0] in batch[1:] and rest.count(-1) == 1 and ctx.sizes[x] % max(known, 1) == 0)
        if not ok:
            raise ctx.fail(node, f"Reshape to {shape} must keep the batch axis first ([-1 or 0, features...])")
        rank = len(shape)
        shape = tuple(ctx.sizes[x] // max(known, 1) if s == -1 else s for s in rest)
    dtype = ctx.dtypes.get(x, "float32")
    ctx.emit(Identity(node_name(node), [x], [node.output[0]], source_op=node.op_type), node.output[0],
             ctx.sizes[x], rank, dtype, shape=shape)


HANDLERS: dict[str, Callable] = {
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _add_mul,
    "Sub": _add_mul,
    "Mul": _add_mul,
    "Div": _add_mul,
    "Relu": _activation("relu"),
    "Sigmoid": _activation("sigmoid"),
    "Tanh": _activation("tanh"),
    "Softmax": _activation("softmax"),
    "LogSoftmax": _activation("log_softmax"),
    "Flatten": _identity,
    "Reshape": _identity,
    "Identity": _identity,
    "Cast": _identity,
    "Dropout": _identity,
    "Constant": fold_constant,
    "BatchNormalization": _batchnorm,
    "ai.pnetc::HashProjection": _hash_projection,
    "ai.pnetc::TextProjection": _text_projection,
    **CONV_HANDLERS,
    **SHAPE_HANDLERS,
}
