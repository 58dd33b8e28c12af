"""The IR: small typed dataclasses for tensors and ops.

A graph is a topologically ordered list of ops over named tensors. Shapes are per
sample (the batch dimension is implicit); every activation is stored as a flat vector:
convolution and pooling ops carry their (C, H, W) geometry and read and write NCHW order,
so a Flatten between them and a dense layer moves no data.
Weights stay float32 on the op; the quantize pass adds integer fields beside them,
so one graph can be interpreted in float32 and in its compiled precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from pnetc.errors import PnetcError

PRECISIONS = ("float32", "int8", "binary")
PROJECTION_MODES = ("hash", "table")


def check_modes(precision: str, projection: str) -> None:
    """The one check of --precision and --projection: the compiler calls it before it reads a
    model (fail fast), the lowering pass for callers that run the passes themselves."""
    if precision not in PRECISIONS:
        raise PnetcError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if projection not in PROJECTION_MODES:
        raise PnetcError(f"unknown projection mode {projection!r}; choose one of {', '.join(PROJECTION_MODES)}")


@dataclass
class QuantParams:
    """Per-tensor asymmetric int8: real = scale * (q - zero_point)."""

    scale: float
    zero_point: int


@dataclass
class FeatureQuant:
    """Per-feature int8 of a float model input: real x_i = scale[i] * (q_i - zero_point[i]).
    Only for an input read by one int8 dense layer, which folds the scales into its weights and
    the zero points into its bias (passes/quantize.py)."""

    scale: np.ndarray  # float32 [N], normal positive
    zero_point: np.ndarray  # int32 [N]


@dataclass
class Tensor:
    name: str
    size: int  # elements per sample (0 for text input)
    dtype: str  # "uint8" | "int8" | "float32" | "bytes" | "bits" | "int32"
    quant: Optional[QuantParams] = None
    feature_quant: Optional[FeatureQuant] = None  # the model input quantized per feature (then quant is None)

    @property
    def shape(self) -> tuple[int, ...]:
        """Per-sample shape: activations are flat vectors (text input: ())."""
        return (self.size,) if self.dtype != "bytes" else ()


@dataclass
class Op:
    name: str
    inputs: list[str]
    outputs: list[str]

    @property
    def kind(self) -> str:
        return type(self).__name__


@dataclass
class HashProjection(Op):
    """Centered quantized input -> sign bits (docs/format.md sections 2-3)."""

    seed: int = 0
    num_bits: int = 0
    proj_kind: str = "binary"  # "binary" | "ternary"
    nnz: int = 0
    input_size: int = 0
    input_dtype: str = "uint8"  # "float32": a stem's output, read as int8 on the grid below
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    stem_quant: Optional["QuantParams"] = None  # float input: its int8 scale and zero point (the model's own)
    T: int = 0
    d: int = 0
    table: bool = False  # set by the lowering pass for --projection table


@dataclass
class TextProjection(Op):
    seed: int = 0
    num_bits: int = 0
    char_max_n: int = 3
    words: int = 1
    T: int = 0
    d: int = 0
    proj_kind: str = "simhash"  # "simhash" (format 1) | "presence" (format 2: each feature sets `hashes` bits)
    hashes: int = 0


@dataclass
class DenseQuant:
    """Integer form of a dense layer (TFLite / CMSIS-NN convention)."""

    w_q: np.ndarray  # int8 [out, in] (dense, bitsum) ; for xnor: uint32 packed signs [out, words]
    w_scale: np.ndarray  # float64 [out], per-channel weight scale
    bias_q: np.ndarray  # int32 [out]
    mult: np.ndarray  # int32 [out]
    shift: np.ndarray  # int32 [out]
    in_offset: int
    out_offset: int
    act_min: int
    act_max: int


@dataclass
class Dense(Op):
    """y = W x + b, W float32 [out, in]. `activation` is a fused ReLU ("relu") or "none".

    lowering: "dense" (activations in), "bitsum" (first layer over bits: column sums,
    no multiplies) or "xnor" (+-1 weights: XNOR + popcount, per-channel scale `alpha`).
    """

    weight: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    bias: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    activation: str = "none"
    lowering: str = "dense"
    alpha: Optional[np.ndarray] = None  # xnor: per-channel scale of the +-1 weights
    pre_activation: Optional[str] = None  # name of the output before a fused ReLU (calibration fallback)
    quant: Optional[DenseQuant] = None

    @property
    def in_features(self) -> int:
        return int(self.weight.shape[1])

    @property
    def out_features(self) -> int:
        return int(self.weight.shape[0])


@dataclass
class Conv(Op):
    """2-D convolution over NCHW activations (a 1-D one has H = 1): W float32 [out_c, in_c, k_h, k_w].
    `activation` is a fused ReLU ("relu") or "none"; `quant` holds the int8 form with w_q [out_c, in_c, k_h, k_w]."""

    weight: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 1, 1), np.float32))
    bias: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    in_shape: tuple = (0, 0, 0)  # (in_c, H, W)
    strides: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)  # top, left, bottom, right (ONNX order)
    dilations: tuple = (1, 1)
    activation: str = "none"
    pre_activation: Optional[str] = None
    quant: Optional[DenseQuant] = None

    @property
    def window(self):
        from pnetc.kernels import window

        return window(self.in_shape[1:], self.weight.shape[2:], self.strides, self.pads, self.dilations)

    @property
    def out_shape(self) -> tuple:
        w = self.window
        return (int(self.weight.shape[0]), w.out_h, w.out_w)

    @property
    def taps(self) -> int:
        """Products summed per output: in_c * k_h * k_w."""
        return int(np.prod(self.weight.shape[1:]))


@dataclass
class Pool(Op):
    """Max or average pooling over NCHW activations (channels unchanged)."""

    mode: str = "max"  # "max" | "avg"
    in_shape: tuple = (0, 0, 0)  # (C, H, W)
    kernel: tuple = (1, 1)
    strides: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)
    dilations: tuple = (1, 1)
    ceil_mode: bool = False
    count_include_pad: bool = False

    @property
    def window(self):
        from pnetc.kernels import window

        return window(self.in_shape[1:], self.kernel, self.strides, self.pads, self.dilations, self.ceil_mode)

    @property
    def out_shape(self) -> tuple:
        w = self.window
        return (int(self.in_shape[0]), w.out_h, w.out_w)


@dataclass
class Activation(Op):
    """Element-wise or vector activation: relu, sigmoid, tanh, softmax, log_softmax.
    int8 sigmoid/tanh run as a 256-entry table (`lut`)."""

    func: str = "relu"
    lut: Optional[np.ndarray] = None


@dataclass
class Affine(Op):
    """y = x * scale + shift (per feature or scalar): Mul/Add by constants and
    BatchNormalization. The fold pass merges it into a neighbouring Dense."""

    scale: np.ndarray = field(default_factory=lambda: np.ones(1, np.float32))
    shift: np.ndarray = field(default_factory=lambda: np.zeros(1, np.float32))


@dataclass
class Identity(Op):
    """Shape-only or no-op nodes (Identity, Dropout, Flatten, Reshape, Cast to float)."""

    source_op: str = "Identity"


@dataclass
class ModelInfo:
    """What the frontend learnt besides the ops: pnetc metadata or foreign-model facts."""

    task: str = "features"  # "image" | "features" | "text"
    labels: list[str] = field(default_factory=list)
    input_spec: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)
    projection: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    pnetc_format: bool = False  # a pnetc export (with a projection op)
    opset: int = 0
    sha256: str = ""
    source: str = ""


@dataclass
class Buffer:
    """One arena allocation of the memory plan."""

    name: str
    nbytes: int
    offset: int
    first: int  # index of the first step that writes it
    last: int  # index of the last step that reads it


@dataclass
class MemoryPlan:
    buffers: dict[str, Buffer]
    arena_bytes: int
    alignment: int


@dataclass
class Graph:
    input: str
    output: str
    tensors: dict[str, Tensor]
    ops: list[Op]
    info: ModelInfo
    output_activation: Optional[str] = None  # a trailing softmax/log_softmax removed from the chain
    precision: str = "float32"
    projection_mode: str = "hash"
    plan: Optional[MemoryPlan] = None
    program: Optional[object] = None  # the lowered kernel calls (pnetc.ir.calls.Program), set last

    @property
    def projection(self) -> Optional[Op]:
        for op in self.ops:
            if isinstance(op, (HashProjection, TextProjection)):
                return op
        return None

    @property
    def num_bits(self) -> int:
        p = self.projection
        return int(p.num_bits) if p is not None else 0

    @property
    def num_classes(self) -> int:
        return int(self.tensors[self.output].size)

    @property
    def input_size(self) -> int:
        return int(self.tensors[self.input].size)

    @property
    def float_input(self) -> bool:
        """The input is float features that the compiled int8 model quantizes itself (foreign models,
        and projection nets with a stem); pnetc projection nets without one take integer levels."""
        return self.tensors[self.input].dtype == "float32"

    @property
    def input_kind(self) -> str:
        return "text" if self.tensors[self.input].dtype == "bytes" else "dense"

    def producer(self, tensor: str) -> Optional[Op]:
        for op in self.ops:
            if tensor in op.outputs:
                return op
        return None

    def consumers(self, tensor: str) -> list[Op]:
        return [op for op in self.ops if tensor in op.inputs]

    def dense_layers(self) -> list[Dense]:
        return [op for op in self.ops if isinstance(op, Dense)]
