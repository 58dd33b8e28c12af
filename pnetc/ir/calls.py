"""The lowered program: one list of kernel calls, the only place that picks a kernel per op.

The golden interpreter (interpret.py) runs the list through the numpy twins (kernels.TWINS) and
codegen (codegen/context.py) renders the same list as C; neither decides a kernel again.

A call names its kernel (C `pnet_<kernel>`, numpy `kernels.<kernel>`) and its operands by the
kernel's parameter names (runtime/include/pnet/pnet.h; the twins use the same names):
`inputs` and `output` are tensors or scratch buffers (keys of the memory plan), `consts` the
constant arrays (weights), `params` the scalars both sides take, `sizes` the element counts only
the C takes (numpy reads them from the shapes) and `scratch` the work buffers only the C needs.
Conv and pooling calls pass their geometry as the parameter `win` (a kernels.Window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from pnetc import kernels
from pnetc.errors import PnetcError
from pnetc.ir.graph import Activation, Conv, Dense, Graph, HashProjection, Op, Pool, TextProjection
from pnetc.ir.passes.memory import Scratch


@dataclass
class Const:
    """A constant operand: its values in the kernel's layout, a short role name and what it holds."""

    values: np.ndarray
    role: str  # "w", "b", "mult", "shift", "mean", "lut", ...: the weight table's name in C
    comment: str  # what the array holds, with its layout


@dataclass
class BufferDecl:
    """A buffer the program writes: a tensor or a scratch key, its element type and what it holds."""

    key: object
    dtype: str  # numpy dtype name of one element
    comment: str


@dataclass
class KernelCall:
    kernel: str
    stage: int  # PNET_STAGE_MARK index
    op: str  # the IR op it lowers (comments, errors)
    inputs: dict[str, object]  # parameter -> tensor name or Scratch key read
    output: tuple[str, object]  # (parameter, key) written; in-place kernels name an input parameter
    consts: dict[str, Const] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)  # ints, or a kernels.Window for `win`
    sizes: dict[str, int] = field(default_factory=dict)
    scratch: dict[str, object] = field(default_factory=dict)
    comment: Optional[str] = None  # None: no comment; else "/* <op><comment> */" before the call
    layer: Optional[int] = None  # the weighted layer it belongs to (its weights are named l<layer>_<role>)

    @property
    def in_place(self) -> bool:
        return self.output[0] in self.inputs


@dataclass
class Program:
    calls: list[KernelCall]
    buffers: list[BufferDecl]  # every buffer the calls write, in declaration order
    stages: int  # number of stages (PNET_STAGE_MARK(stages) ends the last)
    precision: str


class _Emitter:
    def __init__(self, graph: Graph, precision: str):
        self.graph = graph
        self.int_mode = precision != "float32"
        self.calls: list[KernelCall] = []
        self.buffers: list[BufferDecl] = []
        self.stage = 0
        self.layers = 0

    def declare(self, key, dtype: str, comment: str) -> None:
        self.buffers.append(BufferDecl(key, dtype, comment))

    def call(self, kernel: str, op: Op, inputs: dict, output: tuple, *, stage: Optional[int] = None,
             **fields) -> None:
        self.calls.append(KernelCall(kernel, self.stage if stage is None else stage, op.name, inputs, output,
                                     **fields))


def lower_calls(graph: Graph, precision: Optional[str] = None) -> Program:
    """The kernel calls that compute `graph` in `precision` (default: the graph's own)."""
    precision = precision or graph.precision
    if precision != "float32" and precision != graph.precision:
        raise PnetcError(f"this graph was quantized for {graph.precision}, not {precision}")
    em = _Emitter(graph, precision)
    for step, op in enumerate(graph.ops):
        lowering = LOWERINGS.get(type(op))
        if lowering is None:
            raise PnetcError(f"no kernel computes {op.kind} ('{op.name}'); run the passes first")
        lowering(em, step, op)
    return Program(em.calls, em.buffers, em.stage, precision)


