"""A plain MLP on the inputs, the budget search's other model family (no projection).

Trained on the labels alone (cross-entropy, Adam, the same seeds and split as `pnetc train`), exported
as ONNX with a float input "x" holding the data set's quantized values (the trainer.onnx convention),
and with calib.npz beside it: the training samples int8 quantisation calibrates on.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pnetc.errors import PnetcError

CALIB_SAMPLES = 2000


def _net(inputs: int, hidden: list[int], classes: int, mean: np.ndarray, std: float) -> nn.Sequential:
    widths = [inputs, *hidden, classes]
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    net = nn.Sequential(*layers[:-1])
    # fold the standardisation into the first layer, so the exported graph is Gemm/Relu only
    net.register_buffer("in_mean", torch.as_tensor(mean, dtype=torch.float32))
    net.in_std = float(std)
    return net


def _fold_input_scaling(net: nn.Sequential) -> None:
    first = net[0]
    with torch.no_grad():
        w = first.weight / net.in_std
        first.bias -= w @ net.in_mean
        first.weight.copy_(w)


def train_mlp(dataset: str, out: str | Path, *, hidden: list[int], epochs: int = 10, batch_size: int = 64,
              lr: float = 2e-3, seed: int = 0, subset: int | None = None, data_dir: str | None = None) -> dict:
    """Train, export OUT/model.onnx and OUT/calib.npz; return accuracy and sizes. `subset`: the first
    (shuffled) training samples only, for short proxy runs."""
    from pnetc.datasets import load_dataset

    ds = load_dataset(dataset, data_dir=data_dir)
    if ds.task == "text":
        raise PnetcError("an MLP student needs dense inputs; text data sets use the projection family")
    started = time.time()
    x_train = np.asarray(ds.x_train).reshape(len(ds.y_train), -1).astype(np.float32)
    x_test = np.asarray(ds.x_test).reshape(len(ds.y_test), -1).astype(np.float32)
    y_train = np.asarray(ds.y_train, dtype=np.int64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y_train))
    if subset:
        order = order[:subset]
    torch.manual_seed(seed)
    classes = len(ds.labels)
    mean = x_train.mean(axis=0)
    std = float(x_train.std()) or 1.0
    net = _net(x_train.shape[1], list(hidden), classes, mean, std)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    xt = (torch.from_numpy(x_train[order]) - net.in_mean) / std
    yt = torch.from_numpy(y_train[order])
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(yt), generator=gen)
        for i in range(0, len(yt), batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad()
            nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
    _fold_input_scaling(net)
    net.eval()
    with torch.no_grad():
        pred = net(torch.from_numpy(x_test)).argmax(1).numpy()
    accuracy = float(np.mean(pred == np.asarray(ds.y_test)))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = out / "model.onnx"
    torch.onnx.export(net, (torch.zeros(1, x_train.shape[1]),), str(model), input_names=["x"],
                      output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=17, dynamo=False)
    calib_idx = np.sort(rng.choice(len(x_train), size=min(CALIB_SAMPLES, len(x_train)), replace=False))
    calib = out / "calib.npz"
    np.savez(calib, x=x_train[calib_idx])
    result = {"model": str(model), "calib": str(calib), "accuracy": accuracy, "hidden": list(hidden),
              "epochs": epochs, "seconds": round(time.time() - started, 2),
              "weight_bytes": 4 * sum(p.numel() for p in net.parameters())}
    (out / "student.json").write_text(json.dumps(result, indent=1) + "\n")
    return result
