"""User data files: .csv / .jsonl texts with labels, .npz integer feature arrays.

.csv    a header row naming the columns `text` and `label` (any order, other columns
        ignored) and an optional `split` column (train/test); RFC 4180 quoting.
.jsonl  one JSON object per line with "text", "label" and optionally "split".
.npz    arrays `x` [n, ...] (integer values 0..255) and `y` [n] (class ids or names);
        optional `x_test`/`y_test`, `labels` (class names), `scale`, `zero_point`.
Without an explicit test split, a stratified 80/20 split by SHA-256 of each sample's
bytes is made (`hash_split`). Every problem raises PnetcError naming the file and,
for text files, the line (for arrays, the index). Files are bounded: MAX_DATA_FILE_BYTES
on disk (and for an .npz's arrays once uncompressed), MAX_SAMPLES samples, MAX_TEXT_BYTES
per text; .npz arrays must be plain numbers or strings (allow_pickle stays off).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from pnetc.datasets import MAX_DATA_FILE_BYTES, MAX_SAMPLES, MAX_TEXT_BYTES, Dataset, hash_split, text_too_long
from pnetc.errors import PnetcError
from pnetc.quantization import check_finite, fit_features

SPLITS = ("train", "test")


def load_user_file(path: Path) -> Dataset:
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return load_npz(path)
    if suffix == ".csv":
        reader, header = _csv_header(path)
        names = [h.strip().lower() for h in header]
        if "text" not in names and "label" in names and len(set(names) - {"label", "split"}) > 0:
            return feature_csv(path, reader, header)
        return text_dataset(path, read_csv(path, reader, header))
    return text_dataset(path, read_jsonl(path))


# ---------------------------------------------------------------------------
# Text files
# ---------------------------------------------------------------------------


def check_file_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_DATA_FILE_BYTES:
        raise PnetcError(f"{path}: the file is {size:,} bytes; a data file may hold at most {MAX_DATA_FILE_BYTES:,}")


def _check_row_count(path: Path, rows: list) -> None:
    if len(rows) > MAX_SAMPLES:
        raise PnetcError(f"{path}: more than {MAX_SAMPLES:,} samples; a data set may hold at most {MAX_SAMPLES:,}")


def _read_text(path: Path) -> str:
    check_file_size(path)
    raw = path.read_bytes()
    if not raw.strip():
        raise PnetcError(f"{path}: the file is empty")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PnetcError(f"{path} line {line}: not valid UTF-8; save the file as UTF-8") from None


def _row(path: Path, line: int, text, label, split) -> tuple[bytes, str, str | None, int]:
    if not isinstance(text, str):
        raise PnetcError(f"{path} line {line}: text must be a string")
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        raise PnetcError(f"{path} line {line}: label must be a string or an integer")
    label = str(label).strip()
    if any(0xD800 <= ord(c) <= 0xDFFF for c in label):
        raise PnetcError(f"{path} line {line}: the label holds an unpaired surrogate; it is not valid Unicode")
    if not text.strip():
        raise PnetcError(f"{path} line {line}: empty text")
    if not label:
        raise PnetcError(f"{path} line {line}: empty label")
    if split is not None:
        split = str(split).strip().lower()
        if split not in SPLITS:
            raise PnetcError(f"{path} line {line}: split must be 'train' or 'test', got {split!r}")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800" escape
        raise PnetcError(f"{path} line {line}: the text holds an unpaired surrogate (\\ud800-\\udfff); "
                         "it is not valid Unicode") from None
    if len(data) > MAX_TEXT_BYTES:
        raise PnetcError(f"{path} line {line}: {text_too_long(len(data))}")
    return data, label, split, line


def _csv_header(path: Path):
    """(reader positioned after the header row, the header)."""
    reader = csv.reader(io.StringIO(_read_text(path), newline=""), strict=True)
    try:
        header = next(reader)
        while not header:  # blank lines before the header
            header = next(reader)
    except csv.Error as exc:
        raise PnetcError(f"{path} line {reader.line_num}: malformed CSV ({exc})") from None
    except StopIteration:
        raise PnetcError(f"{path}: no header row (the file holds blank lines only)") from None
    names = [h.strip().lower() for h in header]
    if len(set(names)) != len(names):
        raise PnetcError(f"{path} line {reader.line_num}: duplicate column names in the header")
    return reader, header


def _csv_rows(path: Path, reader, width: int, hint: str):
    """(line number, fields) of every non-blank data row; each must have `width` fields."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise PnetcError(f"{path} line {reader.line_num}: malformed CSV ({exc})") from None
        if not row:
            continue  # blank line
        if len(row) != width:
            raise PnetcError(f"{path} line {reader.line_num}: expected {width} fields, found {len(row)} ({hint})")
        yield reader.line_num, row


