"""Predict a model's flash, RAM and instructions on a board before training it.

A candidate is described by the sizes its IR will have (inputs N, classes, projection bits
B = T*d and kind, nonzeros per bit, dense widths, precision). Each cost is a non-negative
linear combination of a few size terms, one coefficient per term and board, fitted by
non-negative least squares against real `pnetc bench` measurements. The coefficients live in
costmodel.json beside this module; `python scripts/calibrate_costmodel.py` regenerates them
(docs/training.md, "Budget-aware training", gives the held-out error).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from pnetc.errors import PnetcError

DATA_FILE = Path(__file__).with_name("costmodel.json")
TARGETS = ("flash_bytes", "ram_bytes", "instructions")
FAMILIES = ("projection", "mlp")


@dataclass(frozen=True)
class Candidate:
    """One point of the model family. family "projection": hashed projection of T*d bits (binary, or
    ternary with `density`) then dense `fc` layers; family "mlp": dense `fc` layers on the inputs."""

    features: int                   # N, the model's input size
    classes: int
    family: str = "projection"
    tables: int = 0                 # T
    bits_per_table: int = 0         # d
    kind: str = "binary"
    density: float | None = None    # ternary only
    fc: tuple[int, ...] = ()
    precision: str = "int8"
    stem: str | None = None         # projection only: a learned stem before it, "dense:H" or "conv:C1,C2"
    shape: tuple[int, ...] = ()     # the input's shape ([H, W] images), which a conv stem needs

    @property
    def num_bits(self) -> int:
        return self.tables * self.bits_per_table if self.family == "projection" else 0

    @property
    def projection_inputs(self) -> int:
        """What the projection reads: the stem's output, or the model input."""
        layers = stem_layers(self)
        return layers[-1].outputs if layers else self.features

    @property
    def nonzeros_per_bit(self) -> int:
        """Nonzeros per bit of a ternary projection (as pnetc.hashing rounds them), N for binary."""
        if self.kind != "ternary":
            return self.projection_inputs
        from pnetc.hashing import nnz_for_density

        return nnz_for_density(float(self.density), self.projection_inputs)

    def widths(self) -> list[int]:
        first = self.num_bits if self.family == "projection" else self.features
        return [first, *self.fc, self.classes]

    def label(self) -> str:
        hidden = "-".join(str(w) for w in self.fc) or "0"
        if self.family == "mlp":
            return f"mlp {self.features}-{hidden + '-' if self.fc else ''}{self.classes} {self.precision}"
        kind = "bin" if self.kind == "binary" else f"ter{self.density:g}"
        stem = f"stem {self.stem} " if self.stem else ""
        return f"{stem}T={self.tables} d={self.bits_per_table} {kind} fc={hidden} {self.precision}"

    def slug(self) -> str:
        """The label as a folder name: one folder per candidate, so families never share one."""
        return re.sub(r"[^A-Za-z0-9.]+", "-", self.label()).strip("-")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["fc"] = list(self.fc)
        d["shape"] = list(self.shape)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Candidate":
        d = dict(d)
        d["fc"] = tuple(d.get("fc") or ())
        d["shape"] = tuple(d.get("shape") or ())
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class StemLayer:
    """One stem layer's sizes: weights, multiply-adds, the values it computes (a conv's, before its
    pool), its outputs (after the pool), and the int8 bytes live at once (computed and pooled)."""

    conv: bool
    channels: int  # output channels (units of a dense stem): one bias, multiplier and shift each
    weights: int
    macs: int
    computed: int
    outputs: int

    @property
    def live_bytes(self) -> int:
        return self.computed + (self.outputs if self.conv else 0)


def stem_layers(c: Candidate) -> list[StemLayer]:
    """The layers of `--stem` (pnetc/training/stemspec.py spells the same value): a dense layer, or
    3x3 convolutions (padding 1) each with a 2x2 max-pool over [H, W] images."""
    if not c.stem or c.family != "projection":
        return []
    kind, _, rest = c.stem.partition(":")
    widths = [int(w) for w in rest.split(",")]
    if kind == "dense":
        return [StemLayer(False, widths[0], c.features * widths[0], c.features * widths[0], widths[0], widths[0])]
    if len(c.shape) != 2:
        raise PnetcError(f"a conv stem needs the image shape [H, W]; candidate {c.label()} has {list(c.shape)}")
    h, w = c.shape
    chans, out = 1, []
    for ch in widths:
        conv = ch * h * w
        h, w = h // 2, w // 2
        out.append(StemLayer(True, ch, chans * ch * 9, chans * 9 * conv, conv, ch * h * w))
        chans = ch
    return out


