"""The dataset stage: every data source becomes one `Dataset` (numpy only, no torch).

Built-in names: ``digits`` (scikit-learn's 8x8 digits, the default), ``fashion-mnist``
(IDX files), ``langid`` (language identification from the Debian fortune packages).
Anything else is a path: a ``.csv`` / ``.jsonl`` file of ``text,label`` (or a ``.csv`` of
numeric feature columns and ``label``), an ``.npz`` of features (integer levels 0..255, or
floats, quantized per feature), or a directory of MNIST-format IDX files.

Splits are deterministic: a fixed official split where one exists, otherwise a
stratified split by the SHA-256 of each sample's bytes (see `hash_split`), so a
sample lands on the same side on every machine and every run. docs/datasets.md
describes each source, its split and its measured class counts.

Every data set is bounded (`MAX_TEXT_BYTES`, `MAX_DATA_FILE_BYTES`, `MAX_SAMPLES`) so a
hostile or mistaken file gets a one-line error instead of exhausting memory or time.
"""

from __future__ import annotations

import hashlib
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from pnetc.errors import PnetcError
from pnetc.hashing import MAX_TEXT_BYTES, check_text_lengths, text_too_long  # noqa: F401  (re-exported)

DEFAULT_DATASET = "digits"
DATASET_NAMES = ("digits", "fashion-mnist", "langid")
USER_SUFFIXES = (".csv", ".jsonl", ".npz")
TASKS = ("image", "features", "text")
TEST_FRACTION = 0.2

# Limits on what a data set may hold (docs/datasets.md, "Limits").
MAX_DATA_FILE_BYTES = 1 << 30  # a .csv/.jsonl file, or the arrays of an .npz once uncompressed
MAX_SAMPLES = 1 << 22  # samples in one data set (train + test)


@dataclass
class Dataset:
    """One labelled data set, already split (see docs/architecture.md, "Datasets").

    image/features: x_* are uint8 arrays [n, N] (N = prod(input_shape)); the real
    value of a quantized entry q is scale * (q - zero_point), or, for float features,
    encoding.scale[j] * (q - encoding.zero_point[j]) (x_*_raw hold the floats).
    text: x_* are lists of UTF-8 bytes; input_shape is ().
    y_* are int64 class ids indexing `labels`.
    """

    name: str
    task: str
    labels: list[str]
    x_train: object
    y_train: np.ndarray
    x_test: object
    y_test: np.ndarray
    input_shape: tuple
    scale: float
    zero_point: int
    source: str = ""  # where the samples came from, for summaries and error messages
    # Float features (pnetc.quantization): the per-feature encoding fitted on the training split,
    # which gave x_*, and the raw float32 samples [n, N] (None for data that came as levels).
    encoding: object = None
    x_train_raw: object = None
    x_test_raw: object = None

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    @property
    def input_size(self) -> int:
        """N, the number of input elements (0 for text)."""
        return int(np.prod(self.input_shape)) if self.task != "text" else 0


def load_dataset(name_or_path: str | Path = DEFAULT_DATASET, data_dir: str | Path | None = None) -> Dataset:
    """Load a built-in dataset by name, or user data from a path.

    data_dir: where the files of ``fashion-mnist`` / ``langid`` live when not in their
    Debian default place; for ``idx``, the directory of MNIST-format IDX files
    (any such set, class names are the label values found). Ignored for ``digits``
    and for paths.
    """
    key = str(name_or_path)
    if key == "digits":
        from pnetc.datasets.digits import load_digits

        return validate(load_digits())
    if key == "fashion-mnist":
        from pnetc.datasets.idx import load_fashion_mnist

        return validate(load_fashion_mnist(data_dir))
    if key == "langid":
        from pnetc.datasets.langid import load_langid

        return validate(load_langid(data_dir))
    if key == "idx":
        if data_dir is None:
            raise PnetcError("dataset 'idx' needs --data-dir DIR, a directory of MNIST-format IDX files")
        from pnetc.datasets.idx import load_idx_dir

        return validate(load_idx_dir(Path(data_dir).expanduser()))
    path = Path(key).expanduser()
    if path.suffix.lower() in USER_SUFFIXES:
        if not path.is_file():
            what = "is not a regular file (a folder, device or pipe)" if path.exists() else "does not exist"
            raise PnetcError(f"data file {key} {what}")
        from pnetc.datasets.userdata import load_user_file

        return validate(load_user_file(path))
    if path.is_dir():
        from pnetc.datasets.idx import load_idx_dir

        return validate(load_idx_dir(path))
    raise PnetcError(
        f"unknown dataset {key!r}: use one of {', '.join(DATASET_NAMES)}, "
        "'idx' with --data-dir (MNIST-format IDX files), or a path: a .csv or .jsonl file "
        "(columns text,label), an .npz file (arrays x, y) or a directory of MNIST-format IDX files"
    )


