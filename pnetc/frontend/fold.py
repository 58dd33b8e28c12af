"""Constant folding: a node whose inputs are all constants is evaluated here, with overflow and
non-finite checks, so exporter artefacts (Identity on an initializer, Cast, Reshape) disappear."""

from __future__ import annotations

import math

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


def fold_constant(node, ctx: Ctx) -> None:
    """Evaluate a node whose inputs are all constants (constant folding)."""
    a = attrs(node)
    op = node.op_type
    x = [ctx.consts[i] if i else None for i in node.input]
    try:
        if op in ("Add", "Sub", "Mul", "Div", "MatMul", "Gemm") and len(x) >= 2 and x[1] is not None:
            size = _folded_size(op, a, x)
            if size > MAX_FOLD_ELEMENTS:
                raise ctx.fail(node, f"folding its constant inputs would make a tensor of {size:,} elements "
                                     f"(limit {MAX_FOLD_ELEMENTS:,}); is a dimension wrong?")
        if op == "Constant":
            if "value" in a:
                from onnx import numpy_helper

                val = numpy_helper.to_array(a["value"])
            elif "value_float" in a:
                val = np.array(a["value_float"], np.float32)
            elif "value_floats" in a:
                val = np.array(a["value_floats"], np.float32)
            elif "value_int" in a:
                val = np.array(a["value_int"], np.int64)
            elif "value_ints" in a:
                val = np.array(a["value_ints"], np.int64)
            else:
                raise ctx.fail(node, "unsupported Constant attribute (use value, value_float(s) or value_int(s))")
        elif op in ("Identity", "Dropout"):
            val = x[0]
        elif op == "Cast":
            from onnx import helper

            target = np.dtype(helper.tensor_dtype_to_np_dtype(a["to"]))
            _check_cast(node, ctx, x[0], target)
            val = x[0].astype(target)
        elif op == "Reshape":
            shape = [int(s) for s in x[1]]
            shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
            val = x[0].reshape(shape)
        elif op == "Flatten":
            axis = a.get("axis", 1)
            val = x[0].reshape(int(np.prod(x[0].shape[:axis])), -1)
        elif op == "Add":
            val = x[0] + x[1]
        elif op == "Mul":
            val = x[0] * x[1]
        elif op == "Sub":
            val = x[0] - x[1]
        elif op == "Div":
            val = x[0] / x[1]
        elif op == "MatMul":
            val = x[0] @ x[1]
        elif op == "Gemm":
            A = x[0].T if a.get("transA", 0) else x[0]
            B = x[1].T if a.get("transB", 0) else x[1]
            val = a.get("alpha", 1.0) * (A @ B)
            if len(x) > 2 and x[2] is not None:
                val = val + a.get("beta", 1.0) * x[2]
        elif op == "Relu":
            val = np.maximum(x[0], 0)
        elif op == "Sigmoid":
            val = 1 / (1 + np.exp(-x[0]))
        elif op == "Tanh":
            val = np.tanh(x[0])
        else:
            raise ctx.fail(node, "constant inputs are not supported for this op")
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
    a, b = x[0].astype(np.float64), x[1].astype(np.float64)
    ref = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "MatMul": np.matmul}[op](a, b)
    info = np.iinfo(dtype)
    if ref.size and (ref.min() < info.min or ref.max() > info.max):
        raise ctx.fail(node, f"folding its integer constants overflows {dtype} (values up to {np.abs(ref).max():g})")
