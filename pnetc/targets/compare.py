"""The one comparison rule between a device's answers and the golden interpreter's.

Per sample, the device matches the reference when all of these hold:
- the projection bits are equal (exact);
- int8 scores are equal (exact); float32 scores differ by at most
  FLOAT_RTOL * max(1, max_j |reference_j|), the sample's largest reference score setting the scale
  (a float dense layer's rounding error grows with the magnitudes it sums, not with each output);
  a NaN or infinity on either side never matches;
- the predictions (or the entry point's negative error code) are equal.

`run`, `verify`, `bench` and the package tests all call `compare`; docs/compiler.md quotes this rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOAT_RTOL = 1e-5


@dataclass
class Mismatch:
    index: int
    what: list[str]      # "bits", "scores", "prediction"
    device_prediction: int
    reference_prediction: int

    def to_dict(self) -> dict:
        return {"index": self.index, "what": self.what, "device_prediction": self.device_prediction,
                "reference_prediction": self.reference_prediction}


def score_tolerance(reference_scores: np.ndarray) -> np.ndarray:
    """[n, 1] absolute tolerance of each sample's float scores."""
    ref = np.asarray(reference_scores, dtype=np.float64)
    if ref.shape[1] == 0:
        return np.full((ref.shape[0], 1), FLOAT_RTOL)
    return FLOAT_RTOL * np.maximum(1.0, np.max(np.abs(ref), axis=1, keepdims=True))


def score_differences(device_scores, reference_scores, score_dtype: str) -> np.ndarray:
    """[n] bool: which samples' scores break the rule."""
    dev = np.asarray(device_scores)
    ref = np.asarray(reference_scores)
    if score_dtype == "float32":
        diff = np.abs(dev.astype(np.float64) - ref.astype(np.float64))
        return np.any(~(diff <= score_tolerance(ref)), axis=1)  # ~(<=) so NaN counts as a difference
    return np.any(dev.astype(np.int64) != ref.astype(np.int64), axis=1)


def compare(device, reference, score_dtype: str) -> list[Mismatch]:
    """Every sample where `device` (a DeviceOutput) and `reference` (bits, scores, predictions) differ."""
    ref_pred = np.asarray(reference.predictions, dtype=np.int64)
    n = len(ref_pred)
    if len(device.predictions) != n:
        raise ValueError(f"the device answered {len(device.predictions)} samples, the reference {n}")
    ref_bits = np.asarray(reference.bits, dtype=np.uint8).reshape(n, -1)
    bits_bad = np.any(np.asarray(device.bits, dtype=np.uint8).reshape(n, -1) != ref_bits, axis=1) \
        if ref_bits.shape[1] else np.zeros(n, bool)
    scores_bad = score_differences(device.scores, reference.scores, score_dtype)
    pred_bad = np.asarray(device.predictions, dtype=np.int64) != ref_pred
    out = []
    for i in np.flatnonzero(bits_bad | scores_bad | pred_bad):
        what = [w for w, bad in (("bits", bits_bad[i]), ("scores", scores_bad[i]), ("prediction", pred_bad[i])) if bad]
        out.append(Mismatch(int(i), what, int(device.predictions[i]), int(ref_pred[i])))
    return out


def max_score_difference(device_scores, reference_scores) -> float:
    diff = np.abs(np.asarray(device_scores, np.float64) - np.asarray(reference_scores, np.float64))
    return float(np.nanmax(diff)) if diff.size else 0.0
