"""ONNX export (docs/format.md section 6).

The projection model is built node by node with onnx.helper from the trained weights
(deterministic bytes for a given training run): the custom ai.pnetc projection op, then
Gemm(transB=1)/Relu nodes. The trainer is exported with torch.onnx.export (plain ops).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from pnetc.hashing import ProjectionSpec, TextFeatureSpec, TextProjectionSpec
from pnetc.training.models import ProjectionHead
from pnetc.training.stem import StemProjectionNet

FORMAT_VERSION = 1
PRESENCE_FORMAT_VERSION = 2  # a presence text projection: format 1 readers must refuse it, not run simhash
OPSET = 17
CUSTOM_DOMAIN = "ai.pnetc"
PRODUCER = "pnetc"


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def head_nodes(head: ProjectionHead) -> tuple[list, list]:
    """Gemm/Relu nodes and their initializers, from tensor "bits" to "logits"."""
    nodes, inits = [], []
    last = len(head.layers) - 1
    h = "bits"
    for i, layer in enumerate(head.layers):
        prefix = "out" if i == last else f"fc{i}"
        w = head.exported_weight(i).cpu().numpy().astype(np.float32)  # low-bit: exactly on the grid
        b = layer.bias.detach().cpu().numpy().astype(np.float32)
        inits += [numpy_helper.from_array(w, f"{prefix}.weight"), numpy_helper.from_array(b, f"{prefix}.bias")]
        out = "logits" if i == last else f"fc{i}"
        nodes.append(helper.make_node("Gemm", [h, f"{prefix}.weight", f"{prefix}.bias"], [out], name=f"gemm_{prefix}", transB=1))
        h = out
        if i != last:
            nodes.append(helper.make_node("Relu", [out], [f"relu{i}"], name=f"relu{i}"))
            h = f"relu{i}"
    return nodes, inits


def stem_nodes(net: StemProjectionNet) -> tuple[list, list, str]:
    """The stem as standard ops from the float input "x": Gemm/Relu, or per conv layer
    Conv/Relu/MaxPool after a Reshape to [batch, 1, H, W] and before a Flatten. The input scale is
    folded into the first layer's weights. Returns the nodes, their initializers and the output name."""
    stem = net.stem
    nodes, inits = [], []
    h = "x"
    if stem.image is not None:
        inits.append(numpy_helper.from_array(np.asarray([-1, *stem.image], np.int64), "image_shape"))
        nodes.append(helper.make_node("Reshape", ["x", "image_shape"], ["image"], name="image"))
        h = "image"
    for i, layer in enumerate(stem.layers):
        w = layer.weight.detach().cpu().numpy().astype(np.float64)
        if i == 0:
            w = w * stem.input_scale
        inits += [numpy_helper.from_array(w.astype(np.float32), f"stem{i}.weight"),
                  numpy_helper.from_array(layer.bias.detach().cpu().numpy().astype(np.float32), f"stem{i}.bias")]
        args = [h, f"stem{i}.weight", f"stem{i}.bias"]
        if stem.image is None:
            nodes.append(helper.make_node("Gemm", args, [f"stem{i}_pre"], name=f"gemm_stem{i}", transB=1))
        else:
            nodes.append(helper.make_node("Conv", args, [f"stem{i}_pre"], name=f"conv_stem{i}", kernel_shape=[3, 3],
                                          pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"stem{i}_pre"], [f"stem{i}"], name=f"relu_stem{i}"))
        h = f"stem{i}"
        if stem.image is not None:
            nodes.append(helper.make_node("MaxPool", [h], [f"pool{i}"], name=f"pool{i}", kernel_shape=[2, 2],
                                          strides=[2, 2]))
            h = f"pool{i}"
    if stem.image is not None:
        nodes.append(helper.make_node("Flatten", [h], ["stem"], name="flatten_stem", axis=1))
        h = "stem"
    return nodes, inits, h


