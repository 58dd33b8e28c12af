"""Human and JSON summaries of a compiled graph (`pnetc inspect`): per-layer parameters and
bytes, and the memory plan."""

from __future__ import annotations

from pnetc.ir.graph import Activation, Conv, Dense, Graph, HashProjection, Pool, TextProjection


def _layer_bytes(graph: Graph, op) -> tuple[int, int, str]:
    """(parameters, bytes in flash, what is stored) of one op in the compiled precision."""
    int_mode = graph.precision != "float32"
    if isinstance(op, HashProjection):
        words = (op.input_size + 31) // 32
        table = 0
        if op.table:
            table = op.num_bits * (words * 4 if op.proj_kind == "binary" else op.nnz * 2)
        return op.input_size, 2 * op.input_size + table, "mean int16" + (" + table" if op.table else "")
    if isinstance(op, TextProjection):
        return 0, 0, "hash only"
    if isinstance(op, Dense):
        params = op.weight.size + op.bias.size
        if not int_mode:
            return params, 4 * params, "float32"
        if op.lowering == "xnor":
            w = op.quant.w_q.size * 4
            what = "1-bit weights"
        else:
            w = op.quant.w_q.size
            what = "int8 weights"
        return params, w + 12 * op.out_features, what + " + int32 bias/mult/shift"
    if isinstance(op, Conv):
        params = op.weight.size + op.bias.size
        if not int_mode:
            return params, 4 * params, "float32"
        return params, op.weight.size + 12 * op.out_shape[0], "int8 weights + int32 bias/mult/shift"
    if isinstance(op, Activation):
        return 0, 256 if (int_mode and op.lut is not None) else 0, "lut" if int_mode and op.lut is not None else ""
    return 0, 0, ""


def describe_op(op) -> str:
    if isinstance(op, HashProjection):
        extra = f", nnz={op.nnz}" if op.proj_kind == "ternary" else ""
        return f"{op.proj_kind} projection N={op.input_size} -> {op.num_bits} bits{extra}, seed={op.seed}" + (
            " (table)" if op.table else " (hash)")
    if isinstance(op, TextProjection):
        hashes = f"{op.hashes} hash" + ("es" if op.hashes != 1 else "")
        kind = f"presence text projection ({hashes})" if op.proj_kind == "presence" else "text projection"
        return f"{kind} -> {op.num_bits} bits, char n<={op.char_max_n}, words={op.words}"
    if isinstance(op, Dense):
        act = " + relu" if op.activation == "relu" else ""
        return f"{op.lowering} {op.in_features} -> {op.out_features}{act}"
    if isinstance(op, Conv):
        act = " + relu" if op.activation == "relu" else ""
        k = "x".join(map(str, op.weight.shape[2:]))
        return f"conv {k} {'x'.join(map(str, op.in_shape))} -> {'x'.join(map(str, op.out_shape))}{act}"
    if isinstance(op, Pool):
        k = "x".join(map(str, op.kernel))
        return f"{op.mode}pool {k} {'x'.join(map(str, op.in_shape))} -> {'x'.join(map(str, op.out_shape))}"
    if isinstance(op, Activation):
        return op.func
    return op.kind


def summary(graph: Graph) -> dict:
    layers = []
    for op in graph.ops:
        params, nbytes, what = _layer_bytes(graph, op)
        layers.append({"name": op.name, "op": op.kind, "detail": describe_op(op), "params": int(params),
                       "bytes": int(nbytes), "stored": what, "output": op.outputs[0],
                       "output_size": graph.tensors[op.outputs[0]].size if op.outputs[0] in graph.tensors else 0})
    plan = graph.plan
    buffers = [{"name": b.name, "bytes": b.nbytes, "offset": b.offset, "steps": [b.first, b.last]}
               for b in plan.buffers.values()] if plan else []
    return {
        "model": graph.info.source, "sha256": graph.info.sha256, "precision": graph.precision,
        "projection": graph.projection_mode, "task": graph.info.task, "input": graph.input_kind,
        "input_size": graph.input_size, "num_bits": graph.num_bits, "num_classes": graph.num_classes,
        "labels": graph.info.labels, "output_activation_removed": graph.output_activation,
        "layers": layers, "weight_bytes_estimate": sum(l["bytes"] for l in layers),
        "arena_bytes": plan.arena_bytes if plan else 0, "buffers": buffers,
    }