def from_arrays(x, y, x_test=None, y_test=None, labels=None, name: str = "arrays") -> Dataset:
    """A feature data set from numpy arrays (the Python API's `pnetc.train((x, y))`): the same rules
    as an .npz with those members. Float x is quantized per feature (pnetc.quantization)."""
    from pnetc.datasets.userdata import arrays_dataset

    arrays = {"x": x, "y": y}
    if x_test is not None or y_test is not None:
        arrays.update(x_test=x_test, y_test=y_test)
    if labels is not None:
        arrays["labels"] = np.asarray(labels)
    try:
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
    except (ValueError, TypeError) as exc:  # ragged lists
        raise PnetcError(f"{name}: cannot read the arrays ({exc})") from None
    ds = arrays_dataset(name, arrays, name=name)
    ds.source = "arrays given to pnetc.train"
    return validate(ds)


def hash_split(keys: Sequence[bytes], y: np.ndarray, test_fraction: float = TEST_FRACTION) -> np.ndarray:
    """Deterministic stratified split: returns a bool mask, True = test.

    Within each class, samples are ordered by SHA-256 of their key (the sample's own
    bytes), and the first round(test_fraction * n) go to test, always leaving at
    least one for training. Identical keys hash alike, so a duplicated sample never
    straddles the split (the whole group of copies goes one way).
    """
    y = np.asarray(y)
    is_test = np.zeros(len(keys), dtype=bool)
    digests = [hashlib.sha256(k).digest() for k in keys]
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        order = sorted(members, key=lambda i: (digests[i], i))
        n_test = min(int(round(test_fraction * len(order))), len(order) - 1)
        pos = 0
        while pos < len(order):
            end = pos + 1
            while end < len(order) and digests[order[end]] == digests[order[pos]]:
                end += 1
            # A group of identical samples goes to test only if it starts inside the test
            # quota and leaves at least one sample of the class for training.
            is_test[order[pos:end]] = pos < n_test and end < len(order)
            pos = end
    return is_test


def validate(ds: Dataset) -> Dataset:
    """Check the contract every loader must meet; user-caused problems raise PnetcError."""
    from pnetc.hashing import MAX_DENSE_INPUT

    where = ds.source or ds.name
    if ds.task not in TASKS:
        raise ValueError(f"{where}: task must be one of {TASKS}, got {ds.task!r}")
    if ds.task != "text":
        n_features = int(np.prod(ds.input_shape))
        if n_features == 0:
            raise PnetcError(f"{where}: samples have no features (shape {tuple(ds.input_shape)})")
        if n_features > MAX_DENSE_INPUT:
            raise PnetcError(f"{where}: samples have {n_features:,} features; pnetc projects at most "
                             f"{MAX_DENSE_INPUT:,} values per sample")
    n_samples = len(ds.y_train) + len(ds.y_test)
    if n_samples > MAX_SAMPLES:
        raise PnetcError(f"{where}: {n_samples:,} samples; a data set may hold at most {MAX_SAMPLES:,}")
    for part in ("train", "test"):
        x, y = getattr(ds, f"x_{part}"), getattr(ds, f"y_{part}")
        if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.ndim != 1:
            raise ValueError(f"{where}: y_{part} must be a 1-D int64 array")
        if len(x) != len(y):
            raise PnetcError(f"{where}: {len(x)} {part} samples but {len(y)} {part} labels")
        if ds.task == "text":
            if not isinstance(x, list) or not all(isinstance(t, bytes) for t in x):
                raise ValueError(f"{where}: text x_{part} must be a list of bytes")
            check_text_lengths(x, f"{where}: {part} sample")
        else:
            if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2:
                raise ValueError(f"{where}: x_{part} must be a uint8 array [n, N]")
            if x.shape[1] != int(np.prod(ds.input_shape)):
                raise PnetcError(
                    f"{where}: {part} samples have {x.shape[1]} features, expected {int(np.prod(ds.input_shape))}"
                )
            raw = getattr(ds, f"x_{part}_raw")
            if raw is not None and (not isinstance(raw, np.ndarray) or raw.dtype != np.float32 or raw.shape != x.shape):
                raise ValueError(f"{where}: x_{part}_raw must be a float32 array shaped like x_{part}")
        if len(y) and (y.min() < 0 or y.max() >= len(ds.labels)):
            raise PnetcError(f"{where}: {part} labels must be class ids 0..{len(ds.labels) - 1}")
    if len(ds.y_train) == 0:
        raise PnetcError(f"{where}: no training samples")
    if len(ds.labels) < 2:
        raise PnetcError(
            f"{where}: only one class ({ds.labels[0] if ds.labels else 'none'!s}); a classifier needs at least two"
        )
    if len(set(ds.labels)) != len(ds.labels):
        raise PnetcError(f"{where}: duplicate class names in labels")
    counts = np.bincount(ds.y_train, minlength=len(ds.labels))
    empty = [ds.labels[i] for i in np.flatnonzero(counts == 0)]
    if empty:
        raise PnetcError(
            f"{where}: class(es) {', '.join(repr(e) for e in empty)} have no training samples; "
            "add training examples or drop the class"
        )
    if len(ds.y_test) == 0:
        raise PnetcError(
            f"{where}: no test samples; give an explicit test split, or more samples per class "
            "(the automatic 80/20 split moves a sample of a class to test only when the class has at least 3)"
        )
    return ds


