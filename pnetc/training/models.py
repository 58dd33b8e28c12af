"""Torch models: the exact projection layer, the projection net head, and the trainers.

The projection is fixed (not learned). Its bits equal `pnetc.hashing` exactly: the inputs
are integers, the signs are the int8 matrix of `hashing.projection_matrix`, and the sums
run in float64, which is exact for integers below 2^53 (|acc| <= 2 * 510 * N here).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from pnetc import hashing
from pnetc.hashing import ProjectionSpec


class DenseProjection(nn.Module):
    """q (integers [batch, N]) -> bits float32 [batch, B] in {0, 1}: bit_k = (sum_i S[k,i](q_i - mean_i) > 0)."""

    def __init__(self, spec: ProjectionSpec, mean: np.ndarray):
        super().__init__()
        self.spec = spec
        signs = hashing.projection_matrix(spec)  # int8 [B, N]
        # Regenerated from the spec, so not stored in checkpoints.
        self.register_buffer("signs", torch.from_numpy(signs.astype(np.int8)), persistent=False)
        self.register_buffer("mean", torch.from_numpy(np.asarray(mean, dtype=np.int16).copy()))

    def accumulators(self, q: torch.Tensor) -> torch.Tensor:
        if q.dtype.is_floating_point:
            raise TypeError("projection inputs must be integers: quantize before projecting")
        x = q.to(torch.float64) - self.mean.to(torch.float64)
        return x @ self.signs.to(torch.float64).T

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return (self.accumulators(q) > 0).to(torch.float32)


# ---------------------------------------------------------------------------
# Quantization-aware training helpers (fake int8, straight-through)
# ---------------------------------------------------------------------------


def fake_quant_weight(w: torch.Tensor) -> torch.Tensor:
    """Symmetric per-output-channel int8 (scale = max|w| / 127), as the int8 compiler quantizes."""
    scale = (w.detach().abs().amax(dim=1) / 127.0).clamp_min(1e-12).to(torch.float32)
    zero = torch.zeros(w.shape[0], dtype=torch.int32, device=w.device)
    return torch.fake_quantize_per_channel_affine(w, scale, zero, 0, -127, 127)


def fake_quant_activation(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Asymmetric per-tensor int8 over [lo, hi] (the range always includes 0)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max((hi - lo) / 255.0, 1e-12)
    zero_point = int(round(-128 - lo / scale))
    zero_point = max(-128, min(127, zero_point))
    return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, -128, 127)


def low_bit_grid(w: torch.Tensor, bits: int) -> torch.Tensor:
    """w rounded to its low-bit grid per output row (no gradient): the exported weights.

    4: k * s, k in -7..7, s = max|w| / 7. 1: +-alpha, alpha = mean|w| (XNOR-Net). The compiler
    packs these values exactly (pnetc/ir/passes/lowbit.py)."""
    w = w.detach()
    mag = w.abs()
    if bits == 4:
        scale = (mag.amax(dim=1, keepdim=True) / 7.0).clamp_min(1e-12)
        return torch.clamp(torch.round(w / scale), -7, 7) * scale
    if bits == 1:
        alpha = mag.mean(dim=1, keepdim=True).clamp_min(1e-12)
        return torch.where(w >= 0, alpha, -alpha)
    raise ValueError(f"no low-bit grid for {bits} bits")


def low_bit_weight(w: torch.Tensor, bits: int) -> torch.Tensor:
    """The grid values forward, a straight-through (identity) gradient backward to the float w."""
    return w + (low_bit_grid(w, bits) - w).detach()


class ProjectionHead(nn.Module):
    """bits -> [Linear -> ReLU]* -> Linear -> logits. Exported as Gemm/Relu nodes.

    Tensor names (shared with the ONNX export and the calibration table): the input is
    "bits", hidden layer i outputs "fc{i}" (Gemm) and "relu{i}" (Relu), the last Gemm "logits".
    """

    def __init__(self, num_bits: int, hidden: list[int], num_classes: int, weight_bits: int = 8,
                 first_layer_bits: int = 8):
        super().__init__()
        self.weight_bits = int(weight_bits)  # layers after the first (8: float weights, int8 at compile time)
        self.first_layer_bits = int(first_layer_bits)  # 1: +-alpha, what --precision binary compiles exactly
        widths = [num_bits, *hidden, num_classes]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.qat_ranges: dict[str, tuple[float, float]] | None = None  # set to enable fake quant

    def tensor_names(self) -> list[str]:
        names = ["bits"]
        for i in range(len(self.layers) - 1):
            names += [f"fc{i}", f"relu{i}"]
        return names + ["logits"]

    def forward(self, bits: torch.Tensor, record: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        h = bits
        q = self.qat_ranges if self.training else None
        if record is not None:
            record["bits"] = h
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            w = self.deployed_weight(i) if self._bits(i) < 8 else (fake_quant_weight(layer.weight) if q else layer.weight)
            h = F.linear(h, w, layer.bias)
            name = "logits" if i == last else f"fc{i}"
            if q and name in q:
                h = fake_quant_activation(h, *q[name])
            if record is not None:
                record[name] = h
            if i != last:
                h = F.relu(h)
                if record is not None:
                    record[f"relu{i}"] = h
        return h

    def _bits(self, i: int) -> int:
        return self.first_layer_bits if i == 0 else self.weight_bits

    def deployed_weight(self, i: int) -> torch.Tensor:
        """Layer i's weights as trained: on its low-bit grid (straight-through) when it has one."""
        w = self.layers[i].weight
        return low_bit_weight(w, self._bits(i)) if self._bits(i) < 8 else w

    def exported_weight(self, i: int) -> torch.Tensor:
        """Layer i's weights as exported: exactly the grid values for low-bit layers."""
        w = self.layers[i].weight.detach()
        return low_bit_grid(w, self._bits(i)) if self._bits(i) < 8 else w

    def weight_bytes(self) -> int:
        """float32 bytes of all weights and biases."""
        return 4 * sum(p.numel() for p in self.parameters())


