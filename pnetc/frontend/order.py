"""Topological order of a graph's nodes: each after its producers; cycles and dangling inputs refused."""

from __future__ import annotations

from pnetc.errors import PnetcError
from pnetc.frontend.context import node_name


def topological_order(nodes, known: set[str], path: str) -> list:
    """Order nodes so each runs after its producers; reject cycles and dangling inputs."""
    produced = {}
    for node in nodes:
        for out in node.output:
            if out:
                if out in produced or out in known:
                    raise PnetcError(f"{path}: tensor '{out}' is produced twice (node '{node_name(node)}')")
                produced[out] = node
    for node in nodes:
        for inp in node.input:
            if inp and inp not in produced and inp not in known:
                raise PnetcError(
                    f"{path}: node '{node_name(node)}' ({node.op_type}) reads '{inp}', which no node "
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
                raise PnetcError(f"{path}: the graph has a cycle through node '{node_name(node)}'")
            state[key] = 1
            stack.append((node, True))
            for inp in node.input:
                if inp and inp not in done:
                    dep = produced[inp]
                    if state.get(id(dep)) == 1:
                        raise PnetcError(f"{path}: the graph has a cycle through node '{node_name(dep)}'")
                    if state.get(id(dep)) != 2:
                        stack.append((dep, False))
    return order
