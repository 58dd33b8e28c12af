"""One output per model: pick the class scores of a multi-output export and drop what does not
lead to them, so classifiers from other tools compile as they are exported.

scikit-learn's exports (skl2onnx) give two outputs: the label (int64 or string, through ArgMax and
ArrayFeatureExtractor) and the probabilities (a tensor, or a ZipMap'd list of maps). pnetc's
device code returns scores and the argmax, so the probabilities are the output: the one float
tensor output, ZipMap undone, or the one named by `--output NAME`. Then the graph is cut to the
nodes and initializers that output needs, and two ai.onnx.ml idioms become standard ops:

* LinearClassifier (LogisticRegression, LinearSVC): MatMul + Add, then Sigmoid (LOGISTIC) or
  Softmax (SOFTMAX);
* a binary head p = Sigmoid(z), Concat(1 - p, p) (MLPClassifier on two classes) becomes
  Softmax over [-z/2, z/2], which is exactly [1 - p, p];
* Normalizer(L1) of a Softmax (multinomial LogisticRegression) is the Softmax itself;
* Scaler (StandardScaler, MinMaxScaler in a Pipeline), y = (x - offset) * scale per feature,
  becomes Sub + Mul by constants, which the frontend folds into the layer after it.
"""

from __future__ import annotations

import numpy as np

from pnetc.errors import PnetcError

ML_DOMAIN = "ai.onnx.ml"
FLOAT = 1  # onnx.TensorProto.FLOAT


def select_output(model, path: str, output: str | None = None) -> None:
    """Leave `model` (a ModelProto, changed in place) with one output: `output`, or the scores."""
    graph = model.graph
    _rewrite_scaler(model, path)
    names = [o.name for o in graph.output]
    if output is not None:
        if output not in names:
            raise PnetcError(f"{path}: --output {output!r} is not an output of the model; its outputs: "
                             f"{', '.join(names)}")
        producers = {out: node for node in graph.node for out in node.output}
        info = next(o for o in graph.output if o.name == output)
        if not _is_scores(info, producers.get(output)):
            others = [o.name for o in graph.output if _is_scores(o, producers.get(o.name))]
            hint = f"; the scores are {', '.join(others)}" if others else ""
            raise PnetcError(f"{path}: output {output!r} is not a float tensor of class scores (a label output?); "
                             f"pnetc compiles the scores and returns their argmax{hint}")
        chosen = output
    elif len(names) <= 1:  # none: the converter says what is missing
        return
    else:
        producers = {out: node for node in graph.node for out in node.output}
        scores = [o.name for o in graph.output if _is_scores(o, producers.get(o.name))]
        if len(scores) != 1:
            raise PnetcError(f"{path}: the model has {len(names)} outputs ({', '.join(names)}); pnetc compiles one, "
                             "the class scores: pick it with --output NAME")
        chosen = scores[0]
    _keep_only(model, chosen, path)


def _is_scores(value_info, producer) -> bool:
    if producer is not None and producer.op_type == "ZipMap":
        return True
    return value_info.type.HasField("tensor_type") and value_info.type.tensor_type.elem_type == FLOAT


def _keep_only(model, name: str, path: str) -> None:
    from onnx import helper

    graph = model.graph
    _record_class_names(model)
    producers = {out: node for node in graph.node for out in node.output}
    node = producers.get(name)
    if node is not None and node.op_type == "ZipMap":  # a list of {class: probability} maps: the tensor before it
        name = node.input[0]
    _rewrite_linear_classifier(model, path)
    _rewrite_binary_head(model)
    _drop_normalizer_after_softmax(model)
    producers = {out: n for n in graph.node for out in n.output}
    needed, stack = set(), [name]
    while stack:
        tensor = stack.pop()
        if tensor in needed:
            continue
        needed.add(tensor)
        if tensor in producers:
            stack.extend(i for i in producers[tensor].input if i)
    kept = [n for n in graph.node if any(o in needed for o in n.output)]
    del graph.node[:]
    graph.node.extend(kept)
    inits = [i for i in graph.initializer if i.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info(name, FLOAT, None)])


def _rewrite_linear_classifier(model, path: str) -> None:
    """LinearClassifier -> MatMul + Add (+ Sigmoid or Softmax) with the same probabilities output."""
    from onnx import helper, numpy_helper

    graph = model.graph
    for index, node in enumerate(list(graph.node)):
        if node.domain != ML_DOMAIN or node.op_type != "LinearClassifier" or len(node.output) < 2:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        classes = len(attrs.get("classlabels_ints") or attrs.get("classlabels_strings") or [])
        coefficients = np.asarray(attrs.get("coefficients", []), np.float32)
        intercepts = np.asarray(attrs.get("intercepts", np.zeros(classes)), np.float32)
        transform = attrs.get("post_transform", b"NONE")
        transform = transform.decode() if isinstance(transform, bytes) else str(transform)
        if not classes or coefficients.size % classes or intercepts.size != classes or \
                transform not in ("NONE", "LOGISTIC", "SOFTMAX"):
            raise PnetcError(f"{path}: node '{node.name or node.output[0]}' (LinearClassifier) has a form pnetc "
                             f"does not read ({classes} classes, {coefficients.size} coefficients, {transform})")
        w, b = f"{node.output[1]}__w", f"{node.output[1]}__b"
        graph.initializer.extend([numpy_helper.from_array(coefficients.reshape(classes, -1).T.copy(), w),
                                  numpy_helper.from_array(intercepts.reshape(1, classes), b)])
        out = node.output[1]
        raw = out if transform == "NONE" else f"{out}__scores"
        new = [helper.make_node("MatMul", [node.input[0], w], [f"{out}__mm"]),
               helper.make_node("Add", [f"{out}__mm", b], [raw])]
        if transform != "NONE":
            new.append(helper.make_node("Sigmoid" if transform == "LOGISTIC" else "Softmax", [raw], [out],
                                        **({"axis": 1} if transform == "SOFTMAX" else {})))
        graph.node.remove(node)
        for offset, n in enumerate(new):
            graph.node.insert(index + offset, n)