# ---------------------------------------------------------------------------
# Trainers (full-precision teachers)
# ---------------------------------------------------------------------------


class InputAffine(nn.Module):
    """Folded input normalisation: float32 quantized values q -> (q - zero_point) * scale, standardised."""

    def __init__(self, scale: float, offset: float):
        super().__init__()
        self.register_buffer("scale", torch.tensor(float(scale), dtype=torch.float32))
        self.register_buffer("offset", torch.tensor(float(offset), dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale - self.offset


def input_affine_for(x_train: np.ndarray) -> InputAffine:
    """Standardise with one global mean/std of the quantized training values."""
    x = np.asarray(x_train, dtype=np.float64)
    mu, sd = float(x.mean()), float(x.std()) or 1.0
    return InputAffine(1.0 / sd, mu / sd)


class MLPTrainer(nn.Module):
    def __init__(self, norm: InputAffine, input_size: int, num_classes: int, hidden=(256, 256)):
        super().__init__()
        self.norm = norm
        widths = [input_size, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.norm(x.to(torch.float32)))


class CNNTrainer(nn.Module):
    """Two 3x3 conv blocks (16, 32 channels, each ReLU + 2x2 max-pool), then FC 128 -> classes."""

    def __init__(self, norm: InputAffine, input_shape: tuple, num_classes: int):
        super().__init__()
        self.norm = norm
        if len(input_shape) == 2:
            channels, height, width = 1, *input_shape
        else:
            height, width, channels = input_shape
        self.shape = (channels, height, width)
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        flat = 32 * (height // 4) * (width // 4)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(flat, 128), nn.ReLU(), nn.Linear(128, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, h, w = self.shape
        x = self.norm(x.to(torch.float32))
        if c == 1:
            x = x.reshape(-1, 1, h, w)
        else:
            x = x.reshape(-1, h, w, c).permute(0, 3, 1, 2)
        return self.classifier(self.features(x))


class LSTMTrainer(nn.Module):
    """Bytes (ids 1..256, 0 = pad) -> embedding 32 -> LSTM 64 -> masked mean over time -> classes."""

    def __init__(self, num_classes: int, embed: int = 32, hidden: int = 64):
        super().__init__()
        self.embed = nn.Embedding(257, embed, padding_idx=0)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        ids, lengths = x
        h, _ = self.lstm(self.embed(ids))
        mask = (torch.arange(ids.shape[1], device=ids.device)[None, :] < lengths[:, None]).to(h.dtype)
        pooled = (h * mask[:, :, None]).sum(1) / lengths[:, None].to(h.dtype)
        return self.out(pooled)


def _time_mask(ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """[batch, L] bool: position t holds a byte of the text (t < length)."""
    return torch.arange(ids.shape[1], device=ids.device)[None, :] < lengths[:, None]


class CharCNNTrainer(nn.Module):
    """Text `--trainer cnn`: bytes (ids 1..256, 0 = pad) -> embedding 32 -> Conv1d 128 (width 5)
    -> ReLU -> max over the real time steps -> classes."""

    def __init__(self, num_classes: int, embed: int = 32, channels: int = 128, width: int = 5):
        super().__init__()
        self.embed = nn.Embedding(257, embed, padding_idx=0)
        self.conv = nn.Conv1d(embed, channels, width, padding=width // 2)
        self.out = nn.Linear(channels, num_classes)

    def forward(self, x: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        ids, lengths = x
        h = F.relu(self.conv(self.embed(ids).transpose(1, 2))).transpose(1, 2)  # [batch, L, channels]
        h = h.masked_fill(~_time_mask(ids, lengths)[:, :, None], 0.0)  # after ReLU, 0 is the floor
        return self.out(h.amax(1))


class HashedNgramTrainer(nn.Module):
    """Text `--trainer mlp`: a fastText-style hashed n-gram MLP. Every byte n-gram (n = 1..max_n)
    of the raw bytes is hashed to one of `buckets` rows of an embedding table; the mean of the
    rows -> Linear -> ReLU -> classes. The hash is computed in the graph from the same byte ids
    as the LSTM's, so the trainer needs no vocabulary."""

    def __init__(self, num_classes: int, buckets: int = 131071, embed: int = 64, hidden: int = 128, max_n: int = 4):
        super().__init__()
        self.buckets, self.max_n = buckets, max_n
        self.embed = nn.Embedding(buckets, embed)
        self.hidden = nn.Linear(embed, hidden)
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        ids, lengths = x
        valid = _time_mask(ids, lengths)
        total = torch.zeros(ids.shape[0], self.embed.embedding_dim, device=ids.device)
        count = torch.zeros(ids.shape[0], 1, device=ids.device)
        key = torch.zeros_like(ids)
        for n in range(1, self.max_n + 1):
            # key of the n-gram starting at t: bytes t..t+n-1 in base 257 (< 257^4, no overflow)
            key = key[:, :-1] * 257 + ids[:, n - 1:] if n > 1 else ids
            mask = valid[:, n - 1:].to(total.dtype)[:, :, None]
            rows = self.embed((key * 40503 + n * 7919) % self.buckets)
            total = total + (rows * mask).sum(1)
            count = count + mask.sum(1)
        return self.out(F.relu(self.hidden(total / count.clamp_min(1.0))))


class NoTrainer(nn.Module):
    """`--trainer none`: no teacher (the loop never calls it: the mode is projection-only)."""

    def forward(self, x):  # pragma: no cover - unreachable by construction
        raise RuntimeError("--trainer none has no trainer to run")


def build_trainer(kind: str, x_train, input_shape: tuple, num_classes: int) -> nn.Module:
    if kind == "none":
        return NoTrainer()
    if kind == "lstm":
        return LSTMTrainer(num_classes)
    if tuple(input_shape) == ():  # text: the trainers read the raw bytes
        return CharCNNTrainer(num_classes) if kind == "cnn" else HashedNgramTrainer(num_classes)
    norm = input_affine_for(x_train)
    if kind == "cnn":
        return CNNTrainer(norm, tuple(input_shape), num_classes)
    return MLPTrainer(norm, int(np.prod(np.asarray(x_train).shape[1:])), num_classes)


def trainer_weight_bytes(model: nn.Module) -> int:
    return 4 * sum(p.numel() for p in model.parameters())
