"""The one record protocol between pnetc and a firmware, whatever the board or the model.

In (`pnet_in.bin`): one record per sample, a uint32 little-endian byte count, then the sample
in the model's own input type (uint8 / int8 / float32 little-endian values, or the UTF-8 bytes
of a text). Out (`pnet_out.txt`): one line per sample, then an end line:

    P <prediction> <bits> <scores> <stack bytes>
    E <samples>

`<prediction>` is the entry point's return value in decimal (a class, or a negative error code).
`<bits>` is 8 hex digits per packed 32-bit word of projection bits, LSB first; `<scores>` is 2 hex
digits per int8 score or 8 per float32 score (its IEEE-754 bit pattern). An empty field (a model
without projection bits, or a harness that reports only the class) is written as `-`, so every
line has exactly five fields. Every board and every model kind (with or without bits, int8 or
float32 scores, dense, feature or text input) uses this one format; `templates/firmware/main.c.j2`
writes it and `parse_output` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pnetc.errors import PnetcError

INPUT_FILE = "pnet_in.bin"
OUTPUT_FILE = "pnet_out.txt"
EMPTY_FIELD = "-"
# the firmware's exit codes (runtime/semihost/pnet_io.h)
EXIT_MEANINGS = {3: "fault", 4: "cannot open the input file", 5: "cannot write the output file",
                 6: "malformed input record"}
INPUT_DTYPES = {"uint8": np.dtype(np.uint8), "int8": np.dtype(np.int8), "float32": np.dtype("<f4")}


class ProtocolError(PnetcError):
    """The firmware's output does not follow the record protocol."""


@dataclass
class DeviceOutput:
    predictions: np.ndarray      # [n] int64 (negative: the entry point's error code)
    bits: np.ndarray             # [n, B] uint8 0/1 (B = 0 for a model without projection bits)
    scores: np.ndarray           # [n, C] int8 or float32 ([n, 0] when the harness reports none)
    stack_bytes: np.ndarray      # [n] deepest stack used by each inference
    console: str = ""            # the firmware's console text (stdout + stderr)


def encode_records(samples: Sequence, input_dtype: str | None = None) -> bytes:
    """Records for `pnet_in.bin`. Text samples are bytes; a dense sample is cast to `input_dtype`
    ("uint8" | "int8" | "float32"), which must hold its values exactly."""
    dtype = INPUT_DTYPES.get(input_dtype) if input_dtype is not None else None
    if input_dtype is not None and dtype is None:
        raise PnetcError(f"unknown input type {input_dtype!r}; one of {', '.join(INPUT_DTYPES)}")
    chunks = []
    for i, s in enumerate(samples):
        if isinstance(s, (bytes, bytearray)):
            payload = bytes(s)
        else:
            arr = np.ascontiguousarray(s)
            if dtype is None:
                if arr.dtype.itemsize != 1:
                    raise PnetcError(f"sample {i}: dense inputs need an input type, got {arr.dtype} values")
                cast = arr
            else:
                with np.errstate(invalid="ignore", over="ignore"):  # checked just below
                    cast = arr.astype(dtype)
                if not np.array_equal(cast.astype(np.float64), arr.astype(np.float64), equal_nan=False):
                    raise PnetcError(f"sample {i} holds values that {input_dtype} cannot represent exactly "
                                     "(out of range, fractional or not finite)")
            payload = cast.tobytes()
        chunks.append(len(payload).to_bytes(4, "little"))
        chunks.append(payload)
    return b"".join(chunks)


def max_record_bytes(model, samples: Sequence) -> int:
    """The largest record the firmware must take: the model's input bytes, or the longest text."""
    if model.input_kind == "text":
        longest = max((len(s) for s in samples), default=1)
        return max(64, (longest + 63) // 64 * 64)
    itemsize = INPUT_DTYPES[getattr(model, "input_dtype", None) or "uint8"].itemsize
    return int(model.input_size) * itemsize


def _hex_words(field: str, digits: int, count: int, line_no: int) -> np.ndarray:
    if count == 0:
        if field not in (EMPTY_FIELD, ""):
            raise ProtocolError(f"output line {line_no}: expected an empty field, got {field[:40]!r}")
        return np.zeros(0, dtype=np.uint32)
    if len(field) != digits * count:
        raise ProtocolError(f"output line {line_no}: expected {digits * count} hex digits, got {len(field)}")
    try:
        return np.array([int(field[digits * i:digits * i + digits], 16) for i in range(count)], dtype=np.uint32)
    except ValueError:
        raise ProtocolError(f"output line {line_no}: {field[:40]!r} is not hex") from None


def parse_output(text: str, num_bits: int, num_classes: int, score_dtype: str | None) -> DeviceOutput:
    """Read `pnet_out.txt`. `score_dtype` None: the harness reports no scores (peer rows)."""
    words = (num_bits + 31) // 32
    width = {"float32": 8, "int8": 2, None: 0}[score_dtype]
    n_scores = num_classes if width else 0
    preds, bits, scores, stack = [], [], [], []
    end_count = None
    for line_no, line in enumerate(text.splitlines(), 1):
        if line.startswith("E "):
            end_count = int(line[2:])
            continue
        if not line.startswith("P "):
            continue  # console text that shares the stream
        fields = line.split(" ")
        if len(fields) != 5:
            raise ProtocolError(f"output line {line_no} has {len(fields)} fields, expected 5: {line[:80]!r}")
        _, pred, bits_hex, scores_hex, used = fields
        try:
            preds.append(int(pred))
            stack.append(int(used))
        except ValueError:
            raise ProtocolError(f"output line {line_no}: {line[:80]!r} is not a result line") from None
        packed = _hex_words(bits_hex, 8, words, line_no).astype("<u4")
        bits.append(np.unpackbits(packed.view(np.uint8), bitorder="little")[:num_bits])
        raw = _hex_words(scores_hex, width, n_scores, line_no)
        scores.append(raw.view(np.float32) if width == 8 else raw.astype(np.uint8).view(np.int8))
    if end_count is not None and end_count != len(preds):
        raise ProtocolError(f"the firmware reported {end_count} samples but wrote {len(preds)} lines")
    n = len(preds)
    score_type = np.float32 if width == 8 else np.int8
    return DeviceOutput(
        predictions=np.array(preds, dtype=np.int64),
        bits=np.array(bits, dtype=np.uint8).reshape(n, num_bits),
        scores=np.array(scores, dtype=score_type).reshape(n, n_scores),
        stack_bytes=np.array(stack, dtype=np.int64),
    )


def done_count(text: str) -> int:
    """Result lines written so far (for progress and error messages)."""
    return text.count("\nP ") + text.startswith("P ")
