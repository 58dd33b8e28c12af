"""Classification figures from predictions and labels: the confusion matrix and, per class,
precision, recall and F1 (numpy only; `eval`, the model card and the API share them)."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """[true class, predicted class] -> count. Predictions outside 0..num_classes-1 are not counted."""
    y_true = np.asarray(y_true, np.int64)
    y_pred = np.asarray(y_pred, np.int64)
    ok = (y_pred >= 0) & (y_pred < num_classes) & (y_true >= 0) & (y_true < num_classes)
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (y_true[ok], y_pred[ok]), 1)
    return matrix


def _ratio(num: int, den: int) -> Optional[float]:
    return None if den == 0 else float(num) / float(den)


def per_class(matrix: np.ndarray, labels: Sequence[str]) -> dict[str, dict]:
    """label -> samples (true), predicted, precision, recall, f1. A figure whose denominator is 0
    (no sample of the class, or never predicted) is None: undefined, not 0."""
    out = {}
    for c, label in enumerate(labels):
        hit = int(matrix[c, c])
        samples, predicted = int(matrix[c].sum()), int(matrix[:, c].sum())
        precision, recall = _ratio(hit, predicted), _ratio(hit, samples)
        if precision is None or recall is None:
            f1 = None
        else:
            f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
        out[str(label)] = {"samples": samples, "predicted": predicted, "precision": precision, "recall": recall,
                           "f1": f1, "accuracy": recall}  # a class's accuracy is its recall
    return out


def macro_f1(classes: dict[str, dict]) -> Optional[float]:
    """Mean F1 over the classes where it is defined."""
    values = [v["f1"] for v in classes.values() if v["f1"] is not None]
    return float(np.mean(values)) if values else None


def classification_report(y_true, y_pred, labels: Sequence[str]) -> dict:
    """accuracy, macro_f1, per_class (see per_class) and confusion (rows: true, columns: predicted)."""
    matrix = confusion_matrix(y_true, y_pred, len(labels))
    classes = per_class(matrix, labels)
    n = int(len(np.asarray(y_true)))
    return {"accuracy": _ratio(int(np.trace(matrix)), n), "macro_f1": macro_f1(classes), "per_class": classes,
            "confusion": matrix.tolist()}


def plot_confusion(confusion, labels: Sequence[str], path, *, title: str = ""):
    """Draw the confusion matrix (rows: true class, columns: predicted; each row shaded by its
    share of the class) into a PNG; returns the path. Needs matplotlib (the [train] extra)."""
    from pnetc.errors import PnetcError
    from pnetc.outdir import write_png

    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise PnetcError("--plot needs matplotlib: pip install 'pnetc[train]'") from None
    matrix = np.asarray(confusion, np.int64)
    n = len(labels)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    side = min(4 + 0.45 * n, 30)
    fig = Figure(figsize=(side, side * 0.9))
    ax = fig.add_subplot()
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    names = [str(label)[:20] for label in labels]
    ax.set_xticks(range(n), names, rotation=90 if n > 6 else 0)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if shares[i, j] > 0.5 else "black")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return write_png(fig, path)