def export_projection_model(
    path: str | Path,
    head: ProjectionHead | StemProjectionNet,
    *,
    task: str,
    labels: list[str],
    input_info: dict,
    tables: int,
    bits_per_table: int,
    spec: ProjectionSpec | None,
    text_spec: TextFeatureSpec | None,
    seed: int,
    density: float | None,
    mean: np.ndarray | None,
    calibration: dict,
    training: dict,
    text_projection: TextProjectionSpec | None = None,
) -> onnx.ModelProto:
    num_bits = tables * bits_per_table
    net = head if isinstance(head, StemProjectionNet) else None
    head = net.head if net is not None else head
    num_classes = head.layers[-1].out_features
    nodes, inits = head_nodes(head)
    version = FORMAT_VERSION
    if task == "text":
        graph_input = helper.make_tensor_value_info("text", TensorProto.STRING, ["batch"])
        text_attrs = {}
        if text_projection is not None and text_projection.kind == "presence":
            text_attrs = dict(kind="presence", hashes=int(text_projection.hashes))
            version = PRESENCE_FORMAT_VERSION
        proj = helper.make_node(
            "TextProjection", ["text"], ["bits"], name="projection", domain=CUSTOM_DOMAIN,
            seed=int(seed), num_bits=num_bits, char_max_n=int(text_spec.char_max_n),
            words=int(bool(text_spec.words)), T=int(tables), d=int(bits_per_table), **text_attrs,
        )
        kind = "presence" if text_attrs else "binary"
    else:
        elem = TensorProto.UINT8 if input_info["dtype"] == "uint8" else TensorProto.INT8
        attrs = dict(seed=int(seed), num_bits=num_bits, kind=spec.kind, T=int(tables), d=int(bits_per_table))
        if spec.kind == "ternary":
            attrs["nnz"] = int(spec.nnz)
        stem, source = [], "x"
        if net is not None:  # float input "x" (the quantized values, as trainer.onnx), the stem, its int8 grid
            elem = TensorProto.FLOAT
            stem, stem_inits, source = stem_nodes(net)
            inits = stem_inits + inits
            mean = net.mean_q.cpu().numpy()
            attrs.update(x_scale=float(net.out_scale), x_zero_point=int(net.out_zero_point))
        graph_input = helper.make_tensor_value_info("x", elem, ["batch", int(input_info["size"])])
        inits.insert(0, numpy_helper.from_array(np.asarray(mean, dtype=np.int16), "mean"))
        proj = helper.make_node("HashProjection", [source, "mean"], ["bits"], name="projection", domain=CUSTOM_DOMAIN,
                                **attrs)
        nodes = [*stem, proj, *nodes]
        kind = spec.kind
    graph = helper.make_graph(
        nodes if task != "text" else [proj, *nodes],
        "pnetc_projection_net",
        [graph_input],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", num_classes])],
        initializer=inits,
        value_info=[helper.make_tensor_value_info("bits", TensorProto.FLOAT, ["batch", num_bits])],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(CUSTOM_DOMAIN, 1)],
        producer_name=PRODUCER,
        producer_version=str(version),
    )
    model.ir_version = 8  # opset 17 pairs with IR 8; keeps older onnxruntime able to load it
    projection_meta = {"T": int(tables), "d": int(bits_per_table), "kind": kind, "seed": int(seed),
                       "density": density if kind == "ternary" else None}
    if spec is not None and kind == "ternary":
        projection_meta["nnz"] = int(spec.nnz)
    if text_spec is not None:
        projection_meta.update(char_max_n=int(text_spec.char_max_n), words=int(bool(text_spec.words)))
    if kind == "presence":
        projection_meta["hashes"] = int(text_projection.hashes)
    meta = {
        "pnetc.format": version,
        "pnetc.task": task,
        "pnetc.labels": list(labels),
        "pnetc.input": input_info,
        "pnetc.projection": projection_meta,
        "pnetc.calibration": calibration,
        "pnetc.training": training,
    }
    helper.set_model_props(model, {k: _json(v) for k, v in meta.items()})
    onnx.checker.check_model(model, full_check=False)
    Path(path).write_bytes(model.SerializeToString())
    return model


def head_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """The standard-op part of a projection model, from input "bits" (float32) to "logits".

    onnxruntime runs it as is; tests use it to compare with torch.
    """
    graph = model.graph
    bits_info = next(v for v in graph.value_info if v.name == "bits")
    nodes = [n for n in graph.node if n.domain != CUSTOM_DOMAIN]
    inits = [t for t in graph.initializer if t.name != "mean"]
    sub = helper.make_graph(nodes, graph.name + "_head", [bits_info], list(graph.output), initializer=inits)
    m = helper.make_model(sub, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=PRODUCER)
    m.ir_version = model.ir_version
    return m


def read_metadata(model: onnx.ModelProto) -> dict:
    return {p.key: json.loads(p.value) for p in model.metadata_props}


def export_trainer(trainer: torch.nn.Module, example_inputs, path: str | Path) -> None:
    """trainer.onnx with plain ops. Dense: input "x" float32 [batch, N] (quantized values as floats).
    Text (LSTM): inputs "ids" int64 [batch, L] (byte + 1, 0 pads) and "lengths" int64 [batch]."""
    trainer = trainer.eval()
    if isinstance(example_inputs, tuple):
        ids, lengths = example_inputs
        args = ((ids[:2, :16].clone(), lengths[:2].clamp(max=16).clone()),)
        names, axes = ["ids", "lengths"], {"ids": {0: "batch", 1: "length"}, "lengths": {0: "batch"}}
    else:
        args = (example_inputs[:2].clone(),)
        names, axes = ["x"], {"x": {0: "batch"}}
    axes["logits"] = {0: "batch"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(
            trainer, args, str(path), input_names=names, output_names=["logits"], dynamic_axes=axes,
            opset_version=OPSET, dynamo=False, do_constant_folding=True,
        )
