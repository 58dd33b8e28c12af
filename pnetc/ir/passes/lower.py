"""Lowering: the first layer over the bits becomes a column sum (no multiplies) or, for
--precision binary, XNOR + popcount with +-1 weights; --projection picks hash or table."""

from __future__ import annotations

import numpy as np

from pnetc.errors import PnetcError
from pnetc.ir.graph import Activation, Dense, Graph, HashProjection, TextProjection, check_modes


def lower(graph: Graph, *, precision: str, projection: str) -> None:
    check_modes(precision, projection)
    graph.precision = precision
    graph.projection_mode = projection
    for op in graph.ops:
        if isinstance(op, Activation) and op.func == "log_softmax":
            raise PnetcError(f"'{op.name}' (LogSoftmax) is only supported as the last node of the model")
    proj = graph.projection
    if proj is None:
        if precision == "binary":
            raise PnetcError("--precision binary needs a projection model (its first layer runs over bits)")
        return
    if projection == "table":
        if isinstance(proj, TextProjection):
            raise PnetcError(
                "--projection table is for dense inputs; a text projection hashes unbounded feature ids, "
                "so text models always use --projection hash"
            )
        assert isinstance(proj, HashProjection)
        if proj.proj_kind == "ternary" and proj.input_size > 32768:
            raise PnetcError("a ternary projection table needs N <= 32768 inputs; use --projection hash")
        proj.table = True
    first = graph.consumers(proj.outputs[0])[0]
    if not isinstance(first, Dense):
        raise PnetcError(f"the node after the projection must be a Gemm/MatMul, found '{first.name}'")
    if precision == "binary":
        first.lowering = "xnor"
        # +-1 weights with a per-channel scale alpha = mean |w| (XNOR-Net)
        first.alpha = np.mean(np.abs(first.weight.astype(np.float64)), axis=1)
    else:
        first.lowering = "bitsum"
