"""Test models built with onnx.helper exactly as docs/format.md section 6 describes
(random weights), plus a plain float MLP like torch.onnx.export produces.

The calibration metadata is measured on random inputs with numpy (float network),
as the exporter measures it on training data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pnetc import hashing

LANG_WORDS = {
    "en": b"the quick brown fox jumps over the lazy dog and then some more words",
    "de": b"der schnelle braune fuchs springt \xc3\xbcber den faulen hund und noch mehr",
    "fr": b"le renard brun rapide saute par dessus le chien paresseux tr\xc3\xa8s vite",
}


def _meta(model, **items) -> None:
    for key, value in items.items():
        entry = model.metadata_props.add()
        entry.key = "pnetc." + key
        entry.value = json.dumps(value)


def _layers(rng, sizes):
    """Random dense layers [(W [out, in], b [out])], scaled so activations stay O(1)."""
    out = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        w = (rng.standard_normal((b, a)) / np.sqrt(a)).astype(np.float32)
        out.append((w, (0.1 * rng.standard_normal(b)).astype(np.float32)))
    return out


def _head(layers, bits_name: str):
    """Gemm/Relu chain after the bits; returns nodes, initializers, names of the tensors."""
    nodes, inits, names = [], [], []
    cur = bits_name
    for i, (w, b) in enumerate(layers):
        inits += [numpy_helper.from_array(w, f"fc{i}.weight"), numpy_helper.from_array(b, f"fc{i}.bias")]
        out = f"fc{i}" if i < len(layers) - 1 else "logits"
        nodes.append(helper.make_node("Gemm", [cur, f"fc{i}.weight", f"fc{i}.bias"], [out], transB=1, name=f"Gemm_{i}"))
        names.append(out)
        cur = out
        if i < len(layers) - 1:
            nodes.append(helper.make_node("Relu", [out], [f"relu{i}"], name=f"Relu_{i}"))
            names.append(f"relu{i}")
            cur = f"relu{i}"
    return nodes, inits, names


def _float_forward(bits: np.ndarray, layers) -> dict:
    values = {}
    h = bits.astype(np.float64)
    for i, (w, b) in enumerate(layers):
        h = h @ w.T.astype(np.float64) + b
        if i < len(layers) - 1:
            values[f"fc{i}"] = h
            h = np.maximum(h, 0)
            values[f"relu{i}"] = h
        else:
            values["logits"] = h
    return values


def _calibration(values: dict) -> dict:
    return {k: {"min": float(v.min()), "max": float(v.max())} for k, v in values.items()}


def dense_samples(n: int = 200, size: int = 64, seed: int = 1) -> np.ndarray:
    """Random uint8 'images': smooth-ish values so bits vary between samples."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 17, size=(n, size))
    return (base * 15).clip(0, 255).astype(np.uint8)


