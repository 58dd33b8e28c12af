"""int8 quantisation (TFLite / CMSIS-NN convention).

Weights: per-channel symmetric int8 (scale = max|w| / 127). Bias: int32 at scale
s_in * s_w. Activations: per-tensor asymmetric int8 from calibration ranges (the
model's pnetc.calibration metadata, or ranges measured on `--calib` samples).
Requantisation: real multiplier s_in * s_w / s_out as a Q31 multiplier and shift.
A float input read by one dense layer is quantized per feature (scale s_i, zero point zp_i from
feature i's calibration range): the layer takes W_ji * s_i as its weights and folds the zero
points into its bias, so the input scale is 1 and the kernel is the usual dense_s8.
The bits after the projection are exact 0/1 integers (scale 1, zero point 0). A projection after a
stem reads the stem's int8 output on the grid the model gives (its x_scale and x_zero_point).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from pnetc.errors import PnetcError
from pnetc.ir.graph import Activation, Conv, Dense, DenseQuant, FeatureQuant, Graph, HashProjection, Pool, QuantParams
from pnetc.ir.limits import MAX_BIAS_Q, MAX_INT8_CONV_TAPS, MAX_INT8_DENSE_INPUTS, check_limit
from pnetc.ir.passes.lowbit import LOWERING, low_bit_weights

LOW_BIT_BITS = {lowering: bits for bits, lowering in LOWERING.items()}

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
F32_TINY, F32_MAX = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)
# fixed output quantisation of bounded activations (as TFLite)
# sum_i |w_ji * zp_i| of a per-feature input's folded zero points stays below this (half of MAX_BIAS_Q)
MAX_ZERO_POINT_FOLD = MAX_BIAS_Q // 2
FIXED_OUTPUT = {"sigmoid": QuantParams(1.0 / 256.0, -128), "tanh": QuantParams(1.0 / 128.0, 0)}


def quantize_multiplier(real: float) -> tuple[int, int]:
    """real = mult * 2^(shift - 31) (TFLite QuantizeMultiplier, shared with the kernels' twin)."""
    from pnetc import kernels

    mult, shift = kernels.quantize_multiplier(real)
    return int(mult[0]), int(shift[0])


def qparams_from_range(lo: float, hi: float, what: str = "a tensor") -> QuantParams:
    """Asymmetric int8 covering [min(lo, 0), max(hi, 0)] so that 0 is exact. The scale must be
    a normal float32 (the C holds it as a float literal; 0, denormal or inf would be garbage)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise PnetcError(f"the calibration range of {what} is [{lo:g}, {hi:g}]; int8 needs a finite range "
                         "(the float network overflows on the calibration samples)")
    if hi - lo < 1e-12:
        hi = lo + 1e-6
    scale = (hi - lo) / 255.0
    if not F32_TINY <= scale <= F32_MAX:
        raise PnetcError(f"the calibration range of {what} is [{lo:g}, {hi:g}], which gives the int8 scale "
                         f"{scale:g}, not a normal float32")
    zp = int(round(INT8_MIN - lo / scale))
    return QuantParams(scale, max(INT8_MIN, min(INT8_MAX, zp)))


def quantize(graph: Graph, calib: Optional[object] = None) -> None:
    """Add int8 parameters to every layer (int8 and binary precision); float32 is a no-op."""
    if graph.precision == "float32":
        return
    ranges = _ranges(graph, calib)
    fixed = _fixed_grids(graph)
    if graph.float_input:
        in_t = graph.tensors[graph.input]
        in_t.feature_quant = None if graph.input in fixed else _feature_quant(graph, ranges)
        if in_t.feature_quant is None:
            in_t.quant = fixed.get(graph.input) or _qparams(graph, ranges, graph.input, "the model input")
    for op in graph.ops:
        if isinstance(op, (Dense, Conv)):
            _quantize_dense(graph, op, ranges, fixed.get(op.outputs[0]))
        elif isinstance(op, Activation):
            _quantize_activation(graph, op)
        elif isinstance(op, Pool):
            _quantize_pool(graph, op)


def _fixed_grids(graph: Graph) -> dict[str, QuantParams]:
    """The tensors whose int8 grid the model fixes: a projection's float input (a stem's output, read
    on the node's x_scale/x_zero_point) and, back through pooling (which keeps its input's grid),
    the layer output it pools; calibration does not choose these."""
    proj = graph.projection
    if not isinstance(proj, HashProjection) or proj.stem_quant is None:
        return {}
    fixed = {}
    tensor = proj.inputs[0]
    while True:
        fixed[tensor] = proj.stem_quant
        producer = graph.producer(tensor)
        if isinstance(producer, Pool):
            tensor = producer.inputs[0]
        elif producer is None or isinstance(producer, (Dense, Conv)):
            return fixed
        else:
            what = producer.func if isinstance(producer, Activation) else producer.kind
            raise PnetcError(f"the projection '{proj.name}' reads '{tensor}', the output of '{producer.name}' "
                             f"({what}); a stem must end with a Gemm/MatMul/Conv layer (with its Relu), "
                             "or a pooling of one, whose int8 grid the projection's x_scale/x_zero_point fix")


def _ranges(graph: Graph, calib) -> dict:
    if calib is not None:
        from pnetc.ir.interpret import tensor_ranges

        return tensor_ranges(graph, calib)
    if not graph.info.calibration:
        raise PnetcError(
            "int8 quantisation needs activation ranges: this model has no pnetc.calibration metadata; "
            "pass --calib FILE (an .npz of sample inputs)"
        )
    return graph.info.calibration


def _qparams(graph: Graph, ranges: dict, name: str, what: str) -> QuantParams:
    rng = ranges.get(name)
    if rng is None:
        raise PnetcError(
            f"no calibration range for {what} (tensor '{name}'); pass --calib FILE with sample inputs"
        )
    return qparams_from_range(rng["min"], rng["max"], f"{what} (tensor '{name}')")


def _feature_quant(graph: Graph, ranges: dict) -> Optional[FeatureQuant]:
    """Per-feature int8 of the input when its only reader is an int8 dense layer (which folds the
    scales and zero points) and the ranges hold per-feature min/max (--calib samples); else None."""
    readers = graph.consumers(graph.input)
    rng = ranges.get(graph.input) or {}
    if (len(readers) != 1 or not isinstance(readers[0], Dense) or readers[0].lowering != "dense"
            or readers[0].in_features != graph.input_size or "feature_min" not in rng):
        return None
    lo = np.asarray(rng["feature_min"], np.float64)
    hi = np.asarray(rng["feature_max"], np.float64)
    if lo.shape != (graph.input_size,) or hi.shape != lo.shape:
        return None
    bad = ~(np.isfinite(lo) & np.isfinite(hi))
    if np.any(bad):
        j = int(np.argmax(bad))
        raise PnetcError(f"the calibration range of input feature {j} is [{lo[j]:g}, {hi[j]:g}]; int8 needs a "
                         "finite range")
    return FeatureQuant(*feature_qparams(lo, hi))


def feature_qparams(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per feature: min -> -128, max -> 127 (scale float32, zero point int32). |zero point| stays
    below max_zp = MAX_ZERO_POINT_FOLD / (127 N) (a feature far from 0 relative to its spread gets
    a coarser scale), so that the first layer's folded bias sum_i w_ji * zp_i fits int32; a
    constant feature gets the scale |value| (1 for 0)."""
    max_zp = min(2**24, MAX_ZERO_POINT_FOLD // (127 * max(1, lo.size)))
    span = np.maximum(np.abs(lo), np.abs(hi))
    scale = np.maximum((hi - lo) / 255.0, span / max(1, max_zp - 256))
    flat = scale < F32_TINY
    scale[flat] = np.where(span[flat] >= F32_TINY, span[flat], 1.0)
    if np.any(scale > F32_MAX):
        j = int(np.argmax(scale > F32_MAX))
        raise PnetcError(f"the calibration range of input feature {j} is [{lo[j]:g}, {hi[j]:g}], which gives an "
                         "int8 scale beyond float32")
    scale32 = scale.astype(np.float32)
    from pnetc.quantization import quantize as encode

    zero_point = INT8_MIN - encode(lo.astype(np.float32), scale32, 0, -max_zp, max_zp)
    return scale32, zero_point.astype(np.int32)


def _quantize_dense(graph: Graph, op: Dense | Conv, ranges: dict, fixed: Optional[QuantParams] = None) -> None:
    """Dense and conv layers alike: per-output-channel int8 weights over the products summed per output.
    `fixed`: the output's int8 grid when the model fixes it (a stem's output, _fixed_grids)."""
    in_t = graph.tensors[op.inputs[0]]
    out_t = graph.tensors[op.outputs[0]]
    features = in_t.feature_quant
    if in_t.dtype == "bits" or features is not None:  # per-feature input: scales in W, zero points in the bias
        s_in, zp_in = 1.0, 0
    else:
        if in_t.quant is None:
            raise PnetcError(f"layer '{op.name}' reads '{in_t.name}', which has no int8 quantisation")
        s_in, zp_in = in_t.quant.scale, in_t.quant.zero_point
    if fixed is not None:
        out_q = fixed
    elif op.activation == "relu":
        # the ReLU output's range; the pre-activation range gives the same int8 grid above 0
        key = out_t.name if out_t.name in ranges else (op.pre_activation or out_t.name)
        out_q = _qparams(graph, ranges, key, f"the output of layer '{op.name}'")
        out_q = qparams_from_range(0.0, max(ranges[key]["max"], 0.0), f"the output of layer '{op.name}'")
    else:
        out_q = _qparams(graph, ranges, out_t.name, f"the output of layer '{op.name}'")
    out_t.quant = out_q
    out_t.dtype = "int8"
    lowering = op.lowering if isinstance(op, Dense) else "dense"
    w = op.weight.astype(np.float64).reshape(op.weight.shape[0], -1)
    bias = op.bias.astype(np.float64)
    if features is not None:
        w = w * np.asarray(features.scale, np.float64)[None, :]
    if lowering == "xnor":
        # W ~ alpha * s with s = +-1; b in {0,1} = (1 + (2b-1)) / 2, so
        # W b + c = alpha/2 * sum_k s_k (2b_k - 1) + (c + alpha/2 * sum_k s_k): acc has scale alpha/2.
        signs = np.where(w >= 0, 1.0, -1.0)
        acc_scale = np.maximum(op.alpha, 1e-12) / 2.0
        eff_bias = bias + acc_scale * signs.sum(axis=1)
        from pnetc.hashing import pack_bits

        w_q = pack_bits((signs > 0).astype(np.uint8))
        w_scale = acc_scale
        bias_q = eff_bias / acc_scale
    elif lowering in LOW_BIT_BITS:  # low-bit hidden layers (lowbit.py): the grid is exact
        check_limit(f"layer '{op.name}' ({lowering}): ", "inputs", op.in_features, MAX_INT8_DENSE_INPUTS, 1)
        w_q, w_scale = low_bit_weights(op, LOW_BIT_BITS[lowering])
        bias_q = bias / (s_in * w_scale)
    else:
        if isinstance(op, Conv):  # (x - zp) * w summed over in_c * k_h * k_w taps, plus the bias, must fit int32
            check_limit(f"layer '{op.name}' (int8): ", "in_c*k_h*k_w", op.taps, MAX_INT8_CONV_TAPS, 1)
        elif lowering == "dense":  # (x - zp) * w summed over the inputs, plus the bias, must fit int32
            check_limit(f"layer '{op.name}' (int8): ", "inputs", op.in_features, MAX_INT8_DENSE_INPUTS, 1)
        wmax = np.max(np.abs(w), axis=1)
        tiny = (wmax > 0) & (wmax < F32_TINY)
        if np.any(tiny):
            raise PnetcError(f"the weights of layer '{op.name}', output {int(np.argmax(tiny))}, are all denormal "
                             f"(max |w| = {wmax[np.argmax(tiny)]:g}): its int8 scale would be denormal")
        w_scale = np.where(wmax > 0, wmax / 127.0, 1.0)
        w_q = np.clip(np.round(w / w_scale[:, None]), -127, 127).astype(np.int8).reshape(op.weight.shape)
        bias_q = bias / (s_in * w_scale)
        if features is not None:  # W x = W' (q - zp) = W' q - W' zp
            bias_q = np.round(bias_q) - w_q.astype(np.int64) @ np.asarray(features.zero_point, np.int64)
    if not np.all(np.abs(bias_q) <= MAX_BIAS_Q):  # also NaN
        raise PnetcError(f"the bias of layer '{op.name}' does not fit int32 after quantisation "
                         f"(|bias / scale| up to {np.max(np.abs(bias_q)):g}, limit {MAX_BIAS_Q})")
    bias_q = np.round(bias_q).astype(np.int32)
    eff_in = 1.0 if lowering == "xnor" else s_in
    from pnetc import kernels

    try:
        mults, shifts = kernels.quantize_multiplier(eff_in * np.asarray(w_scale, np.float64) / out_q.scale)
    except PnetcError as exc:
        raise PnetcError(f"layer '{op.name}': {exc}") from None
    op.quant = DenseQuant(
        w_q=w_q, w_scale=np.asarray(w_scale, np.float64), bias_q=bias_q,
        mult=np.asarray(mults, np.int32), shift=np.asarray(shifts, np.int32),
        in_offset=-zp_in, out_offset=out_q.zero_point,
        act_min=max(INT8_MIN, out_q.zero_point) if op.activation == "relu" else INT8_MIN, act_max=INT8_MAX,
    )


def _quantize_activation(graph: Graph, op: Activation) -> None:
    in_t = graph.tensors[op.inputs[0]]
    out_t = graph.tensors[op.outputs[0]]
    if op.func not in ("relu", "sigmoid", "tanh"):
        raise PnetcError(f"'{op.name}' ({op.func}) inside the network has no int8 form; use --precision float32")
    if in_t.quant is None:
        raise PnetcError(f"'{op.name}' reads '{in_t.name}', which has no int8 quantisation")
    out_q = FIXED_OUTPUT.get(op.func, in_t.quant)
    q = np.arange(INT8_MIN, INT8_MAX + 1, dtype=np.float64)
    real = in_t.quant.scale * (q - in_t.quant.zero_point)
    f = {"relu": lambda v: np.maximum(v, 0.0), "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)), "tanh": np.tanh}
    with np.errstate(over="ignore"):  # exp(-v) -> inf gives sigmoid 0, as it should
        y = np.round(f[op.func](real) / out_q.scale) + out_q.zero_point
    op.lut = np.clip(y, INT8_MIN, INT8_MAX).astype(np.int8)
    out_t.quant = out_q
    out_t.dtype = "int8"


def _quantize_pool(graph: Graph, op: Pool) -> None:
    """Max and average pooling keep the input's scale and zero point (the kernels work on the raw int8)."""
    in_t, out_t = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if in_t.quant is None:
        raise PnetcError(f"'{op.name}' reads '{in_t.name}', which has no int8 quantisation")
    if op.mode == "avg" and op.count_include_pad and any(op.pads) and in_t.quant.zero_point != 0:
        # the kernel counts padded taps as int8 0, which is the real value -zero_point * scale here
        raise PnetcError(f"'{op.name}' (AveragePool with count_include_pad=1 and pads) has no exact int8 form: its "
                         f"input's zero point is {in_t.quant.zero_point}, not 0; use count_include_pad=0 or "
                         "--precision float32")
    out_t.quant = QuantParams(in_t.quant.scale, in_t.quant.zero_point)
    out_t.dtype = "int8"
