"""Static memory planning: every activation and scratch buffer gets a fixed offset in one
arena. Lifetimes are step intervals; buffers whose lifetimes overlap never overlap in
memory. Placement is greedy (largest first, lowest aligned offset that fits), so the
arena is the largest live set or close to it; the plan is deterministic.

The packed bits live until the end of a call so `<name>_last_bits()` can return them.
In-place activations reuse their input's buffer.
"""

from __future__ import annotations

from pnetc.ir.graph import Activation, Buffer, Dense, Graph, HashProjection, MemoryPlan, TextProjection

ALIGNMENT = 8


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def buffer_requests(graph: Graph) -> tuple[dict[str, tuple[int, int, int]], dict[str, str]]:
    """Buffers as name -> (nbytes, first step, last step), and tensor -> buffer name."""
    end = len(graph.ops)
    reqs: dict[str, list[int]] = {}
    alias: dict[str, str] = {}
    int_mode = graph.precision != "float32"
    for i, op in enumerate(graph.ops):
        out = op.outputs[0]
        if isinstance(op, HashProjection):
            reqs[op.name + ".x"] = [2 * op.input_size, i, i]
            reqs[out] = [4 * ((op.num_bits + 31) // 32), i, end]
        elif isinstance(op, TextProjection):
            reqs[op.name + ".acc"] = [4 * op.num_bits, i, i]
            reqs[out] = [4 * ((op.num_bits + 31) // 32), i, end]
        elif isinstance(op, Dense):
            elem = 1 if int_mode else 4
            if int_mode and op.lowering in ("bitsum", "xnor"):
                reqs[op.name + ".acc"] = [4 * op.out_features, i, i]
            reqs[out] = [elem * op.out_features, i, i]
        elif isinstance(op, Activation):
            alias[out] = alias.get(op.inputs[0], op.inputs[0])
            continue
        alias[out] = out
        for inp in op.inputs:
            buf = alias.get(inp)
            if buf is not None and buf in reqs:
                reqs[buf][2] = max(reqs[buf][2], i)
    for i, op in enumerate(graph.ops):
        for inp in op.inputs:
            buf = alias.get(inp)
            if buf is not None and buf in reqs:
                reqs[buf][2] = max(reqs[buf][2], i)
    reqs[alias[graph.output]][2] = end
    return {k: (v[0], v[1], v[2]) for k, v in reqs.items()}, alias


def plan_memory(graph: Graph) -> MemoryPlan:
    reqs, _ = buffer_requests(graph)
    placed: list[Buffer] = []
    for name, (nbytes, first, last) in sorted(reqs.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[0])):
        busy = sorted((b.offset, b.offset + _align(b.nbytes)) for b in placed if b.first <= last and first <= b.last)
        offset = 0
        for lo, hi in busy:
            if offset + _align(nbytes) <= lo:
                break
            offset = max(offset, hi)
        placed.append(Buffer(name, nbytes, offset, first, last))
    arena = max((b.offset + _align(b.nbytes) for b in placed), default=0)
    graph.plan = MemoryPlan({b.name: b for b in sorted(placed, key=lambda b: (b.first, b.name))}, arena, ALIGNMENT)
    return graph.plan