def terms(c: Candidate) -> dict[str, float]:
    """The size terms a cost is linear in. Names say what each term counts; a family's terms that do
    not apply are 0, so one set of coefficients serves every family of a board."""
    widths = c.widths()
    pairs = list(zip(widths[:-1], widths[1:]))
    f32 = c.precision == "float32"
    stem = stem_layers(c)
    weights = sum(a * b for a, b in pairs) + sum(s.weights for s in stem)
    outputs = sum(b for _, b in pairs)
    proj = c.family == "projection"
    binary = proj and c.kind == "binary"
    # the layer over the bits adds one weight row per set bit: about half of them
    over_bits = pairs[0][0] * pairs[0][1] / 2 if proj else 0.0
    later_macs = sum(a * b for a, b in pairs[1:]) if proj else weights
    t = {
        "const": 1.0,
        "layers": float(len(pairs)),
        "weight_bytes_int8": 0.0 if f32 else float(weights),
        "weight_bytes_float32": 4.0 * weights if f32 else 0.0,
        "outputs": float(outputs),
        "inputs": float(c.features),
        "projection_inputs": float(c.projection_inputs) if proj else 0.0,
        "bits": float(c.num_bits),
        "is_float32": 1.0 if f32 else 0.0,
        "is_ternary": 1.0 if proj and not binary else 0.0,
        "is_mlp": 0.0 if proj else 1.0,
        # a hidden layer after the projection (or a dense stem before it) links the dense kernel and its
        # requantisation beside the bit layer's; a hidden layer keeps its int32 accumulators (4 bytes a
        # unit) on the stack
        "projection_hidden": 1.0 if proj and (len(pairs) > 1 or (c.stem or "").startswith("dense")) else 0.0,
        "projection_hidden_bytes": 4.0 * max(c.fc) if proj and c.fc else 0.0,
        "projection_int8": 1.0 if proj and not f32 else 0.0,
        "binary_adds": float(c.num_bits * c.projection_inputs) if binary else 0.0,
        "ternary_adds": float(c.num_bits * c.nonzeros_per_bit) if proj and not binary else 0.0,
        "macs_over_bits_int8": 0.0 if f32 else over_bits,
        "macs_over_bits_float32": over_bits if f32 else 0.0,
        "macs_int8": 0.0 if f32 else float(later_macs),
        "macs_float32": float(later_macs) if f32 else 0.0,
        "widest_pair": float(max(a + b for a, b in pairs)) * (4.0 if f32 else 1.0),
        # a stem (`--stem`): its weights count above; its kernels' code, activations and multiply-adds
        "dense_stem": 1.0 if c.stem and c.stem.startswith("dense") else 0.0,
        "conv_stem": 1.0 if c.stem and c.stem.startswith("conv") else 0.0,
        "stem_channels": float(sum(s.channels for s in stem)),
        "stem_computed": float(sum(s.computed for s in stem)),
        "stem_activation_bytes": float(max((s.live_bytes for s in stem), default=0)) * (4.0 if f32 else 1.0),
        "dense_stem_macs": float(sum(s.macs for s in stem if not s.conv)),
        "conv_stem_macs": float(sum(s.macs for s in stem if s.conv)),
    }
    return t


# which terms each cost may use (a term outside its cost's list would only fit noise)
TERMS_OF = {
    "flash_bytes": ("const", "layers", "weight_bytes_int8", "weight_bytes_float32", "outputs", "projection_inputs",
                    "is_ternary", "is_float32", "is_mlp", "projection_hidden", "dense_stem", "conv_stem",
                    "stem_channels"),
    "ram_bytes": ("const", "bits", "projection_inputs", "projection_int8", "projection_hidden_bytes", "widest_pair",
                  "conv_stem", "stem_activation_bytes"),
    "instructions": ("const", "layers", "outputs", "inputs", "bits", "binary_adds", "ternary_adds",
                     "macs_over_bits_int8", "macs_over_bits_float32", "macs_int8", "macs_float32", "stem_computed",
                     "dense_stem_macs", "conv_stem_macs"),
}
# the terms only a stem has: `fit_stem` fits them on stem benches with the other coefficients kept
STEM_TERMS = ("dense_stem", "conv_stem", "stem_channels", "stem_computed", "stem_activation_bytes",
              "dense_stem_macs", "conv_stem_macs")


@dataclass(frozen=True)
class Cost:
    flash_bytes: int
    ram_bytes: int
    instructions: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Calibration:
    """One board's coefficients (per cost, per term) and the measurements they were fitted on."""

    board: str
    coefficients: dict[str, dict[str, float]]
    measurements: list[dict] = field(default_factory=list)
    heldout: dict = field(default_factory=dict)    # relative errors on candidates left out of the fit
    command: str = ""

    def predict(self, c: Candidate) -> Cost:
        t = terms(c)
        values = {}
        for target in TARGETS:
            coef = self.coefficients[target]
            values[target] = int(math.ceil(sum(coef.get(k, 0.0) * t[k] for k in TERMS_OF[target])))
        return Cost(**values)


