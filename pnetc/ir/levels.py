"""Warnings with numbers when int8 leaves too few levels (docs/compiler.md, "Level warnings").

On sample inputs (--calib, or verify's test data) the int8 graph is run and three things are counted:

- input features of a float-input model: a feature whose float values take more distinct values
  than its int8 codes, and at most MAX_FEW_LEVELS int8 codes (one scale for all features squeezes
  a small-range feature into 1-2 codes; an input quantized per feature, when its first layer is
  dense, collapses only when the calibration range is far wider than the samples', e.g. an outlier);
- activations: a hidden layer where at least half the units take at most MAX_FEW_LEVELS int8 values
  over the samples while their float values take more (dead ReLU units are not counted);
- predictions: int8 giving one class to >= 95% of the samples where float32's most common class
  has <= 80%.

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
COLLAPSED_SHARE = 0.95  # int8 gives one class to at least this share of the samples ...
SPREAD_SHARE = 0.8  # ... while float32 gives its most common class to at most this share


def level_warnings(graph: Graph, samples) -> list[str]:
    if samples is None or graph.precision == "float32" or graph.input_kind == "text":
        return []
    ref = Reference(graph)
    x = ref.check_input(samples)[:MAX_SAMPLES]
    if len(x) == 0:
        return []
    found = []
    encoding = input_encoding(graph)
    if graph.float_input and encoding is not None:
        values = np.asarray(x, np.float32)
        codes, raw = distinct_levels(encoding.quantize(values)), distinct_levels(values)
        few = np.flatnonzero((codes <= MAX_FEW_LEVELS) & (raw > codes))
        if few.size:
            j = int(few[0])
            if encoding.per_feature:  # a feature's calibration range is much wider than these samples' spread
                why, advice = (f"one scale per feature; feature {j}: scale {float(encoding.scale[j]):.4g}, ",
                               "check the calibration samples for outliers")
            else:
                why, advice = (f"one scale {float(encoding.scale[0]):.4g} for all features; feature {j}: ",
                               "normalise the features before the model, or train with pnetc on the raw features "
                               "(one scale per feature)")
            found.append(
                f"input '{graph.input}': {few.size} of {len(codes)} features take at most {MAX_FEW_LEVELS} int8 levels "
                f"on {len(x)} samples ({why}{int(raw[j])} distinct values -> {int(codes[j])} levels); {advice}")
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
        codes, raw = distinct_levels(q), distinct_levels(f)
        few = (codes <= MAX_FEW_LEVELS) & (raw > codes)  # a dead ReLU unit (one float value) is not counted
        if few.sum() * 2 >= len(codes):
            found.append(f"activation '{op.outputs[0]}' ({op.name}): {int(few.sum())} of {len(codes)} units take at most "
                         f"{MAX_FEW_LEVELS} int8 levels on {len(x)} samples (float32: up to {int(raw.max())} distinct "
                         "values per unit)")
    share_q, top_q = _most_common(out_q.predictions)
    share_f, _ = _most_common(out_f.predictions)
    if share_q >= COLLAPSED_SHARE and share_f <= SPREAD_SHARE:
        found.append(f"int8 predicts class {top_q} for {round(share_q * len(x))} of {len(x)} samples; float32's most "
                     f"common class takes {round(share_f * len(x))} (a collapsed input or activation scale)")
    return found


def _most_common(predictions: np.ndarray) -> tuple[float, int]:
    counts = np.bincount(np.asarray(predictions, np.int64))
    return float(counts.max()) / len(predictions), int(counts.argmax())
