"""Float features -> integer input levels: the ONE rounding of pnetc (docs/format.md, "Input encoding").

    t = float32(x) / float32(scale)              IEEE float32 division (no float64 anywhere)
    t = -2^24 if t is NaN or t < -2^24; t = 2^24 if t > 2^24
    q = clamp(round_half_even(t) + zero_point, qmin, qmax)

The generated `<name>_quantize` (templates/model.c.j2) computes the same steps in C float
arithmetic, so both give the same bytes for every float32 input, halves, NaN and infinities
included. Every consumer (train, eval, verify, run, bench, predict, the Python API) quantizes
through `FeatureEncoding.quantize`; nothing else rounds inputs.

A model trained on float features stores one scale and zero point per feature, fitted on the
training split by `fit_features` (min -> level 0, max -> level 255); older models store one
`scale`/`zero_point` for all features, which reads as the same encoding repeated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pnetc.errors import PnetcError

T_LIMIT = np.float32(2.0**24)  # |t| beyond this is clamped first: every float32 below it rounds exactly
MAX_ZERO_POINT = 2**24  # keeps round_half_even(t) + zero_point inside int32
F32_TINY = float(np.finfo(np.float32).tiny)
LEVELS = {"uint8": (0, 255), "int8": (-128, 127)}


@dataclass(frozen=True)
class FeatureEncoding:
    """q_j = clamp(round_half_even(x_j / scale_j) + zero_point_j, qmin, qmax), real x_j ~ scale_j * (q_j - zero_point_j).

    scale: float32 [N] (or [1]: one scale for every feature), each a normal positive float32.
    zero_point: int32 [N] (or [1]), any integer of magnitude <= 2^24 (a feature whose values are
    all positive has a negative zero point: its minimum maps to level 0)."""

    scale: np.ndarray
    zero_point: np.ndarray
    dtype: str = "uint8"  # the level type: "uint8" (0..255) or "int8" (-128..127)

    @property
    def per_feature(self) -> bool:
        return self.scale.size > 1

    @property
    def levels(self) -> tuple[int, int]:
        return LEVELS[self.dtype]

    def quantize(self, x) -> np.ndarray:
        """Float features [n, N] (or [N]) -> levels of `dtype`, by the rounding of the module docstring."""
        x = np.asarray(x)
        if x.dtype.kind not in "iuf":
            raise PnetcError(f"features must be numbers, got dtype {x.dtype}")
        n = self.scale.size
        if n > 1 and x.shape[-1] != n:
            raise PnetcError(f"the model takes {n} features per sample, got {x.shape[-1]}")
        return quantize(x, self.scale, self.zero_point, *self.levels).astype(self.dtype)

    def to_metadata(self) -> dict:
        """The keys of pnetc.input that carry this encoding (docs/format.md)."""
        return {"feature_scale": [float(v) for v in self.scale], "feature_zero_point": [int(v) for v in self.zero_point]}

    def broadcast(self, n: int) -> "FeatureEncoding":
        """One entry per feature (tables for the generated C)."""
        if self.scale.size == n:
            return self
        return FeatureEncoding(np.full(n, self.scale[0], np.float32), np.full(n, self.zero_point[0], np.int32), self.dtype)


def round_half_even_f32(t: np.ndarray) -> np.ndarray:
    """float32 t -> int64, after clamping to +-2^24 (NaN -> -2^24), ties to even."""
    t = np.asarray(t, np.float32)
    t = np.where(t >= -T_LIMIT, t, -T_LIMIT)  # NaN compares false: it becomes the lowest level
    t = np.minimum(t, T_LIMIT)
    return np.rint(t).astype(np.int64)  # rint rounds ties to even; exact for |t| <= 2^24


def quantize(x, scale, zero_point, qmin: int, qmax: int) -> np.ndarray:
    """The rounding (module docstring), as int64."""
    x32 = np.asarray(x).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = x32 / np.asarray(scale, np.float32)
    return np.clip(round_half_even_f32(t) + np.asarray(zero_point, np.int64), qmin, qmax)


def fit_features(x_train) -> FeatureEncoding:
    """Per-feature affine uint8 encoding from the training samples [n, N] (finite float32).

    scale_j = (max_j - min_j) / 255 as float32; zero_point_j = -round_half_even(min_j / scale_j), so
    the minimum lands on level 0 and the maximum on 255 (+-1 from float32 rounding, then clamped).
    A constant feature (max == min, or a range too small for a normal float32 scale) gets
    scale |min| (1 when min is 0): its training value lands on level 0, a larger one above it."""
    x = np.asarray(x_train, np.float32)
    lo = x.min(axis=0).astype(np.float64)
    hi = x.max(axis=0).astype(np.float64)
    scale = ((hi - lo) / 255.0).astype(np.float32)
    flat = ~(scale >= np.float32(F32_TINY)) | ~np.isfinite(scale)
    scale[flat] = np.where(np.abs(lo[flat]) >= F32_TINY, np.abs(lo[flat]), 1.0).astype(np.float32)
    scale = np.minimum(scale, np.float32(np.finfo(np.float32).max))
    zero_point = -quantize(lo.astype(np.float32), scale, 0, -MAX_ZERO_POINT, MAX_ZERO_POINT)
    return FeatureEncoding(scale.astype(np.float32), zero_point.astype(np.int32), "uint8")


def encoding_from_input_spec(spec: dict, dtype: str, where: str) -> FeatureEncoding | None:
    """The encoding a pnetc model's metadata (pnetc.input) declares: per feature when it has
    feature_scale/feature_zero_point (malformed ones are an error), else the global scale/zero_point
    (None when it has no usable one)."""
    if dtype not in LEVELS:
        return None
    if "feature_scale" in spec or "feature_zero_point" in spec:
        scale, zp = spec.get("feature_scale"), spec.get("feature_zero_point")
        size = spec.get("size")
        ok = (isinstance(scale, list) and isinstance(zp, list) and len(scale) == len(zp) == size
              and all(_number(s) and F32_TINY <= s <= float(np.finfo(np.float32).max) for s in scale)
              and all(_integer(z) and abs(z) <= MAX_ZERO_POINT for z in zp))
        if not ok:
            raise PnetcError(f"{where}: metadata pnetc.input needs feature_scale (normal positive float32 values) and "
                             f"feature_zero_point (integers of magnitude <= {MAX_ZERO_POINT}), one per feature "
                             f"({size})")
        return FeatureEncoding(np.asarray(scale, np.float32), np.asarray(zp, np.int32), dtype)
    scale, zp = spec.get("scale"), spec.get("zero_point", 0)
    if not (_number(scale) and F32_TINY <= scale <= float(np.finfo(np.float32).max) and _number(zp)
            and zp == int(zp) and abs(zp) <= MAX_ZERO_POINT):
        return None  # format 1 never required a usable global scale: such a model simply has no encoding
    return FeatureEncoding(np.asarray([scale], np.float32), np.asarray([int(zp)], np.int32), dtype)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def _integer(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_finite(x: np.ndarray, where: str) -> None:
    """Float features must be finite: NaN/inf in data is a user error naming the first one."""
    bad = ~np.isfinite(x)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0]) if x.ndim == 2 else (int(np.flatnonzero(bad)[0]), 0)
        raise PnetcError(f"{where}: sample {i}, feature {j} is {x[i, j] if x.ndim == 2 else x[i]}; "
                         f"features must be finite numbers ({int(bad.sum())} such value(s))")


def distinct_levels(q: np.ndarray) -> np.ndarray:
    """Distinct values per column of q [n, N]."""
    q = np.asarray(q)
    if q.shape[0] == 0:
        return np.zeros(q.shape[1], np.int64)
    s = np.sort(q, axis=0)
    return 1 + np.count_nonzero(np.diff(s, axis=0), axis=0)
