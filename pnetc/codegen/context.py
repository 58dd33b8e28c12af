"""IR after passes -> the plain data the templates render: weights, buffers, kernel calls.

Nothing here writes C syntax except numeric literals (see literals.py); the templates
own every statement. The calls are the lowered program's (pnetc.ir.calls), in order; each gets
its arguments in the order pnet.h declares them (signatures.py), so no kernel is chosen here.
Names from the model (op names in `CCall.op` and comments, the source file, labels) stay raw here:
the templates escape them (escape.py), and render.py refuses any they forget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from pnetc import __version__
from pnetc.codegen.escape import word
from pnetc.codegen.signatures import signature
from pnetc.errors import PnetcError
from pnetc.ir.calls import KernelCall, lower_calls
from pnetc.ir.graph import Graph
from pnetc.ir.passes.memory import buffer_requests
from pnetc.kernels import Window

CTYPES = {np.dtype(np.uint8): "uint8_t", np.dtype(np.int8): "int8_t", np.dtype(np.int16): "int16_t",
          np.dtype(np.int32): "int32_t", np.dtype(np.uint32): "uint32_t", np.dtype(np.uint16): "uint16_t", np.dtype(np.float32): "float"}


@dataclass
class WeightArray:
    field: str
    ctype: str
    values: np.ndarray
    comment: str

    @property
    def count(self) -> int:
        return int(self.values.size)

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes)


@dataclass
class BufferView:
    var: str
    ctype: str
    offset: int
    nbytes: int
    comment: str


@dataclass
class CArg:
    """One argument of a generated kernel call: how the template writes it."""

    kind: str  # "var" (a buffer view or a name in scope), "input" (the model input), "weight", "int", "uint",
    # "window" (an index into the model's pnet_window table)
    value: object


@dataclass
class CCall:
    """A lowered kernel call (pnetc.ir.calls.KernelCall) as the template writes it."""

    kernel: str
    stage: int
    args: list[CArg]
    op: str  # raw op name, escaped by the template
    comment: Optional[str]  # None: no comment line
    returns_status: bool


# Names a kernel parameter may take from the predict function's scope instead of from the call.
SCOPE_NAMES = ("len",)  # the text length
# the streaming form of each text projection kernel: its C state type (and the prefix of its
# _begin/_feed/_finish), the macro sizing it, what it holds, and its bytes per word of bits
# beyond a fixed 512 (simhash: a hash row and 30 counter planes per word; presence: the bits)
TEXT_STREAMS = {
    "text_project": dict(c_type="pnet_text_stream", size_macro="PNET_TEXT_STREAM_BYTES", holds="counters",
                         word_bytes=124),
    "text_presence": dict(c_type="pnet_text_presence_stream", size_macro="PNET_TEXT_PRESENCE_STREAM_BYTES",
                          holds="bits", word_bytes=4),
}
LIBM_KERNELS = frozenset({"sigmoid_f32", "tanh_f32", "softmax_f32"})


def _weight(weights: list, name: str, values: np.ndarray, comment: str) -> str:
    arr = np.ascontiguousarray(values)
    weights.append(WeightArray(name, CTYPES[arr.dtype], arr, comment))
    return name


def _weight_field(weights: list, call: KernelCall, role: str) -> str:
    """l<layer>_<role> for a layer's weights; the role itself otherwise, numbered if it repeats."""
    if call.layer is not None:
        return f"l{call.layer}_{role}"
    return f"{role}{len(weights)}" if any(w.field == role for w in weights) else role


