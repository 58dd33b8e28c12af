"""The golden interpreter: runs the IR after the passes with numpy.

It runs the lowered kernel-call list (pnetc.ir.calls), the same list the C template
writes, through `pnetc.kernels.TWINS`, the numpy twins of the C runtime, so bits and int8
scores are integer-exact copies of what the generated C computes, and float32 scores follow
the same accumulation order. Every other check compares to this.

`Reference(graph).run(x)` runs the compiled precision; `run(x, precision="float32")`
runs the float network on the same graph (for accuracy deltas and eval).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from pnetc import kernels
from pnetc.errors import PnetcError
from pnetc.ir.calls import KernelCall, Program, lower_calls
from pnetc.ir.graph import Graph


@dataclass
class ReferenceOutput:
    bits: np.ndarray  # uint8 [n, B] of 0/1 ([n, 0] without a projection)
    scores: np.ndarray  # [n, C]: int8 logits (int8/binary) or float32
    predictions: np.ndarray  # int64 [n]


class Reference:
    def __init__(self, graph: Graph):
        self.graph = graph
        self._programs: dict[str, Program] = {}

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
        if g.float_input and g.precision != "float32":
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
        and zero point, by pnetc's one rounding (pnetc.quantization, as `<name>_quantize` in C)."""
        from pnetc.ir.inputs import input_encoding

        x = self.check_input(x)
        g = self.graph
        if g.float_input and g.precision != "float32":
            return input_encoding(g).quantize(x)
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
        if proj is None:
            return np.zeros((len(x), 0), np.uint32)
        program = self.program(None if self.graph.program is not None else "float32")  # bits: any precision
        values = {self.graph.input: self._input_values(x, program.precision != "float32")}
        self._execute(program.calls[:_projection_end(program, proj.name)], values)  # a stem runs first
        return values[proj.outputs[0]]

    def _input_values(self, x, int_mode: bool):
        """The input tensor's values: float features quantized (int8) or as float32; levels as they are."""
        if not self.graph.float_input:
            return x
        return self.encode_input(x) if int_mode else np.asarray(x, np.float32)

    def program(self, precision: Optional[str] = None) -> Program:
        """The lowered kernel calls this reference runs (the graph's own list for its precision)."""
        precision = precision or self.graph.precision
        if precision == self.graph.precision and self.graph.program is not None:
            return self.graph.program
        if precision not in self._programs:
            self._programs[precision] = lower_calls(self.graph, precision)
        return self._programs[precision]

    def _execute(self, calls: list[KernelCall], values: dict, trace: Optional[dict] = None) -> None:
        """Run each call's numpy twin on its operands; `values` maps tensor and scratch keys to arrays."""
        for call in calls:
            twin = kernels.twin(call.kernel)
            args = {param: values[key] for param, key in call.inputs.items()}
            args.update({param: c.values for param, c in call.consts.items()})
            value = twin(**args, **call.params)
            key = call.output[1]
            values[key] = value
            if trace is not None and isinstance(key, str) and self.graph.tensors[key].dtype != "bits":
                trace[key] = value

    def _rows_per_block(self) -> int:
        """Samples per block so that [block, widest tensor] intermediates (int64 products of the bit
        layers, the unpacked bits) stay within kernels.BLOCK_ELEMENTS whatever the model's widths."""
        g = self.graph
        widths = [g.num_bits, 0 if g.input_kind == "text" else g.input_size]
        widths += [op.out_features for op in g.dense_layers()] + [op.in_features for op in g.dense_layers()]
        widths += [t.size for t in g.tensors.values()]  # conv and pooling outputs
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
        program = self.program(precision)
        proj = g.projection
        values: dict = {}
        calls = program.calls
        if proj is not None and packed_bits is not None:  # the calls after the projection (and its stem)
            values[proj.outputs[0]] = packed_bits
            calls = calls[_projection_end(program, proj.name):]
        else:
            values[g.input] = self._input_values(x, int_mode)
        if trace is not None:
            trace[g.input] = values[g.input] if g.float_input and packed_bits is None else None
        self._execute(calls, values, trace)
        bits = values[proj.outputs[0]] if proj is not None else np.zeros((len(x), 0), np.uint32)
        scores = values[g.output]
        if int_mode:
            preds = kernels.argmax_s8(scores)
        else:
            preds = kernels.argmax_f32(scores)
        nbits = g.num_bits
        unpacked = kernels.unpack_bits(bits, nbits) if nbits else np.zeros((len(x), 0), np.uint8)
        return ReferenceOutput(unpacked.astype(np.uint8), scores, preds.astype(np.int64))

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Re-apply a stripped trailing softmax / log_softmax to float scores (to compare with
        the original graph's output)."""
        act = self.graph.output_activation
        if act == "softmax":
            return kernels.softmax_f32(scores)
        if act == "log_softmax":
            return np.log(kernels.softmax_f32(scores)).astype(np.float32)
        return scores


def _projection_end(program: Program, projection: str) -> int:
    """Index just after the projection's last call: the calls before it compute the bits."""
    return max(i for i, call in enumerate(program.calls) if call.op == projection) + 1


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
    if graph.float_input:
        x = np.asarray(x, np.float64)
        out[graph.input] = {"min": float(x.min()), "max": float(x.max()),
                            "feature_min": x.min(axis=0).tolist(), "feature_max": x.max(axis=0).tolist()}
    return out
