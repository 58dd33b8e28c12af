"""The conversion state shared by the op handlers and the constant folder, and the node helpers."""

from __future__ import annotations

import numpy as np

from pnetc.errors import PnetcError
from pnetc.ir.limits import check_limit

PNETC_DOMAIN = "ai.pnetc"
F32_MAX = float(np.finfo(np.float32).max)
FLOAT_TYPES = {1}  # onnx.TensorProto.FLOAT


class Ctx:
    """Conversion state: constants, per-sample sizes and ranks of activations, emitted ops."""

    def __init__(self, model_path: str):
        self.path = model_path
        self.consts: dict[str, np.ndarray] = {}
        self.sizes: dict[str, int] = {}
        self.ranks: dict[str, int] = {}
        self.dtypes: dict[str, str] = {}
        self.shapes: dict[str, tuple] = {}  # per-sample shape (batch axis dropped) where known
        self.ops: list = []
        self.dense_weights = 0  # weights of the dense layers so far (MAX_DENSE_WEIGHTS)
        self.conv_macs = 0  # multiply-adds of the conv layers so far (MAX_CONV_MACS)
        self.batch_one = False  # the input's batch axis is fixed at 1 (torch's default export)

    def fail(self, node, message: str) -> PnetcError:
        return PnetcError(f"{self.path}: node '{node_name(node)}' ({node.op_type}): {message}")

    def limit(self, node, what: str, value: int, limit: int, low: int = 0) -> None:
        check_limit(f"{self.path}: node '{node_name(node)}' ({node.op_type}): ", what, value, limit, low)

    def int_attr(self, node, a: dict, key: str, default: int) -> int:
        """An INT attribute: a float (2.7, inf, NaN), string or list there is an error, never truncated."""
        value = a.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(node, f"attribute '{key}' must be an integer, got {value!r}")
        return value

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

    def emit(self, op, out: str, size: int, rank: int = 2, dtype: str = "float32", shape=None) -> None:
        self.ops.append(op)
        self.sizes[out] = int(size)
        self.ranks[out] = rank
        self.dtypes[out] = dtype
        self.shapes[out] = tuple(int(d) for d in shape) if shape is not None else (int(size),)


def node_name(node) -> str:
    return node.name or (node.output[0] if node.output else "?")


def attrs(node) -> dict:
    from onnx import helper

    out = {}
    for a in node.attribute:
        try:
            v = helper.get_attribute_value(a)
        except Exception:  # an attribute type onnx does not know (damaged file)
            v = None
        if v is None:
            raise PnetcError(f"node '{node_name(node)}' ({node.op_type}): attribute '{a.name}' has no value "
                             "of a known type; is the file damaged?")
        if a.name in out:  # which one counts would be up to each reader (C, reference, onnxruntime)
            raise PnetcError(f"node '{node_name(node)}' ({node.op_type}): attribute {a.name!r} is given twice")
        out[a.name] = v.decode(errors="replace") if isinstance(v, bytes) else v
    return out
