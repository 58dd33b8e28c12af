"""Which float -> integer encoding a compiled model's input takes (pnetc.quantization).

- a pnetc model on float features: its per-feature scales and zero points (pnetc.input metadata);
- a pnetc model on quantized features: the metadata's one scale and zero point, for every feature;
- a float-input (foreign) model compiled to int8: the input tensor's calibrated scales and zero points,
  one per feature when its first layer is dense (FeatureQuant), else one for all features;
- text models and float32 foreign models: none (their inputs are bytes or floats as they are).
"""

from __future__ import annotations

import numpy as np

from pnetc.ir.graph import Graph
from pnetc.quantization import FeatureEncoding, encoding_from_input_spec


def input_encoding(graph: Graph) -> FeatureEncoding | None:
    if graph.input_kind == "text":
        return None
    tensor = graph.tensors[graph.input]
    if graph.float_input:
        if graph.precision == "float32":
            return None
        if tensor.feature_quant is not None:
            f = tensor.feature_quant
            return FeatureEncoding(np.asarray(f.scale, np.float32), np.asarray(f.zero_point, np.int32), "int8")
        if tensor.quant is None:
            return None
        q = tensor.quant
        return FeatureEncoding(np.asarray([q.scale], np.float32), np.asarray([q.zero_point], np.int32), "int8")
    spec = dict(graph.info.input_spec)
    spec.setdefault("size", graph.input_size)
    return encoding_from_input_spec(spec, tensor.dtype, graph.info.source or "the model")


def takes_float_features(graph: Graph) -> bool:
    """True when the model's inputs are raw float features: a float-input model, or a pnetc
    model trained on float features (per-feature encoding)."""
    if graph.input_kind == "text":
        return False
    if graph.float_input:
        return not takes_levels_as_floats(graph)
    spec = graph.info.input_spec
    return "feature_scale" in spec


def takes_levels_as_floats(graph: Graph) -> bool:
    """True for a pnetc model trained on quantized levels whose input is float32 because a learned
    stem reads it (docs/training.md, "A learned stem"): its floats are the levels 0..255, not features."""
    spec = graph.info.input_spec
    return graph.float_input and graph.input_kind != "text" and "scale" in spec and "feature_scale" not in spec
