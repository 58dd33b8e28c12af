"""Static memory planning: every activation and scratch buffer gets a fixed offset in one
arena. Lifetimes are step intervals; buffers whose lifetimes overlap never overlap in
memory. Placement is greedy (largest first, lowest aligned offset that fits), so the
arena is the largest live set or close to it; the plan is deterministic.

The packed bits live until the end of a call so `<name>_last_bits()` can return them.
In-place activations reuse their input's buffer.

Buffers are keyed by tensor name (unique in a graph) or, for an op's scratch space, by a `Scratch`
key holding the op's step: no node or tensor name from the model can make two buffers share a key,
and ties in the placement are broken by request order, never by a name.
"""

from __future__ import annotations

from dataclasses import dataclass

from pnetc.ir.graph import Activation, Buffer, Conv, Dense, Graph, HashProjection, MemoryPlan, Pool, TextProjection

ALIGNMENT = 8


@dataclass(frozen=True)
class Scratch:
    """The key of the scratch buffer `role` ("x", "acc") of the op at `step`."""

    step: int
    role: str


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def buffer_requests(graph: Graph) -> tuple[dict, dict[str, str]]:
    """Buffers as key (tensor name or Scratch) -> (nbytes, first step, last step), in request order,
    and tensor -> buffer key."""
    end = len(graph.ops)
    reqs: dict = {}
    alias: dict = {}
    int_mode = graph.precision != "float32"
    for i, op in enumerate(graph.ops):
        out = op.outputs[0]
        if isinstance(op, HashProjection):
            if op.stem_quant is not None and not int_mode:  # the float stem output's int8 levels
                reqs[Scratch(i, "q")] = [op.input_size, i, i]
            reqs[Scratch(i, "x")] = [2 * op.input_size, i, i]
            reqs[out] = [4 * ((op.num_bits + 31) // 32), i, end]
        elif isinstance(op, TextProjection):
            if op.proj_kind == "simhash":  # its bit-sliced counters; a presence projection needs none
                reqs[Scratch(i, "acc")] = [4 * op.num_bits, i, i]
            reqs[out] = [4 * ((op.num_bits + 31) // 32), i, end]
        elif isinstance(op, Dense):
            elem = 1 if int_mode else 4
            if int_mode and op.lowering in ("bitsum", "xnor"):
                reqs[Scratch(i, "acc")] = [4 * op.out_features, i, i]
            reqs[out] = [elem * op.out_features, i, i]
        elif isinstance(op, (Conv, Pool)):  # windows overlap: never in place
            reqs[out] = [(1 if int_mode else 4) * graph.tensors[out].size, i, i]
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


def _display_name(graph: Graph, key) -> str:
    return f"{graph.ops[key.step].name}.{key.role}" if isinstance(key, Scratch) else key


def plan_memory(graph: Graph) -> MemoryPlan:
    reqs, _ = buffer_requests(graph)
    order = {key: n for n, key in enumerate(reqs)}
    placed: list[tuple[object, Buffer]] = []
    for key, (nbytes, first, last) in sorted(reqs.items(), key=lambda kv: (-kv[1][0], kv[1][1], order[kv[0]])):
        busy = sorted((b.offset, b.offset + _align(b.nbytes)) for _, b in placed if b.first <= last and first <= b.last)
        offset = 0
        for lo, hi in busy:
            if offset + _align(nbytes) <= lo:
                break
            offset = max(offset, hi)
        placed.append((key, Buffer(_display_name(graph, key), nbytes, offset, first, last)))
    arena = max((b.offset + _align(b.nbytes) for _, b in placed), default=0)
    placed.sort(key=lambda kb: (kb[1].first, order[kb[0]]))
    graph.plan = MemoryPlan(dict(placed), arena, ALIGNMENT)
    return graph.plan
