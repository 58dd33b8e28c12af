"""ONNX -> IR: read the file, order the nodes, fold constants, convert each node; every problem
becomes a one-line PnetcError.

Accepts pnetc exports (ai.pnetc HashProjection / TextProjection, then standard ops) and plain float
networks from other tools (e.g. torch.onnx.export of an MLP), opsets 13-21. One module per job:
reader.py (file, checks, metadata), order.py (topological order), fold.py (constant folding),
ops.py (one function per op), context.py (the state they share); this module drives them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from pnetc.errors import PnetcError
from pnetc.quantization import encoding_from_input_spec
from pnetc.frontend.context import Ctx, node_name
from pnetc.frontend.fold import fold_constant
from pnetc.frontend.ops import HANDLERS, SUPPORTED_OPS
from pnetc.frontend.order import topological_order
from pnetc.frontend.reader import load_onnx, read_metadata, read_opsets, read_proto  # noqa: F401  (load_onnx re-exported)
from pnetc.ir.graph import Graph, HashProjection, ModelInfo, Tensor, TextProjection
from pnetc.ir.limits import MAX_INPUT_SIZE, MAX_NODES, check_limit


# ---------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------


def load_model(path: str | Path, output: str | None = None) -> Graph:
    """Read an ONNX file and return its IR graph (before passes). output: which graph output is
    the class scores when there are several (default: the one float tensor, see frontend.outputs)."""
    path = Path(path)
    try:
        model, digest = read_proto(path, output)
        info = ModelInfo(sha256=digest, source=path.name)
        read_opsets(model, info, str(path))
        read_metadata(model, info, str(path))
        return _convert(model, info, str(path))
    except PnetcError as exc:  # names from the file may hold control characters: keep the error one line
        msg = str(exc)
        if str(path) not in msg:
            msg = f"{path}: {msg}"
        if msg.isprintable() and msg is str(exc):
            raise
        raise PnetcError("".join(c if c.isprintable() else repr(c)[1:-1] for c in msg)) from None


def _initializers(model, path: str) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    out = {}
    for init in model.graph.initializer:
        try:
            arr = numpy_helper.to_array(init)
        except Exception as exc:
            raise PnetcError(f"{path}: initializer '{init.name}' cannot be read ({exc})") from None
        if arr.dtype.kind not in "biuf":
            raise PnetcError(f"{path}: initializer '{init.name}' holds {arr.dtype} values; pnetc reads numeric tensors only")
        _check_finite(arr, f"{path}: initializer '{init.name}'")
        out[init.name] = arr
    return out


def _check_finite(arr: np.ndarray, what: str) -> None:
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise PnetcError(f"{what} contains NaN or infinite values")


def _convert(model, info: ModelInfo, path: str) -> Graph:
    check_limit(f"{path}: ", "nodes", len(model.graph.node), MAX_NODES, 1)
    with np.errstate(all="ignore"):  # every folded or derived value is checked explicitly
        return _convert_graph(model, info, path)


# Ops that decide what kind of network a model is: named first when a model uses several unsupported ops.
DEFINING_OPS = ("LSTM", "GRU", "RNN", "ConvTranspose", "Attention", "MultiHeadAttention", "Einsum", "Loop", "Scan", "If")


def _op_key(node) -> str:
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}"


def _check_ops_supported(model, path: str) -> None:
    """Refuse a model with unsupported ops before anything else, naming the op that matters most
    (an LSTM trainer has two inputs too, but its LSTM is the reason it cannot compile)."""
    unsupported = [n for n in model.graph.node if _op_key(n) not in HANDLERS]
    if not unsupported:
        return
    unsupported.sort(key=lambda n: DEFINING_OPS.index(n.op_type) if n.op_type in DEFINING_OPS else len(DEFINING_OPS))
    first = unsupported[0]
    others = sorted({_op_key(n) for n in unsupported} - {_op_key(first)})
    raise PnetcError(
        f"{path}: node '{node_name(first)}' has op type '{_op_key(first)}', which pnetc does not support"
        + (f" (nor {', '.join(others)})" if others else "") + f"; supported: {', '.join(SUPPORTED_OPS)}"
    )


def _convert_graph(model, info: ModelInfo, path: str) -> Graph:
    _check_ops_supported(model, path)
    ctx = Ctx(path)
    ctx.consts = _initializers(model, path)
    graph_inputs = [i for i in model.graph.input if i.name not in ctx.consts]
    if len(graph_inputs) != 1:
        raise PnetcError(f"{path}: the model must have exactly one non-constant input, found {len(graph_inputs)}")
    if len(model.graph.output) != 1:
        raise PnetcError(f"{path}: the model must have exactly one output, found {len(model.graph.output)}")
    inp = graph_inputs[0]
    in_tensor = _input_tensor(inp, path)
    ctx.sizes[inp.name] = in_tensor.size
    ctx.dtypes[inp.name] = in_tensor.dtype
    ctx.ranks[inp.name] = len(inp.type.tensor_type.shape.dim)
    if in_tensor.dtype != "bytes":
        dims = inp.type.tensor_type.shape.dim
        ctx.shapes[inp.name] = tuple(d.dim_value for d in dims[1:])
        ctx.batch_one = bool(dims) and dims[0].HasField("dim_value") and dims[0].dim_value == 1

    for node in topological_order(list(model.graph.node), set(ctx.consts) | {inp.name}, path):
        _convert_node(node, ctx)

    out_name = model.graph.output[0].name
    if out_name in ctx.consts or out_name not in ctx.sizes:
        raise PnetcError(f"{path}: the graph output '{out_name}' does not depend on the input")
    tensors = {inp.name: in_tensor}
    for name, size in ctx.sizes.items():
        if name != inp.name:
            tensors[name] = Tensor(name, size, ctx.dtypes.get(name, "float32"))
    info.pnetc_format = any(isinstance(op, (HashProjection, TextProjection)) for op in ctx.ops)
    if not info.pnetc_format:
        info.task = "features"
    graph = Graph(input=inp.name, output=out_name, tensors=tensors, ops=ctx.ops, info=info)
    spec = info.input_spec
    if info.pnetc_format and spec:
        want = "bytes" if in_tensor.dtype == "bytes" else in_tensor.dtype
        if spec.get("dtype", want) != want or ("size" in spec and want != "bytes" and spec["size"] != in_tensor.size):
            raise PnetcError(
                f"{path}: metadata pnetc.input ({spec.get('dtype')}, size {spec.get('size')}) disagrees with the "
                f"graph input '{inp.name}' ({want}, size {in_tensor.size})"
            )
        encoding_from_input_spec({"size": in_tensor.size, **spec}, want, path)  # a bad encoding fails here
    if not info.labels:
        info.labels = [str(i) for i in range(graph.num_classes)]
    elif len(info.labels) != graph.num_classes:
        raise PnetcError(
            f"{path}: metadata lists {len(info.labels)} labels but the output has {graph.num_classes} classes"
        )
    return graph


def _input_tensor(inp, path: str) -> Tensor:
    tt = inp.type.tensor_type
    elem = tt.elem_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
    names = {1: "float32", 2: "uint8", 3: "int8", 8: "bytes"}
    if elem not in names:
        raise PnetcError(
            f"{path}: input '{inp.name}' has element type {elem}; pnetc takes float32, uint8, int8 or string inputs"
        )
    dtype = names[elem]
    if dtype == "bytes":
        return Tensor(inp.name, 0, "bytes")
    if len(dims) < 2 or any(d is None or d <= 0 for d in dims[1:]):
        raise PnetcError(
            f"{path}: input '{inp.name}' must have shape [batch, features...] with fixed feature sizes, got {dims}"
        )
    size = math.prod(dims[1:])
    check_limit(f"{path}: input '{inp.name}': ", "features", size, MAX_INPUT_SIZE, 1)
    return Tensor(inp.name, size, dtype)


# ---------------------------------------------------------------------------
# One function per op
# ---------------------------------------------------------------------------


def _convert_node(node, ctx: Ctx) -> None:
    key = _op_key(node)
    handler = HANDLERS.get(key)
    if handler is None:
        raise PnetcError(
            f"{ctx.path}: node '{node_name(node)}' has op type '{key}', which pnetc does not support; "
            f"supported: {', '.join(SUPPORTED_OPS)}"
        )
    inputs = [i for i in node.input if i]
    if node.op_type == "Constant" or (inputs and all(i in ctx.consts for i in inputs)):
        fold_constant(node, ctx)
        return
    try:
        handler(node, ctx)
    except (TypeError, ValueError, OverflowError) as exc:  # attributes or constants of the wrong type or shape
        raise ctx.fail(node, f"unexpected attribute or input types ({exc})") from None
    except IndexError:  # fewer inputs than the op takes
        raise ctx.fail(node, f"has {len(node.input)} inputs, fewer than the op takes") from None


