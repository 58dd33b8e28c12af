"""ONNX -> IR. One function per op type; every problem becomes a one-line PnetcError.

Accepts pnetc exports (ai.pnetc HashProjection / TextProjection, then standard ops) and
plain float networks from other tools (e.g. torch.onnx.export of an MLP), opsets 13-21.
Nodes whose inputs are all constants are evaluated here (constant folding), so
exporter artefacts such as Identity-on-initializer disappear before the passes run.
"""

from __future__ import annotations

import hashlib
import json
import math
import stat
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np

from pnetc.errors import PnetcError
from pnetc.frontend.external_data import inline_external_data
from pnetc.ir.graph import (
    Activation,
    Affine,
    Dense,
    Graph,
    HashProjection,
    Identity,
    ModelInfo,
    Tensor,
    TextProjection,
)
from pnetc.ir.limits import (
    MAX_BITS,
    MAX_CHAR_N,
    MAX_DENSE_WEIGHTS,
    MAX_FOLD_ELEMENTS,
    MAX_INPUT_SIZE,
    MAX_LAYER_WIDTH,
    MAX_NODES,
    MAX_PROJECTION_WORK,
    MAX_SEED,
    MAX_TENSOR_DATA_BYTES,
    check_limit,
)

OPSET_MIN, OPSET_MAX = 13, 21
PNETC_DOMAIN = "ai.pnetc"
STANDARD_OPS = (
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Flatten",
    "Reshape", "Identity", "Cast", "Constant", "Dropout", "BatchNormalization",
)
SUPPORTED_OPS = STANDARD_OPS + ("ai.pnetc::HashProjection", "ai.pnetc::TextProjection")
FLOAT_TYPES = {1}  # onnx.TensorProto.FLOAT


class _Ctx:
    """Conversion state: constants, per-sample sizes and ranks of activations, emitted ops."""

    def __init__(self, model_path: str):
        self.path = model_path
        self.consts: dict[str, np.ndarray] = {}
        self.sizes: dict[str, int] = {}
        self.ranks: dict[str, int] = {}
        self.dtypes: dict[str, str] = {}
        self.ops: list = []
        self.dense_weights = 0  # weights of the dense layers so far (MAX_DENSE_WEIGHTS)

    def fail(self, node, message: str) -> PnetcError:
        return PnetcError(f"{self.path}: node '{_node_name(node)}' ({node.op_type}): {message}")

    def limit(self, node, what: str, value: int, limit: int, low: int = 0) -> None:
        check_limit(f"{self.path}: node '{_node_name(node)}' ({node.op_type}): ", what, value, limit, low)

    def finite(self, node, arrays: dict[str, np.ndarray], why: str) -> None:
        """Folded or derived values must be finite float32 (they become C literals)."""
        for what, arr in arrays.items():
            bad = ~np.isfinite(np.asarray(arr, np.float64)) | (np.abs(np.asarray(arr, np.float64)) > F32_MAX)
            if np.any(bad):
                value = np.asarray(arr, np.float64).reshape(-1)[np.argmax(bad.reshape(-1))]
                raise self.fail(node, f"{what} is {value:g} {why}; it must be a finite float32")

    def activation(self, node, name: str) -> str:
        if name in self.consts:
            raise self.fail(node, f"input '{name}' is a constant where pnetc expects an activation")
        if name not in self.sizes:
            raise self.fail(node, f"input '{name}' is not produced by any earlier node")
        return name

    def const(self, node, name: str) -> np.ndarray:
        if name not in self.consts:
            raise self.fail(node, f"input '{name}' must be a constant (initializer or Constant node)")
        return self.consts[name]

    def emit(self, op, out: str, size: int, rank: int = 2, dtype: str = "float32") -> None:
        self.ops.append(op)
        self.sizes[out] = int(size)
        self.ranks[out] = rank
        self.dtypes[out] = dtype


def _node_name(node) -> str:
    return node.name or (node.output[0] if node.output else "?")


