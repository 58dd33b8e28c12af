"""The golden interpreter: runs the IR after the passes with numpy.

Every kernel call goes through `pnetc.kernels`, the numpy twins of the C runtime, so
bits and int8 scores are integer-exact copies of what the generated C computes, and
float32 scores follow the same accumulation order. Every other check compares to this.

`Reference(graph).run(x)` runs the compiled precision; `run(x, precision="float32")`
runs the float network on the same graph (for accuracy deltas and eval).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from pnetc import kernels
from pnetc.errors import PnetcError
from pnetc.ir.graph import Activation, Dense, Graph, HashProjection, TextProjection


@dataclass
class ReferenceOutput:
    bits: np.ndarray  # uint8 [n, B] of 0/1 ([n, 0] without a projection)
    scores: np.ndarray  # [n, C]: int8 logits (int8/binary) or float32
    predictions: np.ndarray  # int64 [n]


class Reference:
    def __init__(self, graph: Graph):
        self.graph = graph

    @property
    def precision(self) -> str:
        return self.graph.precision

    # -- inputs ---------------------------------------------------------------

    @property
    def input_dtype(self) -> str:
        """What `run` takes per element: "uint8", "int8", "float32", or "bytes" (text)."""
        return self.graph.tensors[self.graph.input].dtype

    @property
    def device_input_dtype(self) -> str:
        """What the generated C takes per element (`encode_input`'s output): a float-input model
        compiled to int8 takes int8."""
        g = self.graph
        if g.projection is None and g.precision != "float32":
            return "int8"
        return self.input_dtype

    def check_input(self, x) -> object:
        """Validate a batch: uint8/int8 [n, N] for dense models, a list of bytes for text."""
        g = self.graph
        if g.input_kind == "text":
            if isinstance(x, (bytes, str)) or not all(isinstance(t, (bytes, bytearray)) for t in x):
                raise PnetcError("a text model takes a list of UTF-8 byte strings")
            from pnetc.hashing import check_text_lengths

            check_text_lengths(x, "text sample")  # the featurization's time and memory grow with the length
            return [bytes(t) for t in x]
        arr = np.asarray(x)
        arr = arr.reshape(arr.shape[0], -1) if arr.ndim >= 2 else arr.reshape(1, -1)
        if arr.shape[1] != g.input_size:
            raise PnetcError(f"the model takes {g.input_size} input values per sample, got {arr.shape[1]}")
        dtype = g.tensors[g.input].dtype
        if dtype in ("uint8", "int8"):
            if np.issubdtype(arr.dtype, np.floating) and not np.all(arr == np.round(arr)):
                raise PnetcError(f"this model takes quantized {dtype} inputs, got non-integer values")
            info = np.iinfo(dtype)
            if arr.size and (arr.min() < info.min or arr.max() > info.max):
                raise PnetcError(f"input values must be in the {dtype} range [{info.min}, {info.max}]")
            return arr.astype(dtype)
        return arr.astype(np.float32)

    def encode_input(self, x) -> object:
        """The exact elements the generated C takes: the input itself, except that foreign
        (float-input) models compiled to int8 take int8 quantized with the input's scale
        and zero point: q = clamp(round_half_even(x / scale) + zero_point, -128, 127)."""
        x = self.check_input(x)
        g = self.graph
        q = g.tensors[g.input].quant
        if g.projection is None and g.precision != "float32":
            v = np.round(np.asarray(x, np.float64) / q.scale) + q.zero_point
            return np.clip(v, -128, 127).astype(np.int8)
        return x

    # -- running ---------------------------------------------------------------

    def bits(self, x) -> np.ndarray:
        """Packed projection bits uint32 [n, words] (empty without a projection), in blocks of samples."""
        x = self.check_input(x)
        step = self._rows_per_block()
        if len(x) <= step:
            return self._bits_block(x)
        return np.concatenate([self._bits_block(x[lo:lo + step]) for lo in range(0, len(x), step)])

    def _bits_block(self, x) -> np.ndarray:
        proj = self.graph.projection
        n = len(x)
        if proj is None:
            return np.zeros((n, 0), np.uint32)
        if isinstance(proj, TextProjection):
            words = kernels.num_words(proj.num_bits)
            out = np.zeros((n, words), np.uint32)
            for i, t in enumerate(x):
                out[i] = kernels.text_project(t, proj.seed, proj.num_bits, proj.char_max_n, proj.words)
            return out
        assert isinstance(proj, HashProjection)
        center = kernels.center_u8 if proj.input_dtype == "uint8" else kernels.center_s8
        xc = center(x, proj.mean)
        if proj.proj_kind == "binary":
            if proj.table:
                return kernels.project_binary_table(xc, kernels.binary_table(proj.seed, proj.num_bits, proj.input_size),
                                                    proj.num_bits)
            return kernels.project_binary(xc, proj.seed, proj.num_bits)
        if proj.table:
            table = kernels.ternary_table(proj.seed, proj.num_bits, proj.input_size, proj.nnz)
            return kernels.project_ternary_table(xc, table, proj.num_bits, proj.nnz)
        return kernels.project_ternary(xc, proj.seed, proj.num_bits, proj.nnz)

    def _rows_per_block(self) -> int:
        """Samples per block so that [block, widest tensor] intermediates (int64 products of the bit
        layers, the unpacked bits) stay within kernels.BLOCK_ELEMENTS whatever the model's widths."""
        g = self.graph
        widths = [g.num_bits, 0 if g.input_kind == "text" else g.input_size]
        widths += [op.out_features for op in g.dense_layers()] + [op.in_features for op in g.dense_layers()]
        return max(1, kernels.BLOCK_ELEMENTS // max(1, *widths))

    def run(self, x, precision: Optional[str] = None, *, packed_bits: Optional[np.ndarray] = None,
            trace: Optional[dict] = None) -> ReferenceOutput:
        """Run a batch. `trace`, if given, receives every tensor's value (float mode: real values).
        Large batches run in blocks of samples, so memory is bounded (the results are the same)."""
        x = self.check_input(x)
        step = self._rows_per_block()
        if len(x) <= step:
            return self._run_block(x, precision, packed_bits, trace)
        parts, traces = [], []
        for lo in range(0, len(x), step):
            part_trace = {} if trace is not None else None
            bits = None if packed_bits is None else packed_bits[lo:lo + step]
            parts.append(self._run_block(x[lo:lo + step], precision, bits, part_trace))
            traces.append(part_trace)
        if trace is not None:
            for name in traces[0]:
                values = [t[name] for t in traces]
                trace[name] = None if values[0] is None else np.concatenate(values)
        fields = ("bits", "scores", "predictions")
        return ReferenceOutput(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))

    def _run_block(self, x, precision: Optional[str], packed_bits: Optional[np.ndarray],
                   trace: Optional[dict]) -> ReferenceOutput:
        g = self.graph
        precision = precision or g.precision
        if precision != "float32" and precision != g.precision:
            raise PnetcError(f"this graph was quantized for {g.precision}, not {precision}")
        int_mode = precision != "float32"
        bits = self._bits_block(x) if packed_bits is None else packed_bits
        value = None
        proj = g.projection
        if proj is None:
            value = self.encode_input(x) if int_mode else np.asarray(x, np.float32)
        else:
            value = bits
        if trace is not None:
            trace[g.input] = value if proj is None else None
        for op in g.ops:
            if op is proj:
                continue
            if isinstance(op, Dense):
                value = self._dense(op, value, int_mode)
            elif isinstance(op, Activation):
                value = self._activation(op, value, int_mode)
            else:
                raise PnetcError(f"the interpreter has no rule for {op.kind} ('{op.name}'); run the passes first")
            if trace is not None:
                trace[op.outputs[0]] = value
        scores = value
        if int_mode:
            preds = kernels.argmax_s8(scores)
        else:
            preds = kernels.argmax_f32(scores)
        nbits = g.num_bits
        unpacked = kernels.unpack_bits(bits, nbits) if nbits else np.zeros((len(x), 0), np.uint8)
        return ReferenceOutput(unpacked.astype(np.uint8), scores, preds.astype(np.int64))

    def _dense(self, op: Dense, x: np.ndarray, int_mode: bool) -> np.ndarray:
        nbits = self.graph.num_bits
        if not int_mode:
            if op.lowering in ("bitsum", "xnor"):
                y = kernels.bitsum_f32(x, nbits, np.ascontiguousarray(op.weight.T), op.bias)
            else:
                y = kernels.dense_f32(x, op.weight, op.bias)
            return kernels.relu_f32(y) if op.activation == "relu" else y
        q = op.quant
        if q is None:
            raise PnetcError(f"layer '{op.name}' is not quantized; compile with --precision int8")
        if op.lowering == "bitsum":
            acc = kernels.bitsum_s32(x, nbits, np.ascontiguousarray(q.w_q.T), q.bias_q)
            return kernels.requantize_s8(acc, q.mult, q.shift, q.out_offset, q.act_min, q.act_max)
        if op.lowering == "xnor":
            acc = kernels.xnor_popcount(x, nbits, q.w_q, q.bias_q)
            return kernels.requantize_s8(acc, q.mult, q.shift, q.out_offset, q.act_min, q.act_max)
        # low-bit hidden layers (ir/passes/lowbit.py): w_q holds the grid integers, packed as the C reads them
        if op.lowering == "dense_s4":
            return kernels.dense_s4(x, kernels.pack_s4(q.w_q), op.in_features, q.bias_q, q.in_offset, q.mult, q.shift,
                                    q.out_offset, q.act_min, q.act_max)
        if op.lowering == "dense_pm1":
            return kernels.dense_pm1(x, kernels.pack_bits((q.w_q > 0).astype(np.uint8)), op.in_features, q.bias_q,
                                     q.in_offset, q.mult, q.shift, q.out_offset, q.act_min, q.act_max)
        return kernels.dense_s8(x, q.w_q, q.bias_q, q.in_offset, q.mult, q.shift, q.out_offset, q.act_min, q.act_max)

    def _activation(self, op: Activation, x: np.ndarray, int_mode: bool) -> np.ndarray:
        if int_mode:
            return kernels.lut_s8(x, op.lut)
        f = {"relu": kernels.relu_f32, "sigmoid": kernels.sigmoid_f32, "tanh": kernels.tanh_f32,
             "softmax": kernels.softmax_f32}.get(op.func)
        if op.func == "log_softmax":
            return np.log(kernels.softmax_f32(x)).astype(np.float32)
        return f(x)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Re-apply a stripped trailing softmax / log_softmax to float scores (to compare with
        the original graph's output)."""
        act = self.graph.output_activation
        if act == "softmax":
            return kernels.softmax_f32(scores)
        if act == "log_softmax":
            return np.log(kernels.softmax_f32(scores)).astype(np.float32)
        return scores


def tensor_ranges(graph: Graph, samples) -> dict:
    """min/max of every tensor of the float network on calibration samples."""
    ref = Reference(graph)
    trace: dict = {}
    x = ref.check_input(samples)
    if len(x) == 0:
        raise PnetcError("the calibration file holds no samples")
    ref.run(x, "float32", trace=trace)
    out = {}
    for name, value in trace.items():
        if value is not None:
            out[name] = {"min": float(np.min(value)), "max": float(np.max(value))}
    if graph.projection is None:
        x = np.asarray(x, np.float64)
        out[graph.input] = {"min": float(x.min()), "max": float(x.max())}
    return out