def fit(board: str, measurements: list[dict], *, command: str = "") -> Calibration:
    """Non-negative least squares per cost, weighted by 1/measured so the error is relative
    (a 3 KB model matters as much as a 200 KB one)."""
    from scipy.optimize import nnls

    if len(measurements) < 4:
        raise PnetcError(f"a cost model needs at least 4 measurements, got {len(measurements)}")
    cands = [Candidate.from_dict(m["candidate"]) for m in measurements]
    coefficients = {}
    for target in TARGETS:
        names = TERMS_OF[target]
        a = np.array([[terms(c)[k] for k in names] for c in cands], dtype=np.float64)
        y = np.array([float(m[target]) for m in measurements], dtype=np.float64)
        w = 1.0 / np.maximum(y, 1.0)
        scale = np.maximum(np.abs(a).max(axis=0), 1e-12)  # columns of comparable size for nnls
        x, _ = nnls(a * w[:, None] / scale, y * w)
        coefficients[target] = {k: float(v / s) for k, v, s in zip(names, x, scale)}
    return Calibration(board, coefficients, list(measurements), command=command)


def fit_stem(cal: Calibration, measurements: list[dict]) -> Calibration:
    """The stem terms' coefficients, fitted (non-negative, relative error) on stem benches to what the
    board's other coefficients leave unexplained; those stay as they are, so every prediction for a
    model without a stem is unchanged."""
    from scipy.optimize import nnls

    if len(measurements) < 3:
        raise PnetcError(f"fitting the stem terms needs at least 3 measurements, got {len(measurements)}")
    cands = [Candidate.from_dict(m["candidate"]) for m in measurements]
    coefficients = {t: dict(v) for t, v in cal.coefficients.items()}
    for target in TARGETS:
        names = [k for k in TERMS_OF[target] if k in STEM_TERMS]
        rest = {k: v for k, v in coefficients[target].items() if k not in STEM_TERMS}
        a = np.array([[terms(c)[k] for k in names] for c in cands], dtype=np.float64)
        y = np.array([float(m[target]) - sum(rest.get(k, 0.0) * terms(c)[k] for k in TERMS_OF[target])
                      for c, m in zip(cands, measurements)], dtype=np.float64)
        w = 1.0 / np.maximum([float(m[target]) for m in measurements], 1.0)
        scale = np.maximum(np.abs(a).max(axis=0), 1e-12)
        x, _ = nnls(a * w[:, None] / scale, y * w)
        coefficients[target] = {**rest, **{k: float(v / s) for k, v, s in zip(names, x, scale)}}
    return Calibration(cal.board, coefficients, cal.measurements + list(measurements), cal.heldout, cal.command)


def relative_errors(cal: Calibration, measurements: list[dict]) -> dict[str, dict[str, float]]:
    """Per cost: mean and max |predicted - measured| / measured over the measurements."""
    out = {}
    for target in TARGETS:
        errs = [abs(getattr(cal.predict(Candidate.from_dict(m["candidate"])), target) - m[target]) / max(m[target], 1)
                for m in measurements]
        out[target] = {"mean": float(np.mean(errs)), "max": float(np.max(errs)), "n": len(errs)}
    return out


def heldout_split(measurements: list[dict], every: int = 4) -> tuple[list[dict], list[dict]]:
    """Every `every`-th measurement is held out (deterministic, spread over the grid)."""
    fit_on = [m for i, m in enumerate(measurements) if i % every != every - 1]
    held = [m for i, m in enumerate(measurements) if i % every == every - 1]
    return fit_on, held


@lru_cache(maxsize=None)
def _data() -> dict:
    if not DATA_FILE.exists():
        return {}
    return json.loads(DATA_FILE.read_text())


def boards() -> list[str]:
    return sorted(_data().get("boards", {}))


def calibration(board: str) -> Calibration:
    entry = _data().get("boards", {}).get(board)
    if entry is None:
        known = ", ".join(boards()) or "none"
        raise PnetcError(f"no cost model for board {board!r} (calibrated: {known}); "
                         f"run python scripts/calibrate_costmodel.py --board {board}")
    return Calibration(board, entry["coefficients"], entry.get("measurements", []), entry.get("heldout", {}),
                       entry.get("command", ""))


def has_stem_terms(cal: Calibration) -> bool:
    """Whether the board's model was fitted on stem benches (else it cannot price a stem)."""
    return all(k in cal.coefficients[t] for t in TARGETS for k in TERMS_OF[t] if k in STEM_TERMS)


def predict(candidate: Candidate, board: str) -> Cost:
    return calibration(board).predict(candidate)


def parse_size(text, flag: str) -> int:
    """'32K' / '32KB' / '1.5M' / '100k' / 8192 -> an integer (K = 1024 bytes for sizes; for counts use
    parse_count)."""
    return _parse(text, flag, 1024)


def parse_count(text, flag: str) -> int:
    """'100k' / '1.2M' / 50000 -> an integer (k = 1000)."""
    return _parse(text, flag, 1000)


def _parse(text, flag: str, base: int) -> int:
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        s = str(text).strip().upper().removesuffix("B").removesuffix("I")
        mult = 1
        if s[-1:] in ("K", "M", "G"):
            mult = base ** (" KMG".index(s[-1]))
            s = s[:-1]
        try:
            value = float(s) * mult
        except ValueError:
            raise PnetcError(f"{flag} must be a number like 32K or 100000, got {text!r}") from None
    if not (value > 0 and value < float("inf")):
        raise PnetcError(f"{flag} must be > 0, got {text!r}")
    return int(value)
