"""The IR: dataclasses (graph.py), passes (passes/), golden interpreter (interpret.py)."""