def _rewrite_scaler(model, path: str) -> None:
    """Scaler -> Sub(offset) + Mul(scale), per feature (ONNX-ML: y = (x - offset) * scale)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    for index, node in enumerate(list(graph.node)):
        if node.domain != ML_DOMAIN or node.op_type != "Scaler":
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        offset = np.asarray(attrs.get("offset", [0.0]), np.float32).reshape(1, -1)
        scale = np.asarray(attrs.get("scale", [1.0]), np.float32).reshape(1, -1)
        if not offset.size or not scale.size or not (np.all(np.isfinite(offset)) and np.all(np.isfinite(scale))):
            raise PnetcError(f"{path}: node '{node.name or node.output[0]}' (Scaler) needs finite offset and scale")
        out = node.output[0]
        graph.initializer.extend([numpy_helper.from_array(offset, f"{out}__offset"),
                                  numpy_helper.from_array(scale, f"{out}__scale")])
        new = [helper.make_node("Sub", [node.input[0], f"{out}__offset"], [f"{out}__centred"]),
               helper.make_node("Mul", [f"{out}__centred", f"{out}__scale"], [out])]
        graph.node.remove(node)
        for offset_index, n in enumerate(new):
            graph.node.insert(index + offset_index, n)


def _rewrite_binary_head(model) -> None:
    """Concat(1 - Sigmoid(z), Sigmoid(z)) -> Softmax(z @ [[-1/2, 1/2]]): the same two probabilities."""
    from onnx import helper, numpy_helper

    graph = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    producers = {out: n for n in graph.node for out in n.output}
    for node in list(graph.node):
        if node.op_type != "Concat" or len(node.input) != 2:
            continue
        sub, sig = producers.get(node.input[0]), producers.get(node.input[1])
        if sig is None or sub is None or sig.op_type != "Sigmoid" or sub.op_type != "Sub" or \
                list(sub.input)[1:] != [sig.output[0]] or not np.array_equal(consts.get(sub.input[0], 0), 1.0):
            continue
        half = f"{node.output[0]}__half"
        graph.initializer.append(numpy_helper.from_array(np.array([[-0.5, 0.5]], np.float32), half))
        at = list(graph.node).index(node)
        graph.node.remove(node)
        graph.node.insert(at, helper.make_node("Softmax", [f"{node.output[0]}__pair"], [node.output[0]], axis=1))
        graph.node.insert(at, helper.make_node("MatMul", [sig.input[0], half], [f"{node.output[0]}__pair"]))


def _drop_normalizer_after_softmax(model) -> None:
    """An L1 Normalizer of probabilities that already sum to 1 changes nothing: an Identity."""
    from onnx import helper

    graph = model.graph
    producers = {out: n for n in graph.node for out in n.output}
    for index, node in enumerate(list(graph.node)):
        if node.domain != ML_DOMAIN or node.op_type != "Normalizer":
            continue
        norm = {a.name: helper.get_attribute_value(a) for a in node.attribute}.get("norm", b"")
        source = producers.get(node.input[0])
        if norm in (b"L1", "L1") and source is not None and source.op_type == "Softmax":
            graph.node.remove(node)
            graph.node.insert(index, helper.make_node("Identity", [node.input[0]], [node.output[0]]))


def _record_class_names(model) -> None:
    """The class names the exporter stored (ZipMap or LinearClassifier attributes, the label
    lookup table) become pnetc.labels, unless the model has them already: data labels are
    matched to the model's classes by name."""
    import json

    from onnx import helper, numpy_helper

    if any(p.key == "pnetc.labels" for p in model.metadata_props):
        return
    names = None
    consts = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        for key in ("classlabels_strings", "classlabels_int64s", "classlabels_ints"):
            if attrs.get(key):
                names = attrs[key]
        if node.op_type == "ArrayFeatureExtractor" and node.input[0] in consts and names is None:
            names = numpy_helper.to_array(consts[node.input[0]]).reshape(-1).tolist()
        if names is not None:
            break
    if names:
        from onnx import StringStringEntryProto

        text = [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v) for v in names]
        model.metadata_props.append(StringStringEntryProto(key="pnetc.labels", value=json.dumps(text)))
