"""Low-bit hidden layers: int4 or +-1 weights for the dense layers after the first, int8 activations.

A model trained with `pnetc train --weight-bits 4|1` says so in its pnetc.training metadata
("weight_bits") and exports every layer after the first exactly on its grid: per output row,
w = k * s with k in -7..7 (int4), or w = +-alpha (1 bit). This pass checks the grid (a model whose
values are not on it is refused: rounding them again would silently lose accuracy) and picks the
kernel: dense_s4 (two weights per byte) or dense_pm1 (sign bits; inputs added or subtracted).
The first layer over the bits keeps its own lowering (bitsum, or xnor for --precision binary).
Float32 compiles ignore it: the float weights are the grid values already.
"""

from __future__ import annotations

import numpy as np

from pnetc.errors import PnetcError
from pnetc.ir.graph import Dense, Graph

WEIGHT_BITS = (1, 4, 8)
LOWERING = {4: "dense_s4", 1: "dense_pm1"}  # 8: the default "dense" (dense_s8)
INT4_MAX = 7  # symmetric grid -7..7, as training uses it (the kernel also takes -8)
GRID_TOLERANCE = 1e-3  # |w / s - k| of float32 values exported as k * s


def declared_weight_bits(graph: Graph) -> int:
    """The hidden layers' weight bits the model declares (8 when it declares none)."""
    bits = (graph.info.training or {}).get("weight_bits", 8)
    if isinstance(bits, bool) or bits not in WEIGHT_BITS:
        raise PnetcError(f"metadata pnetc.training weight_bits must be one of {', '.join(map(str, WEIGHT_BITS))}, "
                         f"got {bits!r}")
    return int(bits)


def lower_low_bit(graph: Graph) -> None:
    """Set the low-bit lowering of every dense layer after the projection that reads int8 activations."""
    bits = declared_weight_bits(graph)
    if bits == 8 or graph.precision == "float32":
        return
    proj = graph.projection
    # a learned stem's layers come before the projection: training keeps them int8 (its grid is the head's)
    head = graph.ops[graph.ops.index(proj) + 1:] if proj is not None else graph.ops
    for op in head:
        if isinstance(op, Dense) and op.lowering == "dense":
            low_bit_weights(op, bits)  # refuses weights off the grid
            op.lowering = LOWERING[bits]


def low_bit_weights(op: Dense, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(w_q int8 [out, in] of grid integers, per-row scale float64 [out]) with w == w_q * scale."""
    w = op.weight.astype(np.float64)
    mag = np.abs(w)
    if bits == 1:
        alpha = mag.max(axis=1) if w.size else np.zeros(w.shape[0])
        off = ~np.all(mag == alpha[:, None], axis=1) | (alpha <= 0)
        if np.any(off):
            raise _off_grid(op, "+-alpha (1-bit)", int(np.argmax(off)))
        return np.where(w >= 0, 1, -1).astype(np.int8), alpha
    scale = mag.max(axis=1) / INT4_MAX if w.size else np.zeros(w.shape[0])
    scale = np.where(scale > 0, scale, 1.0)
    k = w / scale[:, None]
    off = np.any(np.abs(k - np.round(k)) > GRID_TOLERANCE, axis=1)
    if np.any(off):
        raise _off_grid(op, f"k * s, k in -{INT4_MAX}..{INT4_MAX} (int4)", int(np.argmax(off)))
    return np.round(k).astype(np.int8), scale


def _off_grid(op: Dense, grid: str, row: int) -> PnetcError:
    return PnetcError(f"layer '{op.name}', output {row}: the model declares low-bit weights (pnetc.training "
                      f"weight_bits) but the weights are not on the grid {grid}; export them with pnetc train "
                      f"--weight-bits, or drop weight_bits from the metadata to compile them as int8")