def _hash_projection(em: _Emitter, step: int, op: HashProjection) -> None:
    xc, bits = Scratch(step, "x"), op.outputs[0]
    n = {"n": op.input_size}
    levels, level_dtype = op.inputs[0], op.input_dtype
    if op.stem_quant is not None:  # a stem's output: int8 already in int8 mode, quantized here in float32
        level_dtype = "int8"
        if not em.int_mode:
            levels = Scratch(step, "q")
            em.declare(levels, "int8", "stem output as int8 levels")
            scale = np.asarray([op.stem_quant.scale], np.float32)
            em.call("quantize_f32", op, {"x": op.inputs[0]}, ("q", levels), sizes=n,
                    consts={"scale": Const(scale, "stem_scale", "int8 scale of the stem output")},
                    params={"zero_point": op.stem_quant.zero_point})
    em.declare(xc, "int16", "centered input")
    em.declare(bits, "uint32", "projection bits")
    em.call(f"center_{'s8' if level_dtype == 'int8' else 'u8'}", op, {"q": levels}, ("x", xc),
            consts={"mean": Const(op.mean.astype(np.int16), "mean", "per-feature integer mean")}, sizes=n)
    params = {"seed": op.seed, "num_bits": op.num_bits}
    if op.proj_kind == "ternary":
        params["nnz"] = op.nnz
    consts, sizes = {}, n
    if op.table and op.proj_kind == "binary":
        del params["seed"]
        consts["sign_words"] = Const(kernels.binary_table(op.seed, op.num_bits, op.input_size), "sign_words",
                                     "projection signs [num_bits][words]")
    elif op.table:
        del params["seed"]
        sizes = {}
        consts["entries"] = Const(kernels.ternary_table(op.seed, op.num_bits, op.input_size, op.nnz), "entries",
                                  "projection nonzeros [num_bits][nnz]")
    kernel = f"project_{op.proj_kind}" + ("_table" if op.table else "")
    em.call(kernel, op, {"x": xc}, ("bits", bits), consts=consts, params=params, sizes=sizes)
    em.stage += 1


def _text_projection(em: _Emitter, step: int, op: TextProjection) -> None:
    bits = op.outputs[0]
    params = dict(seed=op.seed, num_bits=op.num_bits, char_max_n=op.char_max_n, words=op.words)
    if op.proj_kind == "presence":  # no scratch: the bits are the whole state
        em.declare(bits, "uint32", "projection bits")
        em.call("text_presence", op, {"text": op.inputs[0]}, ("bits", bits), params=dict(params, hashes=op.hashes))
    else:
        acc = Scratch(step, "acc")
        em.declare(acc, "int32", "projection accumulators")
        em.declare(bits, "uint32", "projection bits")
        em.call("text_project", op, {"text": op.inputs[0]}, ("bits", bits), scratch={"acc": acc}, params=params)
    em.stage += 1


def _dense(em: _Emitter, step: int, op: Dense) -> None:
    x, y, name = op.inputs[0], op.outputs[0], op.name
    layer = em.layers
    em.layers += 1
    over_bits = op.lowering in ("bitsum", "xnor")
    nbits = em.graph.num_bits
    if not em.int_mode:
        em.declare(y, "float32", f"output of {name}")
        if over_bits:
            w = Const(np.ascontiguousarray(op.weight.T, np.float32), "w", f"{name}: weights [num_bits][out]")
        else:
            w = Const(op.weight.astype(np.float32), "w", f"{name}: weights [out][in]")
        consts = {"w": w, "bias": Const(op.bias.astype(np.float32), "b", f"{name}: bias")}
        if over_bits:
            em.call("bitsum_f32", op, {"bits": x}, ("y", y), consts=consts, params={"num_bits": nbits},
                    sizes={"out": op.out_features}, comment=": column sums of the set bits (no multiplies)",
                    layer=layer)
        else:
            em.call("dense_f32", op, {"x": x}, ("y", y), consts=consts,
                    sizes={"in": op.in_features, "out": op.out_features}, comment="", layer=layer)
        _float_end(em, op, layer)
        return
    q, bias, requant, out_params = _int8_layer(em, op)
    if over_bits:
        acc = Scratch(step, "acc")
        em.declare(acc, "int32", f"accumulators of {name}")
        if op.lowering == "bitsum":
            kernel, weights = "bitsum_s32", {"w": Const(np.ascontiguousarray(q.w_q.T), "w",
                                                        f"{name}: int8 weights [num_bits][out]")}
            note = ": column sums of the set bits (no multiplies), then requantize"
        else:
            kernel, weights = "xnor_popcount", {"wbits": Const(q.w_q.astype(np.uint32), "w",
                                                               f"{name}: sign bits [out][words]")}
            note = ": +-1 weights, XNOR + popcount, then requantize (per-channel scale)"
        em.call(kernel, op, {"bits": x}, ("acc", acc), consts={**weights, "bias": bias},
                params={"num_bits": nbits}, sizes={"out": op.out_features}, comment=note, layer=layer)
        em.call("requantize_s8", op, {"acc": acc}, ("y", y), consts=requant, params=out_params,
                sizes={"n": op.out_features}, layer=layer)
    else:
        kernel, weights, note = _int8_weights(op)
        em.call(kernel, op, {"x": x}, ("y", y), consts={**weights, "bias": bias, **requant},
                params={"in_offset": q.in_offset, **out_params},
                sizes={"in": op.in_features, "out": op.out_features}, comment=note, layer=layer)
    em.stage += 1