def text_samples(n: int = 60, seed: int = 2) -> tuple[list[bytes], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    langs = sorted(LANG_WORDS)
    for i in range(n):
        c = i % len(langs)
        words = LANG_WORDS[langs[c]].split()
        k = int(rng.integers(3, len(words)))
        picked = [words[j] for j in rng.choice(len(words), size=k)]
        texts.append(b" ".join(picked))
        labels.append(c)
    texts[0] = b""  # empty text
    texts[1] = b"\xff\xfe invalid \xc3 utf-8 \x80"
    return texts, np.asarray(labels, np.int64)


def make_dense_model(path: Path, *, num_bits: int = 96, kind: str = "binary", hidden=(32,), num_classes: int = 10,
                     input_size: int = 64, seed: int = 0, input_dtype: str = "uint8",
                     input_meta: dict | None = None) -> Path:
    """A pnetc export: uint8 x [batch, N] -> HashProjection -> Gemm/Relu... -> logits.
    input_meta: extra pnetc.input keys (e.g. a per-feature float encoding)."""
    rng = np.random.default_rng(seed)
    samples = dense_samples(256, input_size, seed + 7)
    if input_dtype == "int8":
        samples = (samples.astype(np.int16) - 128).astype(np.int8)
    mean = np.round(samples.mean(axis=0)).astype(np.int16)
    nnz = hashing.nnz_for_density(1.0 / np.sqrt(input_size), input_size) if kind == "ternary" else 0
    spec = hashing.ProjectionSpec(seed=1234 + seed, num_bits=num_bits, kind=kind, input_size=input_size, nnz=nnz)
    layers = _layers(rng, [num_bits, *hidden, num_classes])
    # make the bits-layer weights larger: a {0,1} input of width B has a big mean
    bits = hashing.dense_bits(samples, mean, spec)
    values = _float_forward(bits, layers)
    proj_attrs = dict(seed=spec.seed, num_bits=num_bits, kind=kind, T=num_bits // 8, d=8)
    if kind == "ternary":
        proj_attrs["nnz"] = nnz
    nodes = [helper.make_node("HashProjection", ["x", "mean"], ["bits"], domain="ai.pnetc", name="projection",
                              **proj_attrs)]
    head_nodes, inits, _ = _head(layers, "bits")
    elem = TensorProto.UINT8 if input_dtype == "uint8" else TensorProto.INT8
    graph = helper.make_graph(
        nodes + head_nodes, "pnetc_dense",
        [helper.make_tensor_value_info("x", elem, ["batch", input_size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", num_classes])],
        [numpy_helper.from_array(mean, "mean"), *inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.pnetc", 1)],
                              producer_name="pnetc-test")
    _meta(model, format=1, task="image", labels=[f"c{i}" for i in range(num_classes)],
          input={"dtype": input_dtype, "size": input_size, "shape": [input_size], "scale": 1 / 255, "zero_point": 0,
                 **(input_meta or {})},
          projection={"T": num_bits // 8, "d": 8, "kind": kind, "seed": spec.seed,
                      "density": (nnz / input_size) if nnz else 1.0},
          calibration=_calibration(values), training={"note": "random test model"})
    onnx.save(model, str(path))
    return path


def make_text_model(path: Path, *, num_bits: int = 64, hidden=(16,), seed: int = 3, labels=None,
                    presence_hashes: int = 0) -> Path:
    """A text model; with presence_hashes > 0 its projection is a presence one (format 2)."""
    rng = np.random.default_rng(seed)
    texts, _ = text_samples(60)
    labels = sorted(LANG_WORDS) if labels is None else list(labels)
    num_classes = len(labels)
    pseed = 99 + seed
    layers = _layers(rng, [num_bits, *hidden, num_classes])
    presence = dict(kind="presence", hashes=presence_hashes) if presence_hashes else {}
    projection = hashing.TextProjectionSpec("presence", presence_hashes) if presence else hashing.TextProjectionSpec()
    bits = np.stack([hashing.text_bits(t, pseed, num_bits, projection=projection) for t in texts])
    values = _float_forward(bits, layers)
    nodes = [helper.make_node("TextProjection", ["text"], ["bits"], domain="ai.pnetc", name="projection",
                              seed=pseed, num_bits=num_bits, char_max_n=3, words=1, T=num_bits // 8, d=8, **presence)]
    head_nodes, inits, _ = _head(layers, "bits")
    graph = helper.make_graph(
        nodes + head_nodes, "pnetc_text",
        [helper.make_tensor_value_info("text", TensorProto.STRING, ["batch"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", num_classes])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.pnetc", 1)],
                              producer_name="pnetc-test")
    _meta(model, format=2 if presence else 1, task="text", labels=labels, input={"dtype": "bytes"},
          projection={"T": num_bits // 8, "d": 8, "kind": "text", "seed": pseed},
          calibration=_calibration(values))
    onnx.save(model, str(path))
    return path


def make_foreign_mlp(path: Path, *, input_size: int = 20, hidden: int = 16, num_classes: int = 4, seed: int = 5,
                     opset: int = 17) -> Path:
    """The graph torch.onnx.export gives for Flatten-Linear-BatchNorm-ReLU-Dropout-Linear-Softmax
    (Gemm transB=1, BatchNormalization, Identity on an initializer, MatMul+Add for the head)."""
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((hidden, input_size)) / np.sqrt(input_size)).astype(np.float32)
    b1 = (0.1 * rng.standard_normal(hidden)).astype(np.float32)
    gamma = (1 + 0.1 * rng.standard_normal(hidden)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(hidden)).astype(np.float32)
    mu = (0.1 * rng.standard_normal(hidden)).astype(np.float32)
    var = (1 + 0.1 * rng.random(hidden)).astype(np.float32)
    w2 = (rng.standard_normal((input_size and hidden, num_classes)) / np.sqrt(hidden)).astype(np.float32)
    b2 = (0.1 * rng.standard_normal(num_classes)).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((w1, "1.weight"), (b1, "1.bias"), (gamma, "2.weight"), (beta, "2.bias"), (mu, "2.mean_src"),
              (var, "2.running_var"), (w2, "5.weight_t"), (b2, "5.bias"))]
    nodes = [
        helper.make_node("Identity", ["2.mean_src"], ["2.running_mean"], name="Identity_0"),
        helper.make_node("Flatten", ["x"], ["flat"], name="/0/Flatten", axis=1),
        helper.make_node("Gemm", ["flat", "1.weight", "1.bias"], ["h1"], name="/1/Gemm", transB=1),
        helper.make_node("BatchNormalization", ["h1", "2.weight", "2.bias", "2.running_mean", "2.running_var"],
                         ["bn"], name="/2/BatchNormalization", epsilon=1e-5),
        helper.make_node("Relu", ["bn"], ["r"], name="/3/Relu"),
        helper.make_node("Dropout", ["r"], ["d"], name="/4/Dropout"),
        helper.make_node("MatMul", ["d", "5.weight_t"], ["mm"], name="/5/MatMul"),
        helper.make_node("Add", ["mm", "5.bias"], ["logits"], name="/5/Add"),
        helper.make_node("Softmax", ["logits"], ["y"], name="/6/Softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "foreign_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1, input_size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", num_classes])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="foreign")
    onnx.save(model, str(path))
    return path


def write_dense_npz(path: Path, n: int = 200, input_size: int = 64, num_classes: int = 10, seed: int = 11) -> Path:
    x = dense_samples(n, input_size, seed)
    y = np.arange(n, dtype=np.int64) % num_classes
    np.savez(path, x=x, y=y)
    return path


def write_text_jsonl(path: Path) -> Path:
    texts, y = text_samples(60)
    texts, y = texts[2:], y[2:]  # data files hold non-empty valid UTF-8 text
    labels = sorted(LANG_WORDS)
    with open(path, "w", encoding="utf-8") as f:
        for t, c in zip(texts, y):
            f.write(json.dumps({"text": t.decode("utf-8", errors="replace"), "label": labels[c]}) + "\n")
    return path


TORCH_CNNS = ("cnn", "cnn-bn", "conv1d")


def make_torch_cnn(path: Path, kind: str = "cnn", *, dynamic: bool = False, num_classes: int = 10,
                   seed: int = 0) -> Path:
    """A small torch CNN exported with dynamo=False over 64 input values (pixels 0..255, like the dense data):
    "cnn"     [1, 8, 8]: Conv2d 3x3 pad 1 + ReLU + MaxPool 2, Conv2d 3x3 + ReLU + AvgPool 2, Flatten, Linear
    "cnn-bn"  the same with BatchNorm2d after each conv, kept as BatchNormalization nodes (TrainingMode.PRESERVE)
    "conv1d"  [2, 32]: Conv1d k5 stride 2 pad 2 + BatchNorm1d + ReLU + MaxPool1d 2, Flatten, Linear."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    scale = 1.0 / 255.0
    if kind == "conv1d":
        shape = (2, 32)
        net = nn.Sequential(nn.Conv1d(2, 6, 5, stride=2, padding=2), nn.BatchNorm1d(6), nn.ReLU(), nn.MaxPool1d(2),
                            nn.Flatten(), nn.Linear(6 * 8, num_classes))
    else:
        shape = (1, 8, 8)
        bn = kind == "cnn-bn"
        net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), *([nn.BatchNorm2d(4)] if bn else []), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), *([nn.BatchNorm2d(8)] if bn else []), nn.ReLU(),
                            nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8, num_classes))
    with torch.no_grad():
        first = net[0]
        first.weight.mul_(scale)  # inputs are 0..255
        for m in net.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
    net.eval()
    example = torch.rand(1, *shape) * 255
    extra = dict(input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}) if dynamic else {}
    if kind == "cnn-bn":
        extra["training"] = torch.onnx.TrainingMode.PRESERVE
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, example, str(path), dynamo=False, opset_version=17, **extra)
    return path


def make_stem_model(path: Path, *, input_size: int = 16, stem: int = 8, num_bits: int = 64, num_classes: int = 3,
                    stem_act: str = "Relu", grid: bool = True, calibration: bool = True, seed: int = 0) -> Path:
    """A projection after a learned stem (docs/format.md, "HashProjection after a stem"): float x ->
    Gemm -> Relu (stem_act) -> HashProjection(x_scale, x_zero_point) -> Gemm -> logits.
    grid=False leaves out x_scale/x_zero_point; calibration=False the pnetc.calibration metadata."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, size=(256, input_size))
    (w0, b0), = _layers(rng, [input_size, stem])
    w0 = w0 / 255
    pre = x @ w0.T.astype(np.float64) + b0
    out = np.maximum(pre, 0) if stem_act == "Relu" else 1 / (1 + np.exp(-pre))
    scale = float(np.float32(max(out.max(), 1e-3) / 255.0))
    zero_point = -128
    levels = np.clip(np.rint(out / scale) + zero_point, -128, 127).astype(np.int64)
    mean = np.floor(levels.mean(axis=0) + 0.5).astype(np.int16)
    spec = hashing.ProjectionSpec(seed=99 + seed, num_bits=num_bits, kind="binary", input_size=stem)
    bits = (hashing.project_dense(levels - mean, spec) > 0).astype(np.float64)
    layers = _layers(rng, [num_bits, num_classes])
    values = {"x": x, "stem0": out, **_float_forward(bits, layers)}
    attrs = dict(seed=spec.seed, num_bits=num_bits, kind="binary", T=num_bits // 8, d=8)
    if grid:
        attrs.update(x_scale=scale, x_zero_point=zero_point)
    nodes = [
        helper.make_node("Gemm", ["x", "stem0.weight", "stem0.bias"], ["stem0_pre"], transB=1, name="gemm_stem0"),
        helper.make_node(stem_act, ["stem0_pre"], ["stem0"], name="act_stem0"),
        helper.make_node("HashProjection", ["stem0", "mean"], ["bits"], domain="ai.pnetc", name="projection", **attrs),
    ]
    head_nodes, inits, _ = _head(layers, "bits")
    graph = helper.make_graph(
        nodes + head_nodes, "pnetc_stem",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", input_size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", num_classes])],
        [numpy_helper.from_array(mean, "mean"), numpy_helper.from_array(w0.astype(np.float32), "stem0.weight"),
         numpy_helper.from_array(b0, "stem0.bias"), *inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.pnetc", 1)],
                              producer_name="pnetc-test")
    meta = dict(format=1, task="image", labels=[f"c{i}" for i in range(num_classes)],
                input={"dtype": "float32", "size": input_size, "shape": [input_size], "scale": 1.0, "zero_point": 0},
                projection={"T": num_bits // 8, "d": 8, "kind": "binary", "seed": spec.seed, "density": 1.0},
                training={"note": "random test model with a stem"})
    if calibration:
        meta["calibration"] = _calibration(values)
    _meta(model, **meta)
    onnx.save(model, str(path))
    return path
