"""Folding: drop no-op nodes, merge Mul/Add/BatchNormalization into a neighbouring dense or conv
layer (an affine before a padded conv becomes a 1x1 conv), fuse Dense+Relu and Conv+Relu, strip a trailing Softmax/LogSoftmax, and check the result is a chain."""

from __future__ import annotations

import numpy as np

from pnetc.errors import PnetcError
from pnetc.ir.graph import Activation, Affine, Conv, Dense, Graph, HashProjection, Identity, TextProjection

F32_MAX = float(np.finfo(np.float32).max)


def _to_f32(values: np.ndarray, what: str) -> np.ndarray:
    """A folded float64 result as float32, refused when it is NaN or beyond float32's range
    (numpy would silently give inf, which the C cannot hold and int8 would quantise to 0)."""
    bad = ~(np.abs(values) <= F32_MAX)
    if np.any(bad):
        raise PnetcError(f"{what} gives {values.reshape(-1)[np.argmax(bad.reshape(-1))]:g}, "
                         "which is not a finite float32; the model's constants are too large")
    return values.astype(np.float32)


def fold(graph: Graph) -> None:
    _remove_identities(graph)
    _fold_affines(graph)
    _fuse_relu(graph)
    _strip_trailing_softmax(graph)
    _check_chain(graph)


def _rename(graph: Graph, old: str, new: str) -> None:
    for op in graph.ops:
        op.inputs = [new if i == old else i for i in op.inputs]
    if graph.output == old:
        graph.output = new


def _remove_identities(graph: Graph) -> None:
    for op in [o for o in graph.ops if isinstance(o, Identity)]:
        src, dst = op.inputs[0], op.outputs[0]
        graph.ops.remove(op)
        if dst == graph.output and src == graph.input:
            raise PnetcError("the model computes nothing: its output is its input")
        if dst == graph.output:
            # keep the output's name (calibration and users refer to it): rename the producer's output
            producer = graph.producer(src)
            if producer is not None and len(graph.consumers(src)) == 0:
                producer.outputs = [dst]
                graph.tensors[dst].dtype = graph.tensors[src].dtype
                graph.tensors.pop(src, None)
                continue
        _rename(graph, dst, src)
        graph.tensors.pop(dst, None)


def _merge_affine_chains(graph: Graph) -> None:
    """s2 * (s1 * x + t1) + t2 = (s1 s2) x + (s2 t1 + t2): one Affine per run (e.g. Mul then Sub)."""
    changed = True
    while changed:
        changed = False
        for op in [o for o in graph.ops if isinstance(o, Affine)]:
            users = graph.consumers(op.outputs[0])
            if len(users) == 1 and isinstance(users[0], Affine) and op.outputs[0] != graph.output:
                nxt = users[0]
                what = f"merging the element-wise node '{op.name}' into '{nxt.name}'"
                nxt.shift = _to_f32(nxt.scale.astype(np.float64) * op.shift + nxt.shift, what)
                nxt.scale = _to_f32(nxt.scale.astype(np.float64) * op.scale, what)
                nxt.inputs = list(op.inputs)
                graph.tensors.pop(op.outputs[0], None)
                graph.ops.remove(op)
                changed = True
                break


def _fold_affines(graph: Graph) -> None:
    _merge_affine_chains(graph)
    for op in [o for o in graph.ops if isinstance(o, Affine)]:
        src, dst = op.inputs[0], op.outputs[0]
        prev = graph.producer(src)
        users = graph.consumers(dst)
        scale = op.scale.astype(np.float64)
        shift = op.shift.astype(np.float64)
        if isinstance(prev, Dense) and prev.activation == "none" and len(graph.consumers(src)) == 1:
            # s * (W x + b) + t
            what = f"folding '{op.name}' into layer '{prev.name}'"
            prev.weight = _to_f32(prev.weight.astype(np.float64) * scale[:, None], what)
            prev.bias = _to_f32(prev.bias.astype(np.float64) * scale + shift, what)
            prev.outputs = [dst]
            graph.tensors.pop(src, None)
        elif isinstance(prev, Conv) and prev.activation == "none" and len(graph.consumers(src)) == 1:
            # s_c * (conv(x) + b) + t_c, per output channel
            s_c, t_c = _per_channel(op, prev.out_shape[0], scale, shift, f"after the Conv '{prev.name}'")
            what = f"folding '{op.name}' into layer '{prev.name}'"
            prev.weight = _to_f32(prev.weight.astype(np.float64) * s_c[:, None, None, None], what)
            prev.bias = _to_f32(prev.bias.astype(np.float64) * s_c + t_c, what)
            prev.outputs = [dst]
            graph.tensors.pop(src, None)
        elif len(users) == 1 and isinstance(users[0], Dense):
            # W (s * x + t) + b
            nxt = users[0]
            w = nxt.weight.astype(np.float64)
            what = f"folding '{op.name}' into layer '{nxt.name}'"
            nxt.bias = _to_f32(nxt.bias.astype(np.float64) + w @ shift, what)  # float64 cannot overflow here
            nxt.weight = _to_f32(w * scale[None, :], what)
            nxt.inputs = [src]
            graph.tensors.pop(dst, None)
        elif len(users) == 1 and isinstance(users[0], Conv):
            # conv(s_c * x + t_c) = conv_{W s_c}(x) + sum W t_c, exact only where no tap reads padding
            nxt = users[0]
            s_c, t_c = _per_channel(op, nxt.in_shape[0], scale, shift, f"before the Conv '{nxt.name}'")
            if any(nxt.pads):  # the padding would see the shift: keep the affine, as an exact 1x1 conv
                graph.ops[graph.ops.index(op)] = _pointwise_conv(op, nxt.in_shape, s_c, t_c)
                continue
            w = nxt.weight.astype(np.float64)
            what = f"folding '{op.name}' into layer '{nxt.name}'"
            nxt.bias = _to_f32(nxt.bias.astype(np.float64) + np.einsum("oikl,i->o", w, t_c), what)
            nxt.weight = _to_f32(w * s_c[None, :, None, None], what)
            nxt.inputs = [src]
            graph.tensors.pop(dst, None)
        else:
            raise PnetcError(
                f"cannot fold the Add/Sub/Mul/Div/BatchNormalization node '{op.name}' into a neighbouring "
                "Gemm/MatMul/Conv; pnetc needs element-wise constants next to a dense or conv layer"
            )
        graph.ops.remove(op)


