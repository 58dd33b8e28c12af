"""Constant folding: a node whose inputs are all constants is evaluated here, with overflow and
non-finite checks, so exporter artefacts (Identity on an initializer, Cast, Reshape) disappear."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from pnetc.errors import PnetcError
from pnetc.frontend.context import Ctx, attrs
from pnetc.ir.limits import MAX_FOLD_ELEMENTS


def _folded_size(op: str, a: dict, x: list) -> int:
    """Elements a folded Add/Sub/Mul/Div/MatMul/Gemm produces, computed before numpy allocates them."""
    s0, s1 = x[0].shape, x[1].shape
    if op == "Gemm":
        return int(s0[-1] if a.get("transA", 0) else s0[0]) * int(s1[0] if a.get("transB", 0) else s1[-1])
    if op == "MatMul":
        batch = np.broadcast_shapes(s0[:-2], s1[:-2])
        return math.prod(batch) * (s0[-2] if len(s0) > 1 else 1) * (s1[-1] if len(s1) > 1 else 1)
    return math.prod(np.broadcast_shapes(s0, s1))


def _constant(node, ctx: Ctx, a: dict, x: list) -> np.ndarray:
    if "value" in a:
        from onnx import numpy_helper

        return numpy_helper.to_array(a["value"])
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32), ("value_int", np.int64),
                       ("value_ints", np.int64)):
        if key in a:
            return np.array(a[key], dtype)
    raise ctx.fail(node, "unsupported Constant attribute (use value, value_float(s) or value_int(s))")


def _cast(node, ctx: Ctx, a: dict, x: list) -> np.ndarray:
    from onnx import helper

    target = np.dtype(helper.tensor_dtype_to_np_dtype(a["to"]))
    _check_cast(node, ctx, x[0], target)
    return x[0].astype(target)


def _reshape(node, ctx: Ctx, a: dict, x: list) -> np.ndarray:
    shape = [int(s) for s in x[1]]
    return x[0].reshape([x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)])


def _flatten(node, ctx: Ctx, a: dict, x: list) -> np.ndarray:
    axis = a.get("axis", 1)
    return x[0].reshape(int(np.prod(x[0].shape[:axis])), -1)


def _gemm(node, ctx: Ctx, a: dict, x: list) -> np.ndarray:
    A = x[0].T if a.get("transA", 0) else x[0]
    B = x[1].T if a.get("transB", 0) else x[1]
    val = a.get("alpha", 1.0) * (A @ B)
    if len(x) > 2 and x[2] is not None:
        val = val + a.get("beta", 1.0) * x[2]
    return val


def _elementwise(func) -> Callable:
    return lambda node, ctx, a, x: func(*x[:2]) if func.nin == 2 else func(x[0])


# op -> how to evaluate it on constant inputs: f(node, ctx, attributes, inputs) -> value
FOLDERS: dict[str, Callable] = {
    "Constant": _constant,
    "Identity": lambda node, ctx, a, x: x[0],
    "Dropout": lambda node, ctx, a, x: x[0],
    "Cast": _cast,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Add": _elementwise(np.add),
    "Sub": _elementwise(np.subtract),
    "Mul": _elementwise(np.multiply),
    "Div": _elementwise(np.true_divide),
    "MatMul": _elementwise(np.matmul),
    "Gemm": _gemm,
    "Relu": lambda node, ctx, a, x: np.maximum(x[0], 0),
    "Sigmoid": lambda node, ctx, a, x: 1 / (1 + np.exp(-x[0])),
    "Tanh": _elementwise(np.tanh),
    # shape arithmetic (frontend/shape_ops.py): indices and axes as ONNX gives them
    "Gather": lambda node, ctx, a, x: np.take(x[0], x[1], axis=int(a.get("axis", 0))),
    "Unsqueeze": lambda node, ctx, a, x: np.expand_dims(x[0], tuple(int(i) for i in _axes(a, x))),
    "Squeeze": lambda node, ctx, a, x: np.squeeze(x[0], tuple(int(i) for i in _axes(a, x)) or None),
    "Concat": lambda node, ctx, a, x: np.concatenate([np.atleast_1d(v) for v in x], axis=int(a["axis"])),
}


def _axes(a: dict, x: list) -> list:
    """Unsqueeze/Squeeze axes: the second input (opset 13+) or the attribute."""
    return list(x[1]) if len(x) > 1 and x[1] is not None else list(a.get("axes", []))


def fold_constant(node, ctx: Ctx) -> None:
    """Evaluate a node whose inputs are all constants (constant folding)."""
    a = attrs(node)
    op = node.op_type
    x = [ctx.consts[i] if i else None for i in node.input]
    folder = FOLDERS.get(op)
    try:
        if folder is None:
            raise ctx.fail(node, "constant inputs are not supported for this op")
        if op in ("Add", "Sub", "Mul", "Div", "MatMul", "Gemm") and len(x) >= 2 and x[1] is not None:
            size = _folded_size(op, a, x)
            if size > MAX_FOLD_ELEMENTS:
                raise ctx.fail(node, f"folding its constant inputs would make a tensor of {size:,} elements "
                                     f"(limit {MAX_FOLD_ELEMENTS:,}); is a dimension wrong?")
        val = folder(node, ctx, a, x)
    except PnetcError:
        raise
    except Exception as exc:
        raise ctx.fail(node, f"cannot evaluate on its constant inputs ({exc})") from None
    val = np.asarray(val)
    if val.dtype.kind in "iu" and op in ("Add", "Sub", "Mul", "MatMul"):
        _check_integer_fold(node, ctx, op, x, val.dtype)
    if val.dtype == np.float64:
        val = val.astype(np.float32)
    if val.dtype.kind == "f":
        ctx.finite(node, {f"constant '{node.output[0]}'": val}, "after constant folding")
    ctx.consts[node.output[0]] = val


def _check_cast(node, ctx: Ctx, x: np.ndarray, target: np.dtype) -> None:
    """A folded Cast to an integer type must not wrap or truncate out of range (numpy would)."""
    if target.kind not in "iu" or x.size == 0:
        return
    info = np.iinfo(target)
    lo, hi = (float(x.min()), float(x.max())) if x.dtype.kind == "f" else (int(x.min()), int(x.max()))
    if not (info.min <= lo and hi <= info.max):  # NaN compares false: refused as well
        raise ctx.fail(node, f"Cast to {target} of values in [{lo:g}, {hi:g}] overflows {target} "
                             f"[{info.min}, {info.max}]")


def _check_integer_fold(node, ctx: Ctx, op: str, x: list, dtype: np.dtype) -> None:
    """Integer Add/Sub/Mul/MatMul wraps silently in numpy: redo it in float64 and compare ranges.
    (Gemm multiplies by the float alpha, so it never folds to integers.)"""
    ref = FOLDERS[op](node, ctx, {}, [x[0].astype(np.float64), x[1].astype(np.float64)])
    info = np.iinfo(dtype)
    if ref.size and (ref.min() < info.min or ref.max() > info.max):
        raise ctx.fail(node, f"folding its integer constants overflows {dtype} (values up to {np.abs(ref).max():g})")