def read_csv(path: Path, reader=None, header=None) -> list[tuple[bytes, str, str | None, int]]:
    if reader is None:
        reader, header = _csv_header(path)
    names = [h.strip().lower() for h in header]
    missing = [c for c in ("text", "label") if c not in names]
    if missing:
        raise PnetcError(
            f"{path} line {reader.line_num}: the header must name the columns text and label "
            f"(missing {', '.join(missing)}; found {', '.join(header) or 'nothing'}), or label and numeric "
            "feature columns"
        )
    ti, li = names.index("text"), names.index("label")
    si = names.index("split") if "split" in names else None
    rows = []
    for line, row in _csv_rows(path, reader, len(names), "quote texts that contain commas with double quotes"):
        rows.append(_row(path, line, row[ti], row[li], row[si] if si is not None else None))
        _check_row_count(path, rows)
    if not rows:
        raise PnetcError(f"{path}: no data rows after the header")
    return rows


def feature_csv(path: Path, reader, header) -> Dataset:
    """A CSV of numeric feature columns, a label column and an optional split column: the same
    Dataset as an .npz with x (float features, or integer levels 0..255), y and the split."""
    names = [h.strip().lower() for h in header]
    li = names.index("label")
    si = names.index("split") if "split" in names else None
    columns = [i for i, n in enumerate(names) if i not in (li, si)]
    values, labels, splits = [], [], []
    for line, row in _csv_rows(path, reader, len(names), f"{len(columns)} features, a label"
                               + (" and a split" if si is not None else "")):
        try:
            numbers = [float(row[i]) for i in columns]
        except ValueError:
            if not values:  # not a table of numbers: a text file that lacks its text column
                raise PnetcError(
                    f"{path} line 1: the header must name the columns text and label (missing text; found "
                    f"{', '.join(header)}), or label and numeric feature columns") from None
            i = next(i for i in columns if not _is_float(row[i]))
            raise PnetcError(f"{path} line {line}: column {header[i].strip()!r} holds {row[i][:40]!r}, not a number"
                             ) from None
        bad = [i for i, v in zip(columns, numbers) if not np.isfinite(v)]
        if bad:
            raise PnetcError(f"{path} line {line}: column {header[bad[0]].strip()!r} is {row[bad[0]].strip()[:40]}; "
                             "features must be finite numbers")
        values.append(numbers)
        label = row[li].strip()
        if not label:
            raise PnetcError(f"{path} line {line}: empty label")
        labels.append(label)
        split = row[si].strip().lower() if si is not None else None
        if split is not None and split not in SPLITS:
            raise PnetcError(f"{path} line {line}: split must be 'train' or 'test', got {split!r}")
        splits.append(split)
        _check_row_count(path, values)
    if not values:
        raise PnetcError(f"{path}: no data rows after the header")
    x = np.asarray(values, np.float64)
    y = np.array(labels)  # class names (ordered numerically when they are all integers)
    arrays = {"x": x, "y": y}
    if si is not None:
        test = np.array([s == "test" for s in splits])
        arrays = {"x": x[~test], "y": y[~test], "x_test": x[test], "y_test": y[test]}
    return arrays_dataset(path, arrays, name=path.stem)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_jsonl(path: Path) -> list[tuple[bytes, str, str | None, int]]:
    rows = []
    # split on "\n" only: str.splitlines would also break inside strings holding U+2028 etc.
    for line_no, line in enumerate(_read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PnetcError(f"{path} line {line_no}: invalid JSON ({exc.msg})") from None
        except RecursionError:
            raise PnetcError(f"{path} line {line_no}: the JSON is nested too deeply") from None
        if not isinstance(obj, dict):
            raise PnetcError(f"{path} line {line_no}: expected a JSON object with fields text and label")
        missing = [k for k in ("text", "label") if k not in obj]
        if missing:
            raise PnetcError(f"{path} line {line_no}: missing field(s) {', '.join(missing)}")
        rows.append(_row(path, line_no, obj["text"], obj["label"], obj.get("split")))
        _check_row_count(path, rows)
    if not rows:
        raise PnetcError(f"{path}: no records")
    return rows


def sorted_labels(values) -> list[str]:
    """Class names in a stable order: numerically when they are all integers, else alphabetically."""
    unique = set(values)
    try:
        return sorted(unique, key=lambda v: (int(v), v))
    except ValueError:
        return sorted(unique)


def text_dataset(path: Path, rows: list[tuple[bytes, str, str | None, int]]) -> Dataset:
    labels = sorted_labels(r[1] for r in rows)
    index = {label: i for i, label in enumerate(labels)}
    texts = [r[0] for r in rows]
    y = np.array([index[r[1]] for r in rows], dtype=np.int64)
    splits = [r[2] for r in rows]
    if any(s is not None for s in splits):
        if any(s is None for s in splits):
            line = next(r[3] for r in rows if r[2] is None)
            raise PnetcError(f"{path} line {line}: split is missing; give it for every row or for none")
        is_test = np.array([s == "test" for s in splits])
    else:
        is_test = hash_split(texts, y)
    return Dataset(
        name=path.stem,
        task="text",
        labels=labels,
        x_train=[t for t, m in zip(texts, is_test) if not m],
        y_train=y[~is_test],
        x_test=[t for t, m in zip(texts, is_test) if m],
        y_test=y[is_test],
        input_shape=(),
        scale=1.0,
        zero_point=0,
        source=str(path),
    )


# ---------------------------------------------------------------------------
# NPZ features
# ---------------------------------------------------------------------------


def is_levels(a: np.ndarray) -> bool:
    """True when a holds quantized levels (integers 0..255, any numeric dtype); float arrays that do
    not are raw features, quantized per feature (pnetc.quantization)."""
    if a.dtype == np.bool_ or a.size == 0:
        return True
    if a.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            return bool(np.all(np.isfinite(a)) and np.array_equal(a, np.round(a)) and a.min() >= 0 and a.max() <= 255)
    return True  # integer arrays are levels; to_uint8 checks their range


def to_uint8(path: Path, key: str, a: np.ndarray) -> np.ndarray:
    """Integer features in 0..255 -> uint8; anything else is a user error."""
    advice = ("quantized features are integer levels 0..255; give raw measurements as a float array and pnetc "
              "quantizes each feature (docs/datasets.md)")
    if a.dtype == np.bool_:
        return a.astype(np.uint8)
    if a.dtype.kind not in "iuf":
        raise PnetcError(f"{path}: array {key!r} has dtype {a.dtype}; features must be numbers")
    if a.size == 0:
        return a.astype(np.uint8)
    lo, hi = a.min(), a.max()
    if lo < 0 or hi > 255:
        raise PnetcError(f"{path}: array {key!r} has values {lo:g}..{hi:g}, outside 0..255; {advice}")
    return a.astype(np.uint8)


def to_float_features(path, key: str, a: np.ndarray) -> np.ndarray:
    """Raw float features -> float32 [n, N], every value finite (NaN/inf are user errors)."""
    if a.dtype.kind not in "iufb":
        raise PnetcError(f"{path}: array {key!r} has dtype {a.dtype}; features must be numbers")
    flat = np.asarray(a, np.float64).reshape(len(a), -1)
    check_finite(flat, f"{path}: array {key!r}")
    with np.errstate(over="ignore"):
        x32 = flat.astype(np.float32)
    check_finite(x32, f"{path}: array {key!r} (beyond the float32 range)")
    return x32


MAX_CLASS_ID = 2**31 - 1  # integer class ids are names of classes; anything larger is a mistake


def _class_ids(path: Path, key: str, y: np.ndarray, n: int):
    """Return (ids or raw values, kind) with shape/dtype checked."""
    if y.ndim != 1 or len(y) != n:
        raise PnetcError(f"{path}: {key!r} must be a 1-D array with one label per sample ({n}), got shape {y.shape}")
    if y.dtype.kind in "US":
        return [_name(path, key, v) for v in y.tolist()], "names"
    if y.dtype.kind not in "iubf":
        raise PnetcError(f"{path}: {key!r} must hold integer class ids or class-name strings, got dtype {y.dtype}")
    if y.dtype.kind == "b":
        return y.astype(np.int64), "ids"
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(y) | (y != np.round(y)) if y.dtype.kind == "f" else np.zeros(len(y), bool)
        bad |= (y > MAX_CLASS_ID) | (y < -MAX_CLASS_ID)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PnetcError(f"{path}: {key}[{i}] = {y[i].item()!r} is not a class id (a whole number of magnitude at most "
                         f"{MAX_CLASS_ID:,}); {int(bad.sum())} such value(s)")
    return y.astype(np.int64), "ids"


def _name(path: Path, key: str, v) -> str:
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            raise PnetcError(f"{path}: {key!r} holds a byte string that is not UTF-8") from None
    return str(v)


# What an .npz member may hold: numbers, bools or strings; never Python objects or records.
NPZ_DTYPE_KINDS = "biufUS"


def check_npz_members(path: Path) -> None:
    """Read every member's .npy header (not its data) and refuse what np.load must not see:
    members that are not arrays, object or record dtypes, and more than MAX_DATA_FILE_BYTES of
    data once uncompressed (a small compressed file can declare terabytes)."""
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = info.filename
                if not name.endswith(".npy"):
                    raise PnetcError(f"{path}: member {name!r} is not a numpy array; save the arrays with numpy.savez")
                with archive.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(f)
                if dtype.kind not in NPZ_DTYPE_KINDS or dtype.fields is not None:
                    raise PnetcError(f"{path}: cannot read the .npz archive (array {name[:-4]!r} has dtype {dtype}); "
                                     "pnetc reads arrays of numbers or strings only, no Python objects or records")
                total += int(np.prod(shape, dtype=object)) * dtype.itemsize
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
        raise PnetcError(f"{path}: cannot read the .npz archive ({exc}); "
                         "save numeric arrays with numpy.savez") from None
    if total > MAX_DATA_FILE_BYTES:
        raise PnetcError(f"{path}: the arrays hold {total:,} bytes once uncompressed; a data file may hold at most "
                         f"{MAX_DATA_FILE_BYTES:,}")


def load_npz(path: Path) -> Dataset:
    check_file_size(path)
    if not zipfile.is_zipfile(path):  # np.load would guess "pickle" and say something confusing
        raise PnetcError(f"{path}: not an .npz archive (not a zip file); save the arrays with numpy.savez")
    check_npz_members(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise PnetcError(f"{path}: cannot read the .npz archive ({exc}); save numeric arrays with numpy.savez") from None
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise PnetcError(
            f"{path}: missing array(s) {', '.join(missing)} (found: {', '.join(sorted(arrays)) or 'none'}); "
            "save features as x [n, ...] and labels as y [n]"
        )
    return arrays_dataset(path, arrays, name=path.stem)


def arrays_dataset(path, arrays: dict, name: str) -> Dataset:
    """A feature Dataset from arrays x, y (optional x_test, y_test, labels, scale, zero_point): an .npz's
    members or the arrays given to the Python API. `path` names the source in error messages.

    x holding quantized levels (integers 0..255) is used as it is; any other numbers are raw float
    features: the split is made on them, a per-feature encoding is fitted on the training split
    (pnetc.quantization.fit_features) and both splits are quantized with it."""
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise PnetcError(f"{path}: give both x_test and y_test, or neither")
    x = np.asarray(arrays["x"])
    if x.ndim < 2:
        raise PnetcError(f"{path}: x must have shape [n, features...], got {x.shape}")
    if len(x) == 0:
        raise PnetcError(f"{path}: x holds no samples")
    shape = tuple(int(s) for s in x.shape[1:])
    n_features = int(np.prod(shape))
    if n_features == 0:
        raise PnetcError(f"{path}: x has no features (shape {x.shape})")
    xt = np.asarray(arrays["x_test"]) if "x_test" in arrays else None
    if xt is not None and (xt.ndim < 2 or tuple(xt.shape[1:]) != shape):
        raise PnetcError(f"{path}: x_test must have shape [n, {', '.join(map(str, shape))}], got {xt.shape}")
    raw = not (is_levels(x) and (xt is None or is_levels(xt)))
    if raw and ("scale" in arrays or "zero_point" in arrays):
        raise PnetcError(f"{path}: 'scale'/'zero_point' describe quantized integer features, but x holds float "
                         "features; drop them: pnetc quantizes each float feature itself")
    convert = to_float_features if raw else to_uint8
    x = convert(path, "x", x).reshape(len(x), n_features)

    labels = None
    if "labels" in arrays:
        raw_labels = np.asarray(arrays["labels"])
        if raw_labels.ndim != 1 or raw_labels.dtype.kind not in "USiu":
            raise PnetcError(f"{path}: 'labels' must be a 1-D array of class names")
        labels = [_name(path, "labels", v) for v in raw_labels.tolist()]
    y, kind = _class_ids(path, "y", np.asarray(arrays["y"]), len(x))
    parts = [(x, y)]
    if xt is not None:
        yt, kind_t = _class_ids(path, "y_test", np.asarray(arrays["y_test"]), len(xt))
        if kind_t != kind:
            raise PnetcError(f"{path}: y and y_test must both hold class ids or both class names")
        parts.append((convert(path, "x_test", xt).reshape(len(xt), n_features), yt))

    if kind == "names":
        all_names = [v for _, ys in parts for v in ys]
        if labels is None:
            labels = sorted_labels(all_names)
        index = {name: i for i, name in enumerate(labels)}
        unknown = sorted(set(all_names) - set(index))
        if unknown:
            raise PnetcError(f"{path}: label(s) {', '.join(map(repr, unknown[:5]))} are not in 'labels'")
        parts = [(xs, np.array([index[v] for v in ys], dtype=np.int64)) for xs, ys in parts]
    elif labels is None:
        values = np.unique(np.concatenate([ys for _, ys in parts]))
        labels = [str(v) for v in values]
        parts = [(xs, np.searchsorted(values, ys).astype(np.int64)) for xs, ys in parts]
    else:
        for key, (_, ys) in zip(("y", "y_test"), parts):
            if len(ys) and (ys.min() < 0 or ys.max() >= len(labels)):
                raise PnetcError(f"{path}: {key!r} holds class ids outside 0..{len(labels) - 1} (from 'labels')")

    if len(parts) == 2:
        (x_train, y_train), (x_test, y_test) = parts
    else:
        x_all, y_all = parts[0]
        is_test = hash_split([row.tobytes() for row in x_all], y_all)
        x_train, y_train, x_test, y_test = x_all[~is_test], y_all[~is_test], x_all[is_test], y_all[is_test]

    encoding = raw_train = raw_test = None
    if raw:
        raw_train, raw_test = x_train, x_test
        encoding = fit_features(raw_train)
        x_train, x_test = encoding.quantize(raw_train), encoding.quantize(raw_test)
        scale, zero_point = 1.0, 0  # per feature: see `encoding`
    else:
        default_scale = 1.0 / max(int(x_train.max()) if x_train.size else 1, 1)  # real values span [0, 1]
        scale = _scalar(path, arrays, "scale", default_scale)
        zero_point = _scalar(path, arrays, "zero_point", 0)
        if not (np.isfinite(scale) and scale > 0):
            raise PnetcError(f"{path}: scale must be a positive number, got {scale}")
        if not (np.isfinite(zero_point) and zero_point == round(zero_point) and 0 <= zero_point <= 255):
            raise PnetcError(f"{path}: zero_point must be an integer 0..255, got {zero_point}")
    return Dataset(
        name=name,
        task="features",
        labels=labels,
        x_train=np.ascontiguousarray(x_train),
        y_train=np.asarray(y_train, dtype=np.int64),
        x_test=np.ascontiguousarray(x_test),
        y_test=np.asarray(y_test, dtype=np.int64),
        input_shape=shape,
        scale=float(scale),
        zero_point=int(zero_point),
        source=str(path),
        encoding=encoding,
        x_train_raw=raw_train,
        x_test_raw=raw_test,
    )


def _scalar(path: Path, arrays: dict, key: str, default: float) -> float:
    if key not in arrays:
        return default
    a = np.asarray(arrays[key])
    if a.size != 1 or a.dtype.kind not in "iuf":
        raise PnetcError(f"{path}: {key!r} must be a single number")
    return a.reshape(()).item()
