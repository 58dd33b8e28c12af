"""MNIST-format IDX files: Fashion-MNIST and any other set laid out the same way.

A directory holds four files, each optionally gzipped (detected by content, not name):
train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
t10k-labels-idx1-ubyte. An IDX file is: two zero bytes, a type byte (0x08 = unsigned
byte, the only type images and labels use), a byte with the number of dimensions d,
then d big-endian uint32 sizes, then the data, row-major. Every header field and the
exact payload length are checked, so a truncated or corrupt file is reported by name.
"""

from __future__ import annotations

import gzip
import io
import math
import zlib
from pathlib import Path

import numpy as np

from pnetc.datasets import MAX_DATA_FILE_BYTES, Dataset
from pnetc.errors import PnetcError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
FASHION_MNIST_LABELS = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
IDX_UBYTE = 0x08
# (split, kind, dimensions): images are [n, rows, cols], labels are [n].
IDX_FILES = (("train", "images", 3), ("train", "labels", 1), ("t10k", "images", 3), ("t10k", "labels", 1))


def idx_candidates(directory: Path, split: str, kind: str, ndim: int) -> list[Path]:
    """The accepted names of one file: the official dash form and the common dot variant, gzipped or not."""
    stems = (f"{split}-{kind}-idx{ndim}-ubyte", f"{split}-{kind}.idx{ndim}-ubyte")
    return [directory / (stem + ext) for stem in stems for ext in (".gz", "")]


def read_idx(path: Path, expect_ndim: int, hint: str = "") -> np.ndarray:
    """Read one IDX file of unsigned bytes (gzipped or plain) into a uint8 array."""
    hint = f"; {hint}" if hint else ""
    too_big = f"{path}: the IDX file holds more than {MAX_DATA_FILE_BYTES:,} bytes, the limit for a data file{hint}"
    try:
        if path.stat().st_size > MAX_DATA_FILE_BYTES:
            raise PnetcError(too_big)
        raw = path.read_bytes()
    except OSError as exc:
        raise PnetcError(f"cannot read IDX file {path}: {exc.strerror or exc}{hint}") from None
    if raw[:2] == b"\x1f\x8b":
        try:  # bounded: a few MB of gzip can expand to terabytes
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
                raw = stream.read(MAX_DATA_FILE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise PnetcError(f"IDX file {path} is a corrupt or truncated gzip file ({exc}){hint}") from None
        if len(raw) > MAX_DATA_FILE_BYTES:
            raise PnetcError(too_big)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise PnetcError(f"{path} is not an IDX file (bad magic number){hint}")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code != IDX_UBYTE:
        raise PnetcError(
            f"{path}: IDX element type 0x{dtype_code:02x} is not supported (only unsigned bytes, 0x08){hint}"
        )
    if ndim != expect_ndim:
        raise PnetcError(f"{path}: IDX file has {ndim} dimension(s), expected {expect_ndim}{hint}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise PnetcError(f"{path}: IDX header is truncated{hint}")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + math.prod(dims)
    if len(raw) != expected:
        state = "truncated" if len(raw) < expected else "longer than its header says"
        raise PnetcError(
            f"{path}: IDX file is {state}: header says {'x'.join(map(str, dims))} "
            f"({expected} bytes), file has {len(raw)} bytes{hint}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def find_idx_file(directory: Path, split: str, kind: str, ndim: int, hint: str) -> Path:
    for candidate in idx_candidates(directory, split, kind, ndim):
        if candidate.is_file():
            return candidate
    raise PnetcError(f"{directory}: missing {split}-{kind}-idx{ndim}-ubyte[.gz]; {hint}")


def read_idx_set(directory: Path, hint: str) -> dict[str, np.ndarray]:
    """The four arrays, keyed like 'train-images', with counts cross-checked."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PnetcError(f"IDX directory {directory} does not exist; {hint}")
    arrays = {}
    for split, kind, ndim in IDX_FILES:
        path = find_idx_file(directory, split, kind, ndim, hint)
        arrays[f"{split}-{kind}"] = (path, read_idx(path, ndim, hint))
    for split in ("train", "t10k"):
        (ipath, images), (lpath, labels) = arrays[f"{split}-images"], arrays[f"{split}-labels"]
        if len(images) != len(labels):
            raise PnetcError(f"{ipath.name} has {len(images)} images but {lpath.name} has {len(labels)} labels; {hint}")
        if len(images) == 0:
            raise PnetcError(f"{ipath} holds no images; {hint}")
    if arrays["train-images"][1].shape[1:] != arrays["t10k-images"][1].shape[1:]:
        raise PnetcError(f"{directory}: train and t10k images have different sizes; {hint}")
    return {key: array for key, (_, array) in arrays.items()}


def idx_dataset(arrays: dict[str, np.ndarray], name: str, labels: list[str] | None, source: str, hint: str) -> Dataset:
    y_train = arrays["train-labels"].astype(np.int64)
    y_test = arrays["t10k-labels"].astype(np.int64)
    if labels is None:
        # A generic IDX set: class names are the label values found, in numeric order.
        values = np.unique(np.concatenate([y_train, y_test]))
        labels = [str(v) for v in values]
        y_train, y_test = np.searchsorted(values, y_train), np.searchsorted(values, y_test)
    elif max(y_train.max(), y_test.max()) >= len(labels):
        top = max(y_train.max(), y_test.max())
        raise PnetcError(f"{source}: labels go up to {top}, expected 0..{len(labels) - 1}; {hint}")
    shape = arrays["train-images"].shape[1:]
    flat = int(np.prod(shape))
    return Dataset(
        name=name,
        task="image",
        labels=list(labels),
        x_train=arrays["train-images"].reshape(-1, flat),
        y_train=y_train.astype(np.int64),
        x_test=arrays["t10k-images"].reshape(-1, flat),
        y_test=y_test.astype(np.int64),
        input_shape=tuple(int(s) for s in shape),
        scale=1.0 / 255.0,
        zero_point=0,
        source=source,
    )


def load_fashion_mnist(data_dir: str | Path | None = None) -> Dataset:
    directory = Path(data_dir).expanduser() if data_dir is not None else FASHION_MNIST_DIR
    hint = (
        f"install the Debian package with `apt-get install {FASHION_MNIST_PACKAGE}`, "
        "or pass --data-dir DIR with the four Fashion-MNIST IDX files"
    )
    arrays = read_idx_set(directory, hint)
    return idx_dataset(arrays, "fashion-mnist", FASHION_MNIST_LABELS, f"Fashion-MNIST IDX files in {directory}", hint)


def load_idx_dir(directory: Path) -> Dataset:
    hint = "the directory must hold MNIST-format train-/t10k- images and labels IDX files"
    arrays = read_idx_set(directory, hint)
    return idx_dataset(arrays, directory.resolve().name or "idx", None, f"IDX files in {directory}", hint)
