"""A projection net with a learned stem: x -> stem -> int8 -> hashed projection -> bits -> head.

The stem (`--stem dense:H` or `--stem conv:C1,C2`) is a dense layer, or 3x3 convolutions each with
ReLU and a 2x2 max-pool, over the quantized input values. Its output is quantized to int8 with a
scale and zero point the net fixes (`freeze`), centered on an integer mean in that int8 domain and
projected with the hashed sign matrix of `pnetc.hashing` (generated, never stored). The sign has
no gradient: the backward pass uses a hardtanh straight-through estimator on the projection sums,
each bit's sum divided by its batch spread, so the stem trains jointly with the head.

Until `freeze` the stem's output is centered on a running mean and projected unquantized (the
range still moves); after it, forward computes exactly the int8 projection the compiler emits
(docs/format.md, "HashProjection after a stem").
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from pnetc import hashing
from pnetc.hashing import ProjectionSpec
from pnetc.training.models import ProjectionHead, fake_quant_activation
from pnetc.training.stemspec import StemSpec, check_stem_input, image_shape

MEAN_MOMENTUM = 0.05


class Stem(nn.Module):
    """The float stem over the quantized input values (scaled by `input_scale` first)."""

    def __init__(self, spec: StemSpec, input_shape: tuple, input_size: int, input_scale: float):
        super().__init__()
        self.spec = spec
        self.input_scale = float(input_scale)
        if spec.kind == "dense":
            self.layers = nn.ModuleList([nn.Linear(input_size, spec.widths[0])])
            self.image = None
        else:
            self.image = image_shape(input_shape)
            chans = [self.image[0], *spec.widths]
            self.layers = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(chans[:-1], chans[1:]))

    def tensor_names(self) -> list[str]:
        """ONNX names of the stem's activations: "stem{i}" after layer i's ReLU, "pool{i}" after its pool."""
        if self.spec.kind == "dense":
            return ["stem0"]
        return [name for i in range(len(self.layers)) for name in (f"stem{i}", f"pool{i}")]

    def forward(self, x: torch.Tensor, record: dict | None = None) -> torch.Tensor:
        h = x.to(torch.float32) * self.input_scale
        if self.image is not None:
            h = h.reshape(-1, *self.image)
        for i, layer in enumerate(self.layers):
            h = F.relu(layer(h))
            if record is not None:
                record[f"stem{i}"] = h
            if self.image is not None:
                h = F.max_pool2d(h, 2)
                if record is not None:
                    record[f"pool{i}"] = h
        return h.reshape(len(h), -1)


class SignSTE(torch.autograd.Function):
    """bit = (acc > 0); backward: hardtanh straight-through on acc / spread (the gradient of
    (clamp(acc / spread, -1, 1) + 1) / 2)."""

    @staticmethod
    def forward(ctx, acc, spread):
        ctx.save_for_backward(acc, spread)
        return (acc > 0).to(acc.dtype)

    @staticmethod
    def backward(ctx, grad):
        acc, spread = ctx.saved_tensors
        inside = (acc.abs() <= spread).to(grad.dtype)
        return grad * inside / (2 * spread), None


class StemProjectionNet(nn.Module):
    """x (quantized input values, float32 [batch, N]) -> logits, through stem, int8, projection, head."""

    def __init__(self, stem: Stem, proj: ProjectionSpec, head: ProjectionHead):
        super().__init__()
        self.stem, self.head, self.proj = stem, head, proj
        signs = hashing.projection_matrix(proj).astype(np.float32)  # regenerated from the spec, not stored
        self.register_buffer("signs", torch.from_numpy(signs), persistent=False)
        size = proj.input_size
        self.register_buffer("running_mean", torch.zeros(size))
        # set by freeze(): the int8 grid of the stem output and the integer centre in it
        self.register_buffer("out_scale", torch.zeros(()))
        self.register_buffer("out_zero_point", torch.zeros((), dtype=torch.int32))
        self.register_buffer("mean_q", torch.zeros(size, dtype=torch.int16))

    @property
    def frozen(self) -> bool:
        return float(self.out_scale) > 0

    # the loop treats the net like a ProjectionHead
    @property
    def qat_ranges(self):
        return self.head.qat_ranges

    @qat_ranges.setter
    def qat_ranges(self, value) -> None:
        self.head.qat_ranges = value

    @property
    def layers(self):
        return self.head.layers

    def tensor_names(self) -> list[str]:
        return ["x", *self.stem.tensor_names(), *self.head.tensor_names()]

    def weight_bytes(self) -> int:
        return 4 * sum(p.numel() for p in self.parameters())

    def quantized(self, y: torch.Tensor) -> torch.Tensor:
        """The stem output's int8 levels (float tensor of integers, straight-through in the range)."""
        scale, zp = float(self.out_scale), int(self.out_zero_point)
        lo, hi = (-128 - zp) * scale, (127 - zp) * scale
        levels = fake_quant_activation(y, lo, hi) / scale + zp
        return levels + (torch.round(levels) - levels).detach()  # exact integers forward (no float residue)

    def projection_sums(self, y: torch.Tensor) -> torch.Tensor:
        if self.frozen:
            centred = self.quantized(y) - self.mean_q.to(y.dtype)
        else:
            if self.training:
                with torch.no_grad():
                    self.running_mean.lerp_(y.mean(0), MEAN_MOMENTUM)
            centred = y - self.running_mean
        return centred @ self.signs.T

    def forward(self, x: torch.Tensor, record: dict | None = None) -> torch.Tensor:
        if record is not None:
            record["x"] = x
        acc = self.projection_sums(self.stem(x, record))
        spread = acc.detach().std(0, keepdim=True).clamp_min(1e-6) if len(acc) > 1 else acc.detach().abs() + 1
        return self.head(SignSTE.apply(acc, spread), record)

    @torch.no_grad()
    def freeze(self, x_train: torch.Tensor, batch: int = 2048) -> None:
        """Fix the int8 grid of the stem output (its range over x_train, as int8 calibration does) and
        the integer centre (the rounded training mean of its int8 levels)."""
        was = self.training
        self.eval()
        self.out_scale.zero_()
        outputs = [self.stem(x_train[i:i + batch]) for i in range(0, len(x_train), batch)]
        hi = max(float(o.max()) for o in outputs)
        lo = min(float(o.min()) for o in outputs)
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        scale = max((hi - lo) / 255.0, 1e-8)
        zp = max(-128, min(127, int(round(-128 - lo / scale))))
        self.out_scale.fill_(scale)
        self.out_zero_point.fill_(zp)
        total = sum(self.quantized(o).to(torch.float64).sum(0) for o in outputs)
        mean = total / len(x_train)
        self.mean_q.copy_(torch.floor(mean + 0.5).clamp(-128, 127).to(torch.int16))
        self.train(was)


def build_stem_net(spec: StemSpec, input_shape: tuple, input_size: int, input_scale: float, proj: ProjectionSpec,
                   head: ProjectionHead) -> StemProjectionNet:
    """The net for `--stem`: proj is the projection of the stem's output (input_size = its width)."""
    check_stem_input(spec, input_shape)
    if proj.input_size != spec.output_size(tuple(input_shape)):
        raise ValueError(f"the projection reads {proj.input_size} values; stem {spec} gives "
                         f"{spec.output_size(tuple(input_shape))}")
    return StemProjectionNet(Stem(spec, tuple(input_shape), input_size, input_scale), proj, head)


def input_scale_for(x_train: np.ndarray) -> float:
    """1 / the largest |value|: the stem sees inputs in [-1, 1] (a scale only, so zero padding stays exact)."""
    peak = float(np.max(np.abs(np.asarray(x_train, np.float64)))) if np.size(x_train) else 0.0
    return 1.0 / peak if peak > 0 and math.isfinite(peak) else 1.0
