"""The numbers a graph hands to the generated C, checked after the frontend and after every pass.

Each folding or quantising step checks its own results where it can name the cause (the
BatchNormalization with a negative variance, the Mul by 1e30); this is the safety net that
guarantees the invariant whatever pass produced a value: every float is a finite float32,
every quantisation scale a normal float32, every integer fits the C type it is written as.
"""

from __future__ import annotations

import numpy as np

from pnetc.errors import PnetcError
from pnetc.ir.graph import Affine, Conv, Dense, Graph, HashProjection
from pnetc.ir.limits import MAX_BIAS_Q

F32_TINY, F32_MAX = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)


def _finite_f32(values, where: str, what: str) -> None:
    v = np.asarray(values, np.float64)
    bad = ~(np.abs(v) <= F32_MAX)  # NaN compares false
    if np.any(bad):
        raise PnetcError(f"{where}: {what} holds {v.reshape(-1)[np.argmax(bad.reshape(-1))]:g}, not a finite float32")


def _within(values, lo: int, hi: int, where: str, what: str) -> None:
    v = np.asarray(values)
    if v.size and (v.min() < lo or v.max() > hi):
        raise PnetcError(f"{where}: {what} holds values in [{v.min()}, {v.max()}], outside [{lo}, {hi}]")


def check_values(graph: Graph, stage: str) -> None:
    """Raise a one-line PnetcError naming the node and the stage if any value breaks the invariant."""
    for op in graph.ops:
        where = f"after {stage}, node '{op.name}' ({op.kind})"
        if isinstance(op, (Dense, Conv)):
            _finite_f32(op.weight, where, "the weights")
            _finite_f32(op.bias, where, "the bias")
            if getattr(op, "alpha", None) is not None:
                _finite_f32(op.alpha, where, "the binary weight scale alpha")
            q = op.quant
            if q is not None:
                _within(q.bias_q, -MAX_BIAS_Q, MAX_BIAS_Q, where, "the int32 bias")
                _within(q.mult, 0, 2**31 - 1, where, "the requantisation multipliers")
                _within(q.shift, -31, 30, where, "the requantisation shifts")
                _finite_f32(q.w_scale, where, "the weight scales")
        elif isinstance(op, Affine):
            _finite_f32(op.scale, where, "the scale")
            _finite_f32(op.shift, where, "the shift")
        elif isinstance(op, HashProjection):
            _within(op.mean, -32768, 32767, where, "the int16 mean")
    for tensor in graph.tensors.values():
        q = tensor.quant
        if q is not None and not (F32_TINY <= q.scale <= F32_MAX and -128 <= q.zero_point <= 127):
            raise PnetcError(f"after {stage}, tensor '{tensor.name}': int8 scale {q.scale:g} / zero point "
                             f"{q.zero_point} is not a normal float32 scale and an int8 zero point")