def _int8_weights(op: Dense) -> tuple[str, dict, str]:
    """The kernel of a dense layer over int8 inputs and its weights in that kernel's layout: int8
    (dense_s8), or the low-bit hidden layers (ir/passes/lowbit.py), whose w_q holds grid integers."""
    q, name = op.quant, op.name
    if op.lowering == "dense_s4":
        return "dense_s4", {"w": Const(kernels.pack_s4(q.w_q), "w", f"{name}: int4 weights [out][4 * ceil(in / 8)], "
                                                                    "two per byte")}, ": int4 weights, two per byte"
    if op.lowering == "dense_pm1":
        signs = kernels.pack_bits((q.w_q > 0).astype(np.uint8))
        return "dense_pm1", {"wbits": Const(signs, "w", f"{name}: sign bits [out][words]")}, \
            ": +-1 weights, inputs added or subtracted"
    return "dense_s8", {"w": Const(q.w_q, "w", f"{name}: int8 weights [out][in]")}, ""


def _float_end(em: _Emitter, op: Dense | Conv, layer: int) -> None:
    """A float layer's fused ReLU (in place), then the next stage."""
    y = op.outputs[0]
    if op.activation == "relu":
        em.call("relu_f32", op, {"x": y}, ("x", y), sizes={"n": em.graph.tensors[y].size}, layer=layer)
    em.stage += 1


def _int8_layer(em: _Emitter, op: Dense | Conv) -> tuple:
    """An int8 layer's output buffer, and its quantisation as operands: (quant, bias, mult/shift, out params)."""
    q, name = op.quant, op.name
    if q is None:
        raise PnetcError(f"layer '{name}' is not quantized; compile with --precision int8")
    em.declare(op.outputs[0], "int8", f"output of {name}")
    requant = {"mult": Const(q.mult.astype(np.int32), "mult", f"{name}: Q31 multipliers"),
               "shift": Const(q.shift.astype(np.int32), "shift", f"{name}: shifts")}
    out_params = dict(out_offset=q.out_offset, act_min=q.act_min, act_max=q.act_max)
    return q, Const(q.bias_q.astype(np.int32), "b", f"{name}: int32 bias"), requant, out_params


def _activation(em: _Emitter, step: int, op: Activation) -> None:
    x, y = op.inputs[0], op.outputs[0]
    if x == em.graph.input:
        raise PnetcError(f"'{op.name}' ({op.func}) applies to the model input directly; pnetc needs a "
                         "dense layer first")
    if op.func == "log_softmax":
        raise PnetcError(f"'{op.name}' (LogSoftmax) is only supported as the last node of the model")
    n = {"n": em.graph.tensors[y].size}
    if em.int_mode:
        em.call("lut_s8", op, {"x": x}, ("x", y), stage=em.stage - 1, sizes=n,
                consts={"lut": Const(op.lut.astype(np.int8), "lut", f"{op.name}: {op.func} table")})
    else:
        em.call(f"{op.func}_f32", op, {"x": x}, ("x", y), stage=em.stage - 1, sizes=n)


def _conv(em: _Emitter, step: int, op: Conv) -> None:
    x, y, name = op.inputs[0], op.outputs[0], op.name
    layer = em.layers
    em.layers += 1
    sizes = {"in_c": op.in_shape[0], "out_c": op.out_shape[0]}
    geometry = "[out_c][in_c][k_h][k_w]"
    if not em.int_mode:
        em.declare(y, "float32", f"output of {name}")
        consts = {"w": Const(op.weight.astype(np.float32), "w", f"{name}: weights {geometry}"),
                  "bias": Const(op.bias.astype(np.float32), "b", f"{name}: bias")}
        em.call("conv2d_f32", op, {"x": x}, ("y", y), consts=consts, params={"win": op.window}, sizes=sizes,
                comment="", layer=layer)
        _float_end(em, op, layer)
        return
    q, bias, requant, out_params = _int8_layer(em, op)
    em.call("conv2d_s8", op, {"x": x}, ("y", y),
            consts={"w": Const(q.w_q, "w", f"{name}: int8 weights {geometry}"), "bias": bias, **requant},
            sizes=sizes, params=dict(win=op.window, in_offset=q.in_offset, **out_params), comment="", layer=layer)
    em.stage += 1


def _pool(em: _Emitter, step: int, op: Pool) -> None:
    x, y = op.inputs[0], op.outputs[0]
    suffix = "s8" if em.int_mode else "f32"
    em.declare(y, "int8" if em.int_mode else "float32", f"output of {op.name}")
    params: dict = {"win": op.window}
    if op.mode == "avg":
        params["count_include_pad"] = int(op.count_include_pad)
    if em.int_mode:
        params.update(act_min=-128, act_max=127)
    em.call(f"{op.mode}pool_{suffix}", op, {"x": x}, ("y", y), params=params, sizes={"channels": op.in_shape[0]},
            comment="")
    em.stage += 1


LOWERINGS = {HashProjection: _hash_projection, TextProjection: _text_projection, Dense: _dense, Conv: _conv,
             Pool: _pool, Activation: _activation}
