"""Limits on every size a model file can set (table in docs/hardening.md, "Model files").

Models come from strangers. Each limit keeps the compiler, the numpy reference (pnetc.kernels)
and the generated C bounded in memory and time, and keeps the C's int32 arithmetic exact.
All are far above the models pnetc trains (digits: 64 inputs, 160 bits, 128 hidden units).

int32 bounds the limits guarantee (|x| <= 255 after centring, |int8 weight| <= 127):
  binary projection   |2*sum_{s=+1} x - sum x| <= 2 * N * 255          <= 2^17 * 255   < 2^25
  ternary projection  |sum_j s_j x_j| (and the DSP path's all - 2*neg) <= 3 * nnz * 255 < 2^26
  bitsum / xnor       |bias_q| + B * 127 <= 2^30 + 2^16 * 127                           < 2^31 - 1
  int8 dense          |bias_q| + in * 255 * 127 <= 2^30 + 2^15 * 32385 = 2,135,015,424 < 2^31 - 1
  int8 conv           the same bound with in = in_c * k_h * k_w, the products summed per output
  ternary loop index  j + 2 <= nnz + 1 <= 2^16 + 1, and table offsets k * nnz <= 2^23
"""

from __future__ import annotations

from pnetc.errors import PnetcError

MAX_INPUT_SIZE = 1 << 16  # N: the ternary index ((u * N) >> 15) must fit 32 bits (docs/format.md 3.2)
MAX_BITS = 1 << 16  # projection bits B, as `pnetc train` allows
MAX_SEED = (1 << 32) - 1  # seeds are uint32
MAX_CHAR_N = 5  # char n-gram order of the text featurizer
TEXT_PROJECTIONS = ("simhash", "presence")  # TextProjection kinds (pnetc.hashing.TEXT_PROJECTIONS)
MAX_TEXT_HASHES = 8  # bits one feature sets in a presence projection (PNET_TEXT_MAX_HASHES)
MAX_PROJECTION_WORK = 1 << 23  # sign * input terms per inference: B * N (binary), B * nnz (ternary)
MAX_LAYER_WIDTH = 1 << 16  # inputs or outputs of one dense layer
MAX_INT8_DENSE_INPUTS = 1 << 15  # int8 dense layer inputs: keeps the int32 accumulator exact (above)
MAX_INT8_CONV_TAPS = MAX_INT8_DENSE_INPUTS  # in_c * k_h * k_w of an int8 conv: the same int32 bound
MAX_CONV_MACS = 1 << 24  # multiply-adds of all conv layers per inference (the reference's time)
MAX_WINDOW_STRIDE = 1 << 8  # conv/pool stride along one axis
MAX_BIAS_Q = 1 << 30  # |int32 bias| after quantisation (the other half of the accumulator bound)
MAX_DENSE_WEIGHTS = 1 << 22  # weights of all dense layers = multiply-adds per inference (16 MiB as float32)
MAX_TENSOR_DATA_BYTES = 1 << 26  # the .onnx file plus all external data it references (64 MiB)
MAX_NODES = 1024  # ONNX nodes; the passes are quadratic in the node count
MAX_FOLD_ELEMENTS = 1 << 26  # one constant-folded tensor: a tiny file must not make numpy allocate gigabytes


def check_limit(where: str, what: str, value: int, limit: int, low: int = 0) -> None:
    """One-line error naming the attribute, its value and the limit when value is outside [low, limit]."""
    if not low <= value <= limit:
        raise PnetcError(f"{where}{what}={value} is outside the supported range {low}..{limit}")