def build_context(graph: Graph, *, name: str, options: dict) -> dict:
    plan = graph.plan
    program = graph.program if graph.program is not None else lower_calls(graph)
    _, alias = buffer_requests(graph)
    weights: list[WeightArray] = []
    views: dict[object, BufferView] = {}
    for decl in program.buffers:
        b = plan.buffers[decl.key]
        views[decl.key] = BufferView(f"buf{len(views)}", CTYPES[np.dtype(decl.dtype)], b.offset, b.nbytes,
                                     decl.comment)

    def buffer(key) -> CArg:
        if key == graph.input:
            return CArg("input", None)
        return CArg("var", views[alias.get(key, key)].var)

    calls = []
    windows: list[tuple[int, ...]] = []  # pnet_window initializers of the conv/pool calls
    for call in program.calls:
        sig = signature(call.kernel)
        args = []
        for param in sig.params:
            p = param.name
            if p in call.inputs:
                args.append(buffer(call.inputs[p]))
            elif p == call.output[0]:
                args.append(buffer(call.output[1]))
            elif p in call.scratch:
                args.append(buffer(call.scratch[p]))
            elif p in call.consts:
                c = call.consts[p]
                args.append(CArg("weight", _weight(weights, _weight_field(weights, call, c.role), c.values,
                                                   c.comment)))
            elif isinstance(call.params.get(p), Window):
                windows.append(call.params[p].c_fields())
                args.append(CArg("window", len(windows) - 1))
            elif p in call.params or p in call.sizes:
                value = int(call.params[p] if p in call.params else call.sizes[p])
                args.append(CArg("uint" if param.unsigned_scalar else "int", value))
            elif p in SCOPE_NAMES:
                args.append(CArg("var", p))
            else:
                raise PnetcError(f"the call of pnet_{call.kernel} for '{call.op}' gives no operand for its "
                                 f"parameter '{p}'")
        given = {*call.inputs, call.output[0], *call.scratch, *call.consts, *call.params, *call.sizes}
        unused = given - {param.name for param in sig.params}
        if unused:
            raise PnetcError(f"the call of pnet_{call.kernel} for '{call.op}' has operands the kernel does not "
                             f"take: {', '.join(sorted(unused))}")
        calls.append(CCall(call.kernel, call.stage, args, call.op, call.comment, sig.returns_status))
    proj = graph.projection
    int_mode = graph.precision != "float32"
    bits_var = views[proj.outputs[0]].var if proj is not None else None
    # the streaming text entry point runs the projection itself (pnet_text_stream_*), then the
    # calls after it: the text call's parameters and its accumulator buffer
    text_stream = None
    for call in program.calls:
        if call.kernel in TEXT_STREAMS:
            acc = buffer(call.scratch["acc"]).value if "acc" in call.scratch else None
            text_stream = dict(call.params, kernel=call.kernel, acc=acc, **TEXT_STREAMS[call.kernel])
    needs_libm = any(c.kernel in LIBM_KERNELS for c in calls)
    stage = program.stages
    out_var = views[alias[graph.output]].var
    upper = name.upper()
    in_q = graph.tensors[graph.input].quant
    input_ctype = {"uint8": "uint8_t", "int8": "int8_t", "bytes": "uint8_t", "float32": "float"}[
        graph.tensors[graph.input].dtype]
    if graph.float_input and int_mode:
        input_ctype = "int8_t"
    weight_bytes = sum(w.nbytes for w in weights)
    return dict(
        name=name, NAME=upper, version=word(__version__), sha256=graph.info.sha256, source=graph.info.source,
        options=options, precision=graph.precision, projection_mode=graph.projection_mode,
        input_kind=graph.input_kind, input_ctype=input_ctype, score_ctype="int8_t" if int_mode else "float",
        input_size=graph.input_size, num_classes=graph.num_classes, num_bits=graph.num_bits,
        num_words=(graph.num_bits + 31) // 32, num_stages=stage, arena_bytes=plan.arena_bytes,
        alignment=plan.alignment, weight_bytes=weight_bytes, weights=weights, calls=calls, windows=windows,
        views=list(views.values()), text_stream=text_stream, out_var=out_var, bits_var=bits_var, labels=graph.info.labels,
        needs_libm=needs_libm,
        input_scale=in_q.scale if (in_q is not None and graph.float_input) else None,
        input_zero_point=in_q.zero_point if (in_q is not None and graph.float_input) else None,
        output_activation=graph.output_activation,
        **_glue(graph, input_ctype, int_mode),
    )


def _glue(graph: Graph, input_ctype: str, int_mode: bool) -> dict:
    """The header's caller glue: the input encoding of `<name>_quantize` (pnetc.quantization), the
    class names, and the output scale/zero point of `<name>_scores_to_probabilities`."""
    from pnetc.ir.inputs import input_encoding

    encoding = input_encoding(graph)
    glue = None
    if encoding is not None and input_ctype in ("uint8_t", "int8_t"):
        qmin, qmax = encoding.levels
        glue = dict(per_feature=encoding.per_feature, qmin=qmin, qmax=qmax,
                    scale=encoding.scale.astype(np.float32), zero_point=encoding.zero_point.astype(np.int32))
    out_q = graph.tensors[graph.output].quant if int_mode else None
    labels = [c_label(label) for label in graph.info.labels]
    return dict(input_encoding=glue,
                label_pieces=[[b[i:i + LABEL_PIECE] for i in range(0, len(b), LABEL_PIECE)] or [b""] for b in labels],
                output_scale=out_q.scale if out_q is not None else 1.0,
                output_zero_point=out_q.zero_point if out_q is not None else 0)


C_LABEL_MAX = 4095  # bytes: the longest string literal C99 requires compilers to take (-pedantic enforces it)
LABEL_PIECE = 48  # bytes per line of a label: adjacent literals keep the lines short


def c_label(label) -> bytes:
    """A class name's bytes for NAME_labels: its UTF-8, cut to C_LABEL_MAX bytes when longer, never
    inside a UTF-8 sequence (an incomplete one at the cut is dropped)."""
    data = str(label).encode("utf-8", "surrogatepass")
    if len(data) <= C_LABEL_MAX:
        return data
    cut = data[:C_LABEL_MAX]
    for back in range(1, 4):  # the last character starts at most 3 bytes before the end
        byte = cut[-back]
        if byte < 0x80:
            return cut  # ASCII: the cut ends a character
        if byte >= 0xC0:  # the lead byte: its sequence needs 2, 3 or 4 bytes
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return cut if back >= need else cut[:-back]
    return cut