def _pointwise_conv(op: Affine, shape: tuple, scale: np.ndarray, shift: np.ndarray) -> Conv:
    """y[c] = scale[c] * x[c] + shift[c] as a 1x1 convolution with diagonal weights."""
    channels = shape[0]
    weight = np.zeros((channels, channels, 1, 1), np.float32)
    weight[np.arange(channels), np.arange(channels), 0, 0] = scale
    return Conv(op.name, list(op.inputs), list(op.outputs), weight=weight, bias=shift.astype(np.float32),
                in_shape=tuple(shape))


def _per_channel(op: Affine, channels: int, scale: np.ndarray, shift: np.ndarray, where: str):
    """An element-wise scale/shift over [C, H, W] as one value per channel; refused if it varies inside one."""
    s, t = scale.reshape(channels, -1), shift.reshape(channels, -1)
    if not (np.all(s == s[:, :1]) and np.all(t == t[:, :1])):
        raise PnetcError(f"the element-wise node '{op.name}' {where} varies inside a channel; pnetc folds only "
                         "per-channel constants into a convolution")
    return s[:, 0], t[:, 0]


def _fuse_relu(graph: Graph) -> None:
    for op in [o for o in graph.ops if isinstance(o, Activation) and o.func == "relu"]:
        prev = graph.producer(op.inputs[0])
        if isinstance(prev, (Dense, Conv)) and prev.activation == "none" and len(graph.consumers(op.inputs[0])) == 1:
            graph.tensors.pop(prev.outputs[0], None)
            prev.pre_activation = prev.outputs[0]
            prev.outputs = [op.outputs[0]]
            prev.activation = "relu"
            graph.ops.remove(op)


def _strip_trailing_softmax(graph: Graph) -> None:
    """Softmax and LogSoftmax are monotonic, so the class is the argmax of the logits:
    scores are the logits and `output_activation` records what was removed."""
    last = graph.producer(graph.output)
    if isinstance(last, Activation) and last.func in ("softmax", "log_softmax") and len(graph.ops) > 1:
        graph.ops.remove(last)
        graph.tensors.pop(graph.output, None)
        graph.output = last.inputs[0]
        graph.output_activation = last.func


def _check_chain(graph: Graph) -> None:
    current = graph.input
    for i, op in enumerate(graph.ops):
        if op.inputs != [current] or len(op.outputs) != 1:
            raise PnetcError(
                f"node '{op.name}' does not continue a single chain of layers; pnetc compiles chains "
                "(projection, then dense, conv and pooling layers and activations) without branches"
            )
        if isinstance(op, (HashProjection, TextProjection)) and i != 0:
            stem = isinstance(op, HashProjection) and op.stem_quant is not None
            if not stem or any(isinstance(prev, (HashProjection, TextProjection)) for prev in graph.ops[:i]):
                raise PnetcError(f"the projection '{op.name}' must be the first node, or read the float output of "
                                 "a stem of layers (with x_scale and x_zero_point); a model has one projection")
        current = op.outputs[0]
    if current != graph.output:
        raise PnetcError("the graph output is not the end of the chain of layers")
    if not any(isinstance(op, (Dense, Conv)) for op in graph.ops):
        raise PnetcError("the model has no Gemm/MatMul/Conv layer; pnetc compiles classifiers with dense or conv "
                         "layers")
