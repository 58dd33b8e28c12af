"""IR passes, run in this order by `run_passes`: fold -> lower (+ low-bit hidden layers) -> quantize -> plan memory
-> kernel calls."""

from __future__ import annotations

from typing import Optional

import numpy as np

from pnetc.ir.graph import Graph


def run_passes(graph: Graph, *, precision: str = "int8", projection: str = "hash",
               calib: Optional[np.ndarray | list] = None) -> Graph:
    from pnetc.ir.calls import lower_calls
    from pnetc.ir.passes.fold import fold
    from pnetc.ir.passes.lower import lower
    from pnetc.ir.passes.lowbit import lower_low_bit
    from pnetc.ir.passes.memory import plan_memory
    from pnetc.ir.passes.quantize import quantize

    from pnetc.ir.validate import check_values

    check_values(graph, "import")
    fold(graph)
    check_values(graph, "folding")
    lower(graph, precision=precision, projection=projection)
    lower_low_bit(graph)
    check_values(graph, "lowering")
    quantize(graph, calib=calib)
    check_values(graph, "quantisation")
    plan_memory(graph)
    graph.program = lower_calls(graph)
    return graph