def _attrs(node) -> dict:
    from onnx import helper

    out = {}
    for a in node.attribute:
        try:
            v = helper.get_attribute_value(a)
        except Exception:  # an attribute type onnx does not know (damaged file)
            v = None
        if v is None:
            raise PnetcError(f"node '{_node_name(node)}' ({node.op_type}): attribute '{a.name}' has no value "
                             "of a known type; is the file damaged?")
        if a.name in out:  # which one counts would be up to each reader (C, reference, onnxruntime)
            raise PnetcError(f"node '{_node_name(node)}' ({node.op_type}): attribute {a.name!r} is given twice")
        out[a.name] = v.decode(errors="replace") if isinstance(v, bytes) else v
    return out


# ---------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------


def load_model(path: str | Path) -> Graph:
    """Read an ONNX file and return its IR graph (before passes)."""
    path = Path(path)
    try:
        model, digest = _read_proto(path)
        info = ModelInfo(sha256=digest, source=path.name)
        _read_opsets(model, info, str(path))
        _read_metadata(model, info, str(path))
        return _convert(model, info, str(path))
    except PnetcError as exc:  # names from the file may hold control characters: keep the error one line
        msg = str(exc)
        if str(path) not in msg:
            msg = f"{path}: {msg}"
        if msg.isprintable() and msg is str(exc):
            raise
        raise PnetcError("".join(c if c.isprintable() else repr(c)[1:-1] for c in msg)) from None


def load_onnx(path: str | Path):
    """The ModelProto of an ONNX file with its external data checked and inlined (see
    pnetc.frontend.external_data): what onnxruntime may be given instead of the path."""
    return _read_proto(Path(path))[0]


