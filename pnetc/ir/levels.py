"""Warnings with numbers when int8 leaves too few levels (docs/compiler.md, "Level warnings").

On sample inputs (--calib, or verify's test data) the int8 graph is run and three things are counted:

- input features of a float-input model: a feature whose float values take more distinct values
  than its int8 codes, and at most MAX_FEW_LEVELS int8 codes (one scale for all features squeezes
  a small-range feature into 1-2 codes);
- activations: a layer output whose int8 values take at most MAX_FEW_LEVELS distinct values over
  all samples and units while its float values take more;
- predictions: int8 predicting one class for every sample where float32 predicts several.

Each finding is one line naming the tensor/feature and the counts.
"""

from __future__ import annotations

import numpy as np

from pnetc.ir.graph import Dense, Graph
from pnetc.ir.inputs import input_encoding
from pnetc.ir.interpret import Reference
from pnetc.quantization import distinct_levels

MAX_FEW_LEVELS = 2
MAX_SAMPLES = 4096  # enough for the counts; bounds the time


def level_warnings(graph: Graph, samples) -> list[str]:
    if samples is None or graph.precision == "float32" or graph.input_kind == "text":
        return []
    ref = Reference(graph)
    x = ref.check_input(samples)[:MAX_SAMPLES]
    if len(x) == 0:
        return []
    found = []
    encoding = input_encoding(graph)
    if graph.projection is None and encoding is not None:
        values = np.asarray(x, np.float32)
        codes, raw = distinct_levels(encoding.quantize(values)), distinct_levels(values)
        few = np.flatnonzero((codes <= MAX_FEW_LEVELS) & (raw > codes))
        if few.size:
            j = int(few[0])
            found.append(
                f"input '{graph.input}': {few.size} of {len(codes)} features take at most {MAX_FEW_LEVELS} int8 levels "
                f"on {len(x)} samples (one scale {float(encoding.scale[0]):.4g} for all features; feature {j}: "
                f"{int(raw[j])} distinct values -> {int(codes[j])} levels); normalise the features before the "
                "model, or train with pnetc on the raw features (one scale per feature)")
    trace_q: dict = {}
    trace_f: dict = {}
    out_q = ref.run(x, trace=trace_q)
    out_f = ref.run(x, "float32", trace=trace_f)
    for op in graph.ops:
        if not isinstance(op, Dense) or op.outputs[0] == graph.output:
            continue
        q, f = trace_q.get(op.outputs[0]), trace_f.get(op.outputs[0])
        if q is None or f is None:
            continue
        nq, nf = len(np.unique(q)), len(np.unique(f))
        if nq <= MAX_FEW_LEVELS < nf:
            found.append(f"activation '{op.outputs[0]}' ({op.name}): {nq} int8 levels over {len(x)} samples x "
                         f"{q.shape[1]} units, where float32 has {nf} distinct values")
    classes_q = np.unique(out_q.predictions)
    classes_f = np.unique(out_f.predictions)
    if len(classes_q) == 1 and len(classes_f) > 1:
        found.append(f"int8 predicts class {int(classes_q[0])} for all {len(x)} samples; float32 predicts "
                     f"{len(classes_f)} classes (a collapsed input or activation scale)")
    return found