def check_limit(limit, option: str = "--limit") -> int | None:
    """`--limit N` (or bench's `-n N`): None (every sample) or a whole number >= 1; anything else
    is a user error naming the option."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral):
        raise PnetcError(f"{option} must be a whole number, got {limit!r}")
    if limit < 1:
        raise PnetcError(f"{option} must be at least 1, got {limit}")
    return int(limit)


def _is_int_name(name: str) -> bool:
    return name.lstrip("-").isdigit() and str(int(name)) == name


def to_model_classes(labels: Sequence[str], y: np.ndarray, model_labels: Sequence[str], where: str) -> np.ndarray:
    """Class ids of a data set (indexing `labels`) -> the model's class ids, matched by label name.

    The data's own ids depend on which classes its file holds (a file of digits 5-9 numbers them
    0..4), so they are translated through the names. One exception: when the model's labels are
    names (not integers) and the data's labels are all integers and match none of them, the data
    holds the model's class ids directly (an .npz with integer y for a model labelled "cat", "dog").
    A data label the model does not know is a user error: its samples could only count as wrong.
    """
    y = np.asarray(y, dtype=np.int64)
    model_index = {name: i for i, name in enumerate(model_labels)}
    used = [labels[int(i)] for i in np.unique(y)]
    table = np.full(len(labels), -1, dtype=np.int64)
    if all(name in model_index for name in used):
        for i, name in enumerate(labels):
            table[i] = model_index.get(name, -1)
        return table[y]
    if (all(_is_int_name(name) for name in used) and not any(name in model_index for name in used)
            and not all(_is_int_name(name) for name in model_labels)):
        outside = sorted({int(name) for name in used if not 0 <= int(name) < len(model_labels)})
        if not outside:
            for i, name in enumerate(labels):
                table[i] = int(name) if _is_int_name(name) else -1
            return table[y]
        raise PnetcError(f"{where}: integer labels {', '.join(map(str, outside[:5]))} are neither class names "
                         f"nor class ids 0..{len(model_labels) - 1} of the model")
    unknown = [name for name in used if name not in model_index]
    count = int(np.isin(y, [labels.index(name) for name in unknown]).sum())
    known = ", ".join(repr(m) for m in model_labels[:12]) + (", ..." if len(model_labels) > 12 else "")
    raise PnetcError(f"{where}: label(s) {', '.join(repr(u) for u in unknown[:5])} ({count} test samples) are not "
                     f"classes of the model; its labels are {known}")


def describe(ds: Dataset) -> dict:
    """A JSON-friendly summary: sizes and per-class train/test counts."""
    train = np.bincount(ds.y_train, minlength=ds.num_classes)
    test = np.bincount(ds.y_test, minlength=ds.num_classes)
    return {
        "name": ds.name,
        "task": ds.task,
        "source": ds.source,
        "input_shape": list(ds.input_shape),
        "num_classes": ds.num_classes,
        "train": int(len(ds.y_train)),
        "test": int(len(ds.y_test)),
        "scale": ds.scale,
        "zero_point": ds.zero_point,
        "float_features": ds.encoding is not None,  # quantized per feature (pnetc.quantization)
        "classes": [
            {"label": label, "train": int(a), "test": int(b)} for label, a, b in zip(ds.labels, train, test)
        ],
    }


__all__ = [
    "DATASET_NAMES",
    "DEFAULT_DATASET",
    "MAX_DATA_FILE_BYTES",
    "MAX_SAMPLES",
    "MAX_TEXT_BYTES",
    "Dataset",
    "check_limit",
    "check_text_lengths",
    "describe",
    "from_arrays",
    "hash_split",
    "load_dataset",
    "to_model_classes",
    "validate",
]