def _read_proto(path: Path):
    """(ModelProto, sha256) of a model file. The digest covers the file and, in order, the
    external data it references, so it identifies the weights as well."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise PnetcError(f"model file {path} does not exist") from None
    except OSError as exc:
        raise PnetcError(f"cannot read {path}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise PnetcError(f"{path} is a directory; pass the .onnx file")
    if not stat.S_ISREG(mode):  # a FIFO would block, /dev/zero never ends
        raise PnetcError(f"{path} is not a regular file")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_TENSOR_DATA_BYTES + 1)
    except OSError as exc:
        raise PnetcError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_TENSOR_DATA_BYTES:
        raise PnetcError(f"{path} is larger than {MAX_TENSOR_DATA_BYTES} bytes, the limit for a model file")
    import onnx

    try:
        model = onnx.load_from_string(data)
    except Exception as exc:  # protobuf raises DecodeError and friends
        raise PnetcError(f"{path} is not a valid ONNX file ({type(exc).__name__}); is it truncated?") from None
    if not model.graph.node:
        raise PnetcError(f"{path} is not an ONNX model with a graph (no nodes found)")
    _check_strings(model, str(path))
    digest = hashlib.sha256(data)
    for chunk in inline_external_data(model, path, len(data)):
        digest.update(chunk)
    return model, digest.hexdigest()


def _check_strings(msg, path: str) -> None:
    """protobuf hands out a string field that is not valid UTF-8 (a damaged file) as bytes; stop here
    with one message instead of a TypeError wherever a name or key is used."""
    for fd, value in msg.ListFields():
        repeated = fd.is_repeated if hasattr(fd, "is_repeated") else fd.label == fd.LABEL_REPEATED
        items = value if repeated else [value]
        if fd.type == fd.TYPE_MESSAGE:
            for item in items:
                _check_strings(item, path)
        elif fd.type == fd.TYPE_STRING and any(not isinstance(v, str) for v in items):
            raise PnetcError(f"{path}: a {fd.name} field is not valid UTF-8; is the file damaged?")


def _read_opsets(model, info: ModelInfo, path: str) -> None:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            info.opset = int(imp.version)
        elif imp.domain == PNETC_DOMAIN and imp.version != 1:
            raise PnetcError(f"{path}: ai.pnetc opset version {imp.version} is not supported (only 1)")
    if not OPSET_MIN <= info.opset <= OPSET_MAX:
        raise PnetcError(
            f"{path}: ONNX opset {info.opset} is not supported; pnetc reads opsets {OPSET_MIN}-{OPSET_MAX} "
            "(re-export with opset_version=17)"
        )


def _read_metadata(model, info: ModelInfo, path: str) -> None:
    meta = {}
    for prop in model.metadata_props:
        if prop.key.startswith("pnetc."):
            try:
                meta[prop.key] = json.loads(prop.value)
            except ValueError:  # JSONDecodeError, or UnicodeDecodeError for bytes that are not UTF-8
                raise PnetcError(f"{path}: metadata {prop.key} is not valid JSON") from None
            except RecursionError:  # "[[[[..." nested deeper than the parser's stack
                raise PnetcError(f"{path}: metadata {prop.key} is nested too deeply") from None
    if "pnetc.format" in meta and meta["pnetc.format"] != 1:
        raise PnetcError(f"{path}: pnetc format {meta['pnetc.format']} is not supported (only 1)")
    info.task = str(meta.get("pnetc.task", "features"))
    labels = meta.get("pnetc.labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in labels):
        raise PnetcError(f"{path}: metadata pnetc.labels must be a list of class names")
    info.labels = [str(x) for x in labels]
    twice = sorted(x for x, n in Counter(info.labels).items() if n > 1)
    if twice:  # data labels map to classes by name, and per-class results are keyed by it
        raise PnetcError(f"{path}: metadata pnetc.labels names a class more than once: "
                         f"{', '.join(repr(x) for x in twice[:5])}; class names must be unique")
    for key, attr in (("pnetc.input", "input_spec"), ("pnetc.calibration", "calibration"),
                      ("pnetc.projection", "projection"), ("pnetc.training", "training")):
        value = meta.get(key, {})
        if not isinstance(value, dict):
            raise PnetcError(f"{path}: metadata {key} must be a JSON object")
        setattr(info, attr, value)
    for name, rng in info.calibration.items():
        if not (isinstance(rng, dict) and _finite(rng.get("min")) and _finite(rng.get("max"))):
            raise PnetcError(f"{path}: calibration entry for '{name}' needs finite 'min' and 'max'")


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


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


def _topological(nodes, known: set[str], path: str) -> list:
    """Order nodes so each runs after its producers; reject cycles and dangling inputs."""
    produced = {}
    for node in nodes:
        for out in node.output:
            if out:
                if out in produced or out in known:
                    raise PnetcError(f"{path}: tensor '{out}' is produced twice (node '{_node_name(node)}')")
                produced[out] = node
    for node in nodes:
        for inp in node.input:
            if inp and inp not in produced and inp not in known:
                raise PnetcError(
                    f"{path}: node '{_node_name(node)}' ({node.op_type}) reads '{inp}', which no node "
                    "produces and no initializer holds (missing initializer?)"
                )
    order, done, state = [], set(known), {}
    for start in nodes:
        stack = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            key = id(node)
            if state.get(key) == 2:
                continue
            if expanded:
                state[key] = 2
                order.append(node)
                done.update(o for o in node.output if o)
                continue
            if state.get(key) == 1:
                raise PnetcError(f"{path}: the graph has a cycle through node '{_node_name(node)}'")
            state[key] = 1
            stack.append((node, True))
            for inp in node.input:
                if inp and inp not in done:
                    dep = produced[inp]
                    if state.get(id(dep)) == 1:
                        raise PnetcError(f"{path}: the graph has a cycle through node '{_node_name(dep)}'")
                    if state.get(id(dep)) != 2:
                        stack.append((dep, False))
    return order


def _convert(model, info: ModelInfo, path: str) -> Graph:
    check_limit(f"{path}: ", "nodes", len(model.graph.node), MAX_NODES, 1)
    with np.errstate(all="ignore"):  # every folded or derived value is checked explicitly
        return _convert_graph(model, info, path)


def _convert_graph(model, info: ModelInfo, path: str) -> Graph:
    ctx = _Ctx(path)
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

    for node in _topological(list(model.graph.node), set(ctx.consts) | {inp.name}, path):
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


def _convert_node(node, ctx: _Ctx) -> None:
    key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}"
    handler = _HANDLERS.get(key)
    if handler is None:
        raise PnetcError(
            f"{ctx.path}: node '{_node_name(node)}' has op type '{key}', which pnetc does not support; "
            f"supported: {', '.join(SUPPORTED_OPS)}"
        )
    inputs = [i for i in node.input if i]
    if node.op_type == "Constant" or (inputs and all(i in ctx.consts for i in inputs)):
        _fold_constant(node, ctx)
        return
    try:
        handler(node, ctx)
    except (TypeError, ValueError) as exc:  # attributes or constants of the wrong type or shape
        raise ctx.fail(node, f"unexpected attribute or input types ({exc})") from None


F32_MAX = float(np.finfo(np.float32).max)


def _folded_size(op: str, a: dict, x: list) -> int:
    """Elements a folded Add/Sub/Mul/Div/MatMul/Gemm produces, computed before numpy allocates them."""
    s0, s1 = x[0].shape, x[1].shape
    if op == "Gemm":
        return int(s0[-1] if a.get("transA", 0) else s0[0]) * int(s1[0] if a.get("transB", 0) else s1[-1])
    if op == "MatMul":
        batch = np.broadcast_shapes(s0[:-2], s1[:-2])
        return math.prod(batch) * (s0[-2] if len(s0) > 1 else 1) * (s1[-1] if len(s1) > 1 else 1)
    return math.prod(np.broadcast_shapes(s0, s1))


def _fold_constant(node, ctx: _Ctx) -> None:
    """Evaluate a node whose inputs are all constants (constant folding)."""
    a = _attrs(node)
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


def _check_cast(node, ctx: _Ctx, x: np.ndarray, target: np.dtype) -> None:
    """A folded Cast to an integer type must not wrap or truncate out of range (numpy would)."""
    if target.kind not in "iu" or x.size == 0:
        return
    info = np.iinfo(target)
    lo, hi = (float(x.min()), float(x.max())) if x.dtype.kind == "f" else (int(x.min()), int(x.max()))
    if not (info.min <= lo and hi <= info.max):  # NaN compares false: refused as well
        raise ctx.fail(node, f"Cast to {target} of values in [{lo:g}, {hi:g}] overflows {target} "
                             f"[{info.min}, {info.max}]")


def _check_integer_fold(node, ctx: _Ctx, op: str, x: list, dtype: np.dtype) -> None:
    """Integer Add/Sub/Mul/MatMul wraps silently in numpy: redo it in float64 and compare ranges.
    (Gemm multiplies by the float alpha, so it never folds to integers.)"""
    a, b = x[0].astype(np.float64), x[1].astype(np.float64)
    ref = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "MatMul": np.matmul}[op](a, b)
    info = np.iinfo(dtype)
    if ref.size and (ref.min() < info.min or ref.max() > info.max):
        raise ctx.fail(node, f"folding its integer constants overflows {dtype} (values up to {np.abs(ref).max():g})")


def _hash_projection(node, ctx: _Ctx) -> None:
    a = _attrs(node)
    if len(node.input) != 2:
        raise ctx.fail(node, "expects inputs (x, mean)")
    x = ctx.activation(node, node.input[0])
    if ctx.dtypes.get(x) not in ("uint8", "int8"):
        raise ctx.fail(node, f"input '{x}' must be uint8 or int8, got {ctx.dtypes.get(x)}")
    mean = ctx.const(node, node.input[1])
    n = ctx.sizes[x]
    if mean.shape != (n,):
        raise ctx.fail(node, f"mean must have shape [{n}], got {list(mean.shape)}")
    if not np.issubdtype(mean.dtype, np.integer) or mean.min() < -32768 or mean.max() > 32767:
        raise ctx.fail(node, "mean must be int16")
    lo, hi = (0, 255) if ctx.dtypes[x] == "uint8" else (-128, 127)
    if mean.min() < lo or mean.max() > hi:  # keeps |x - mean| <= 255 and the C accumulators in int32
        raise ctx.fail(node, f"mean values must lie in the {ctx.dtypes[x]} input range [{lo}, {hi}] (the training "
                             f"mean of the quantized inputs), got [{int(mean.min())}, {int(mean.max())}]")
    kind = a.get("kind", "binary")
    if kind not in ("binary", "ternary"):
        raise ctx.fail(node, f"kind must be 'binary' or 'ternary', got {kind!r}")
    num_bits, seed, table_count, table_bits = _projection_attrs(node, ctx, a)
    ctx.limit(node, "N", n, MAX_INPUT_SIZE, 1)
    nnz = 0  # a binary projection has no nnz; whatever the attribute says never reaches the C
    if kind == "ternary":
        nnz = int(a.get("nnz", 0))
        ctx.limit(node, "nnz", nnz, n, 1)  # at most one nonzero per input (density <= 1)
        ctx.limit(node, "num_bits*nnz", num_bits * nnz, MAX_PROJECTION_WORK, 1)
    else:
        ctx.limit(node, "num_bits*N", num_bits * n, MAX_PROJECTION_WORK, 1)
    op = HashProjection(
        _node_name(node), [x], [node.output[0]], seed=seed, num_bits=num_bits, proj_kind=kind, nnz=nnz,
        input_size=n, input_dtype=ctx.dtypes[x], mean=mean.astype(np.int16), T=table_count, d=table_bits,
    )
    ctx.emit(op, node.output[0], num_bits, dtype="bits")


def _text_projection(node, ctx: _Ctx) -> None:
    a = _attrs(node)
    x = ctx.activation(node, node.input[0])
    if ctx.dtypes.get(x) != "bytes":
        raise ctx.fail(node, f"input '{x}' must be a string tensor")
    num_bits, seed, table_count, table_bits = _projection_attrs(node, ctx, a)
    char_max_n = int(a.get("char_max_n", 3))
    words = int(a.get("words", 1))
    ctx.limit(node, "char_max_n", char_max_n, MAX_CHAR_N)
    ctx.limit(node, "words", words, 1)
    op = TextProjection(
        _node_name(node), [x], [node.output[0]], seed=seed, num_bits=num_bits, char_max_n=char_max_n,
        words=words, T=table_count, d=table_bits,
    )
    ctx.emit(op, node.output[0], num_bits, dtype="bits")


def _projection_attrs(node, ctx: _Ctx, a: dict) -> tuple[int, int, int, int]:
    """num_bits, seed, T, d of a projection, each checked against its limit."""
    values = {key: int(a.get(key, 0)) for key in ("num_bits", "seed", "T", "d")}
    ctx.limit(node, "num_bits", values["num_bits"], MAX_BITS, 1)
    ctx.limit(node, "seed", values["seed"], MAX_SEED)
    ctx.limit(node, "T", values["T"], MAX_BITS)
    ctx.limit(node, "d", values["d"], MAX_BITS)
    return values["num_bits"], values["seed"], values["T"], values["d"]


def _dense_input(node, ctx: _Ctx) -> str:
    x = ctx.activation(node, node.input[0])
    if ctx.dtypes.get(x) not in ("float32", "bits"):
        raise ctx.fail(node, f"input '{x}' must be float32 (got {ctx.dtypes.get(x)}); add a Cast")
    return x


def _gemm(node, ctx: _Ctx) -> None:
    a = _attrs(node)
    x = _dense_input(node, ctx)
    if a.get("transA", 0):
        raise ctx.fail(node, "transA=1 is not supported")
    b = ctx.const(node, node.input[1]).astype(np.float32)
    if b.ndim != 2:
        raise ctx.fail(node, f"B must be a 2-D matrix, got shape {list(b.shape)}")
    w = (b if a.get("transB", 0) else b.T) * np.float32(a.get("alpha", 1.0))
    out = w.shape[0]
    bias = np.zeros(out, np.float32)
    if len(node.input) > 2 and node.input[2]:
        c = ctx.const(node, node.input[2]).astype(np.float32) * np.float32(a.get("beta", 1.0))
        try:
            bias = np.broadcast_to(c.reshape(-1) if c.size in (1, out) else c, (out,)).astype(np.float32)
        except ValueError:
            raise ctx.fail(node, f"bias C of shape {list(c.shape)} does not broadcast to [{out}]") from None
    _emit_dense(node, ctx, x, w, bias)


def _matmul(node, ctx: _Ctx) -> None:
    x = _dense_input(node, ctx)
    b = ctx.const(node, node.input[1]).astype(np.float32)
    if b.ndim != 2:
        raise ctx.fail(node, f"the weight must be a 2-D matrix, got shape {list(b.shape)}")
    _emit_dense(node, ctx, x, b.T, np.zeros(b.shape[1], np.float32))


def _emit_dense(node, ctx: _Ctx, x: str, w: np.ndarray, bias: np.ndarray) -> None:
    if ctx.ranks.get(x, 2) != 2:
        raise ctx.fail(node, f"input '{x}' must be 2-D [batch, features]; add a Flatten")
    if w.shape[1] != ctx.sizes[x]:
        raise ctx.fail(node, f"weight expects {w.shape[1]} inputs but '{x}' has {ctx.sizes[x]} features")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(bias))):  # e.g. alpha/beta NaN, or overflow to inf
        raise ctx.fail(node, "the weights or bias are NaN or infinite after applying alpha/beta")
    ctx.limit(node, "outputs", w.shape[0], MAX_LAYER_WIDTH, 1)
    ctx.dense_weights += w.size
    ctx.limit(node, "total dense weights", ctx.dense_weights, MAX_DENSE_WEIGHTS)
    op = Dense(_node_name(node), [x], [node.output[0]], weight=np.ascontiguousarray(w, np.float32),
               bias=np.ascontiguousarray(bias, np.float32))
    ctx.emit(op, node.output[0], w.shape[0])


def _feature_vector(node, ctx: _Ctx, c: np.ndarray, size: int, what: str) -> np.ndarray:
    c = np.asarray(c, np.float32)
    if c.size == 1:
        return np.full(size, c.reshape(-1)[0], np.float32)
    squeezed = c.reshape(-1) if c.ndim <= 1 or all(d == 1 for d in c.shape[:-1]) else None
    if squeezed is None or squeezed.size != size:
        raise ctx.fail(node, f"{what} of shape {list(c.shape)} must broadcast per feature ([{size}] or a scalar)")
    return squeezed


def _add_mul(node, ctx: _Ctx) -> None:
    names = list(node.input)
    act = [n for n in names if n not in ctx.consts]
    if len(act) != 1:
        raise ctx.fail(node, "only one activation input with one constant is supported (no residual adds)")
    x = ctx.activation(node, act[0])
    size = ctx.sizes[x]
    c = _feature_vector(node, ctx, ctx.consts[[n for n in names if n in ctx.consts][0]], size, "the constant")
    one, zero = np.ones(size, np.float32), np.zeros(size, np.float32)
    const_first = names[0] in ctx.consts
    if node.op_type == "Add":
        scale, shift = one, c
    elif node.op_type == "Sub":
        scale, shift = (-one, c) if const_first else (one, -c)
    elif node.op_type == "Mul":
        scale, shift = c, zero
    else:  # Div
        if const_first:
            raise ctx.fail(node, "dividing a constant by an activation is not supported")
        if np.any(c == 0):
            raise ctx.fail(node, "division by zero in the constant")
        scale, shift = (1.0 / c.astype(np.float64)).astype(np.float32), zero
    ctx.finite(node, {"the scale": scale, "the shift": shift}, "(1/divisor overflows float32)")
    op = Affine(_node_name(node), [x], [node.output[0]], scale=scale, shift=shift)
    ctx.emit(op, node.output[0], size, ctx.ranks.get(x, 2))


def _batchnorm(node, ctx: _Ctx) -> None:
    a = _attrs(node)
    if len([o for o in node.output if o]) != 1 or a.get("training_mode", 0):
        raise ctx.fail(node, "only inference-mode BatchNormalization (one output) is supported")
    x = ctx.activation(node, node.input[0])
    size = ctx.sizes[x]
    gamma, beta, mean, var = (_feature_vector(node, ctx, ctx.const(node, n), size, "a BN parameter")
                              for n in node.input[1:5])
    denominator = var.astype(np.float64) + float(a.get("epsilon", 1e-5))
    if not np.all(denominator > 0):  # also NaN
        i = int(np.argmin(np.where(np.isnan(denominator), -np.inf, denominator)))
        raise ctx.fail(node, f"variance + epsilon must be positive, got {denominator[i]:g} for feature {i}")
    scale = gamma / np.sqrt(denominator)
    shift = beta - mean * scale
    ctx.finite(node, {"the folded scale": scale, "the folded shift": shift},
               "after folding gamma, beta, mean and variance")
    scale, shift = scale.astype(np.float32), shift.astype(np.float32)
    ctx.emit(Affine(_node_name(node), [x], [node.output[0]], scale=scale, shift=shift), node.output[0], size,
             ctx.ranks.get(x, 2))


def _activation(func: str) -> Callable:
    def convert(node, ctx: _Ctx) -> None:
        x = ctx.activation(node, node.input[0])
        if func in ("softmax", "log_softmax"):
            rank = ctx.ranks.get(x, 2)
            axis = _attrs(node).get("axis", -1)
            if axis not in (-1, rank - 1):
                raise ctx.fail(node, f"softmax over axis {axis} is not supported (only the last axis)")
        ctx.emit(Activation(_node_name(node), [x], [node.output[0]], func=func), node.output[0], ctx.sizes[x],
                 ctx.ranks.get(x, 2))

    return convert


def _identity(node, ctx: _Ctx) -> None:
    x = ctx.activation(node, node.input[0])
    rank = ctx.ranks.get(x, 2)
    a = _attrs(node)
    if node.op_type == "Dropout" and len(node.output) > 1 and node.output[1]:
        raise ctx.fail(node, "the Dropout mask output is not supported")
    if node.op_type == "Cast":
        from onnx import TensorProto

        if a.get("to") != TensorProto.FLOAT:
            raise ctx.fail(node, "only Cast to float32 is supported")
        if ctx.dtypes.get(x) not in ("float32", "bits"):
            raise ctx.fail(node, f"Cast of a {ctx.dtypes.get(x)} tensor is not supported")
    elif node.op_type == "Flatten":
        if a.get("axis", 1) != 1:
            raise ctx.fail(node, f"Flatten axis {a.get('axis')} is not supported (only 1)")
        rank = 2
    elif node.op_type == "Reshape":
        shape = [int(s) for s in ctx.const(node, node.input[1]).reshape(-1)]
        rest = shape[1:]
        known = math.prod(s for s in rest if s > 0)
        ok = shape and shape[0] in (-1, 0) and rest.count(-1) == 0 and 0 not in rest and known == ctx.sizes[x]
        ok = ok or (shape and shape[0] == 0 and rest.count(-1) == 1 and ctx.sizes[x] % max(known, 1) == 0)
        if not ok:
            raise ctx.fail(node, f"Reshape to {shape} must keep the batch axis first ([-1 or 0, features...])")
        rank = len(shape)
    dtype = ctx.dtypes.get(x, "float32")
    ctx.emit(Identity(_node_name(node), [x], [node.output[0]], source_op=node.op_type), node.output[0],
             ctx.sizes[x], rank, dtype)


_HANDLERS: dict[str, Callable] = {
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _add_mul,
    "Sub": _add_mul,
    "Mul": _add_mul,
    "Div": _add_mul,
    "Relu": _activation("relu"),
    "Sigmoid": _activation("sigmoid"),
    "Tanh": _activation("tanh"),
    "Softmax": _activation("softmax"),
    "LogSoftmax": _activation("log_softmax"),
    "Flatten": _identity,
    "Reshape": _identity,
    "Identity": _identity,
    "Cast": _identity,
    "Dropout": _identity,
    "Constant": _fold_constant,
    "BatchNormalization": _batchnorm,
    "ai.pnetc::HashProjection": _hash_projection,
    "ai.pnetc::TextProjection": _text_projection,
}
