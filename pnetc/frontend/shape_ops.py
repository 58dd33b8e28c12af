"""Shape arithmetic of dynamic-batch exports: `x.view(x.size(0), -1)` exports as
Shape -> Gather -> Unsqueeze -> Concat -> Reshape. Shape of an activation becomes a constant whose
batch entry is 0 (ONNX Reshape's "copy this dimension"), and the rest folds as constants
(frontend/fold.py), so the Reshape sees [0, -1]. These ops on activations are refused."""

from __future__ import annotations

from typing import Callable

import numpy as np

from pnetc.frontend.context import Ctx, attrs


def _shape(node, ctx: Ctx) -> None:
    x = ctx.activation(node, node.input[0])
    if x not in ctx.shapes:
        raise ctx.fail(node, f"the shape of '{x}' is not known")
    a = attrs(node)
    full = np.array([0, *ctx.shapes[x]], np.int64)  # 0: the batch axis, which Reshape copies
    ctx.consts[node.output[0]] = full[int(a.get("start", 0)):a.get("end", None)]


def _constants_only(node, ctx: Ctx) -> None:
    raise ctx.fail(node, "is supported only on constants and shapes (shape arithmetic), not on activations")


SHAPE_HANDLERS: dict[str, Callable] = {
    "Shape": _shape, "Gather": _constants_only, "Unsqueeze": _constants_only, "Squeeze": _constants_only,
    "Concat": _constants_only,
}
