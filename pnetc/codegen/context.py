"""IR after passes -> the plain data the templates render: weights, buffers, steps.

Nothing here writes C syntax except numeric literals (see literals.py); the templates
own every statement. Each step names one kernel call with its arguments as values.
Names from the model (op names in `comment`/`layer`, the source file, labels) stay raw here:
the templates escape them (escape.py), and render.py refuses any they forget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pnetc import __version__, kernels
from pnetc.codegen.escape import word
from pnetc.errors import PnetcError
from pnetc.ir.graph import Activation, Dense, Graph, HashProjection, TextProjection
from pnetc.ir.passes.memory import Scratch, buffer_requests

CTYPES = {np.dtype(np.uint8): "uint8_t", np.dtype(np.int8): "int8_t", np.dtype(np.int16): "int16_t", np.dtype(np.int32): "int32_t",
          np.dtype(np.uint32): "uint32_t", np.dtype(np.uint16): "uint16_t", np.dtype(np.float32): "float"}


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
class Step:
    kind: str  # which kernel sequence the template emits
    stage: int  # PNET_STAGE_MARK index
    args: dict = field(default_factory=dict)


@dataclass
class BufferView:
    var: str
    ctype: str
    offset: int
    nbytes: int
    comment: str


def _weight(weights: list, name: str, values: np.ndarray, comment: str) -> str:
    arr = np.ascontiguousarray(values)
    weights.append(WeightArray(name, CTYPES[arr.dtype], arr, comment))
    return name


def build_context(graph: Graph, *, name: str, options: dict) -> dict:
    plan = graph.plan
    _, alias = buffer_requests(graph)
    int_mode = graph.precision != "float32"
    weights: list[WeightArray] = []
    steps: list[Step] = []
    views: dict[str, BufferView] = {}

    def view(buf, ctype: str, comment: str) -> str:
        if buf not in views:
            b = plan.buffers[buf]
            views[buf] = BufferView(f"buf{len(views)}", ctype, b.offset, b.nbytes, comment)
        return views[buf].var

    proj = graph.projection
    stage = 0
    bits_var = None
    needs_libm = False
    for step, op in enumerate(graph.ops):
        if isinstance(op, HashProjection):
            xc = view(Scratch(step, "x"), "int16_t", "centered input")
            bits_var = view(op.outputs[0], "uint32_t", "projection bits")
            mean = _weight(weights, "mean", op.mean.astype(np.int16), "per-feature integer mean")
            args = dict(n=op.input_size, num_bits=op.num_bits, seed=op.seed, nnz=op.nnz, x=xc, bits=bits_var,
                        mean=mean, signed_input=op.input_dtype == "int8")
            if op.table and op.proj_kind == "binary":
                args["table"] = _weight(weights, "sign_words", kernels.binary_table(op.seed, op.num_bits, op.input_size),
                                        "projection signs [num_bits][words]")
            elif op.table:
                args["table"] = _weight(weights, "entries",
                                        kernels.ternary_table(op.seed, op.num_bits, op.input_size, op.nnz),
                                        "projection nonzeros [num_bits][nnz]")
            kind = f"project_{op.proj_kind}" + ("_table" if op.table else "")
            steps.append(Step(kind, stage, args))
            stage += 1
        elif isinstance(op, TextProjection):
            acc = view(Scratch(step, "acc"), "int32_t", "projection accumulators")
            bits_var = view(op.outputs[0], "uint32_t", "projection bits")
            steps.append(Step("project_text", stage, dict(seed=op.seed, num_bits=op.num_bits, char_max_n=op.char_max_n,
                                                           words=op.words, acc=acc, bits=bits_var)))
            stage += 1
        elif isinstance(op, Dense):
            i = len([s for s in steps if s.kind.startswith(("dense", "bitsum", "xnor"))])
            src = alias.get(op.inputs[0], op.inputs[0])
            x = views[src].var if src in views else "x"
            out = view(op.outputs[0], "int8_t" if int_mode else "float", f"output of {op.name}")
            args = dict(x=x, y=out, n_in=op.in_features, n_out=op.out_features, num_bits=graph.num_bits,
                        relu=op.activation == "relu", layer=op.name)
            if not int_mode:
                if op.lowering in ("bitsum", "xnor"):
                    args["w"] = _weight(weights, f"l{i}_w", np.ascontiguousarray(op.weight.T, np.float32),
                                        f"{op.name}: weights [num_bits][out]")
                    kind = "bitsum_f32"
                else:
                    args["w"] = _weight(weights, f"l{i}_w", op.weight.astype(np.float32), f"{op.name}: weights [out][in]")
                    kind = "dense_f32"
                args["b"] = _weight(weights, f"l{i}_b", op.bias.astype(np.float32), f"{op.name}: bias")
            else:
                q = op.quant
                if op.lowering == "bitsum":
                    args["w"] = _weight(weights, f"l{i}_w", np.ascontiguousarray(q.w_q.T), f"{op.name}: int8 weights [num_bits][out]")
                elif op.lowering == "xnor":
                    args["w"] = _weight(weights, f"l{i}_w", q.w_q.astype(np.uint32), f"{op.name}: sign bits [out][words]")
                elif op.lowering == "dense_s4":  # low-bit hidden layers (ir/passes/lowbit.py)
                    args["w"] = _weight(weights, f"l{i}_w", kernels.pack_s4(q.w_q),
                                        f"{op.name}: int4 weights [out][4 * ceil(in / 8)], two per byte")
                elif op.lowering == "dense_pm1":
                    args["w"] = _weight(weights, f"l{i}_w", kernels.pack_bits((q.w_q > 0).astype(np.uint8)),
                                        f"{op.name}: sign bits [out][words]")
                else:
                    args["w"] = _weight(weights, f"l{i}_w", q.w_q, f"{op.name}: int8 weights [out][in]")
                args["b"] = _weight(weights, f"l{i}_b", q.bias_q.astype(np.int32), f"{op.name}: int32 bias")
                args["mult"] = _weight(weights, f"l{i}_mult", q.mult.astype(np.int32), f"{op.name}: Q31 multipliers")
                args["shift"] = _weight(weights, f"l{i}_shift", q.shift.astype(np.int32), f"{op.name}: shifts")
                args.update(in_offset=q.in_offset, out_offset=q.out_offset, act_min=q.act_min, act_max=q.act_max)
                if op.lowering in ("bitsum", "xnor"):
                    args["acc"] = view(Scratch(step, "acc"), "int32_t", f"accumulators of {op.name}")
                kind = {"bitsum": "bitsum_s8", "xnor": "xnor_s8", "dense": "dense_s8", "dense_s4": "dense_s4",
                        "dense_pm1": "dense_pm1"}[op.lowering]
            if op.lowering in ("bitsum", "xnor"):
                args["x"] = bits_var
            steps.append(Step(kind, stage, args))
            stage += 1
        elif isinstance(op, Activation):
            buf = alias[op.outputs[0]]
            if buf not in views:
                raise PnetcError(f"'{op.name}' ({op.func}) applies to the model input directly; pnetc needs a "
                                 "dense layer first")
            var = views[buf].var
            if int_mode:
                lut = _weight(weights, f"lut{len(weights)}", op.lut.astype(np.int8), f"{op.name}: {op.func} table")
                steps.append(Step("lut_s8", stage - 1, dict(x=var, n=graph.tensors[op.outputs[0]].size, lut=lut)))
            else:
                needs_libm = needs_libm or op.func != "relu"
                steps.append(Step(f"{op.func}_f32", stage - 1, dict(x=var, n=graph.tensors[op.outputs[0]].size)))
    out_var = views[alias[graph.output]].var
    upper = name.upper()
    in_q = graph.tensors[graph.input].quant
    input_ctype = {"uint8": "uint8_t", "int8": "int8_t", "bytes": "uint8_t", "float32": "float"}[
        graph.tensors[graph.input].dtype]
    if proj is None and int_mode:
        input_ctype = "int8_t"
    weight_bytes = sum(w.nbytes for w in weights)
    return dict(
        name=name, NAME=upper, version=word(__version__), sha256=graph.info.sha256, source=graph.info.source,
        options=options, precision=graph.precision, projection_mode=graph.projection_mode,
        input_kind=graph.input_kind, input_ctype=input_ctype, score_ctype="int8_t" if int_mode else "float",
        input_size=graph.input_size, num_classes=graph.num_classes, num_bits=graph.num_bits,
        num_words=(graph.num_bits + 31) // 32, num_stages=stage, arena_bytes=plan.arena_bytes,
        alignment=plan.alignment, weight_bytes=weight_bytes, weights=weights, steps=steps,
        views=list(views.values()), out_var=out_var, bits_var=bits_var, labels=graph.info.labels,
        needs_libm=needs_libm,
        input_scale=in_q.scale if (in_q is not None and proj is None) else None,
        input_zero_point=in_q.zero_point if (in_q is not None and proj is None) else None,
        output_activation=graph.output_activation,
    )
