"""Unlabelled inputs for `pnetc predict --data FILE`, every sample in file order.

text models:    .txt (one text per non-empty line), .csv (a `text` column), .jsonl (a "text" field)
feature models: .npz (array `x` [n, features...]), .npy, .csv (numbers; a header row and columns
                named label or split are skipped)

Labels, when present, are ignored: predict gives the model's answer, `eval` scores it.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from pnetc.datasets import MAX_TEXT_BYTES, text_too_long
from pnetc.datasets.userdata import _read_text, check_file_size, check_npz_members
from pnetc.errors import PnetcError

TEXT_SUFFIXES = (".txt", ".csv", ".jsonl")
FEATURE_SUFFIXES = (".npz", ".npy", ".csv")
_SKIPPED_COLUMNS = ("label", "split")


def read_inputs(path, *, text: bool):
    """A list of UTF-8 byte strings (text) or a 2-D numeric array [n, features]."""
    path = Path(path).expanduser()
    suffixes = TEXT_SUFFIXES if text else FEATURE_SUFFIXES
    if path.suffix.lower() not in suffixes:
        kind = "text" if text else "feature"
        raise PnetcError(f"--data {path}: a {kind} model reads {', '.join(suffixes)} files here")
    if not path.is_file():
        what = "is not a regular file (a folder, device or pipe)" if path.exists() else "does not exist"
        raise PnetcError(f"data file {path} {what}")
    check_file_size(path)
    samples = _read_texts(path) if text else _read_features(path)
    if len(samples) == 0:
        raise PnetcError(f"{path}: no samples")
    return samples


def _encoded(path: Path, line: int, value) -> bytes:
    if not isinstance(value, str):
        raise PnetcError(f"{path} line {line}: text must be a string")
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:
        raise PnetcError(f"{path} line {line}: the text holds an unpaired surrogate; it is not valid Unicode") from None
    if len(data) > MAX_TEXT_BYTES:
        raise PnetcError(f"{path} line {line}: {text_too_long(len(data))}")
    return data


def _read_texts(path: Path) -> list[bytes]:
    text = _read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return [_encoded(path, i, line) for i, line in enumerate(text.split("\n"), 1) if line.strip()]
    if suffix == ".jsonl":
        out = []
        for i, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                raise PnetcError(f"{path} line {i}: invalid JSON") from None
            if not isinstance(obj, dict) or "text" not in obj:
                raise PnetcError(f"{path} line {i}: expected a JSON object with a field text")
            out.append(_encoded(path, i, obj["text"]))
        return out
    rows = _csv_rows(path, text)
    names = [h.strip().lower() for h in rows[0][1]] if rows else []
    if "text" not in names:
        raise PnetcError(f"{path} line 1: the header must name a column text")
    col = names.index("text")
    return [_encoded(path, line, row[col]) for line, row in rows[1:]]


def _csv_rows(path: Path, text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        for row in reader:
            if row:
                if rows and len(row) != len(rows[0][1]):
                    raise PnetcError(f"{path} line {reader.line_num}: expected {len(rows[0][1])} fields, "
                                     f"found {len(row)}")
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise PnetcError(f"{path} line {reader.line_num}: malformed CSV ({exc})") from None
    return rows


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _read_features(path: Path) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path, _read_text(path))
        keep = None
        if rows and not all(_number(v) for v in rows[0][1]):  # a header row
            names = [h.strip().lower() for h in rows[0][1]]
            keep = [i for i, n in enumerate(names) if n not in _SKIPPED_COLUMNS]
            rows = rows[1:]
        values = []
        for line, row in rows:
            cells = row if keep is None else [row[i] for i in keep]
            try:
                values.append([float(v) for v in cells])
            except ValueError:
                raise PnetcError(f"{path} line {line}: every feature must be a number") from None
        x = np.asarray(values, np.float64)
    elif suffix == ".npy":
        try:
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise PnetcError(f"{path}: cannot read the .npy array ({exc})") from None
    else:
        if not zipfile.is_zipfile(path):
            raise PnetcError(f"{path}: not an .npz archive (not a zip file); save the arrays with numpy.savez")
        check_npz_members(path)
        try:
            with np.load(path, allow_pickle=False) as archive:
                if "x" not in archive.files:
                    raise PnetcError(f"{path}: no array x (found: {', '.join(sorted(archive.files)) or 'none'})")
                x = archive["x"]
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise PnetcError(f"{path}: cannot read the .npz archive ({exc})") from None
    if x.dtype.kind not in "biuf":
        raise PnetcError(f"{path}: the features have dtype {x.dtype}; they must be numbers")
    if x.ndim < 1 or (x.ndim == 1 and suffix != ".csv"):
        raise PnetcError(f"{path}: the features must have shape [n, features...], got {x.shape}")
    x = x.reshape(len(x), -1)
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise PnetcError(f"{path}: the features hold NaN or infinite values")
    return x
