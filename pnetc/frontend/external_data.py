"""External tensor data, read only from the model's own folder.

ONNX lets a tensor keep its bytes in another file (data_location = EXTERNAL, `location`,
`offset`, `length`). onnx's own reader resolves `location` against whatever base directory
the caller passes, the current directory by default, so a model could pull any file into
its weights. pnetc reads external data itself, under these rules:

* `location` is a relative path resolved against the folder of the model file (after
  resolving symlinks) and must stay inside that folder after resolving its own symlinks:
  no absolute paths, no `..`, no hidden components (`.env`, `.git/...`), no backslashes;
* the file must be a regular file (no device, FIFO, socket or directory);
* `offset` and `length` are plain decimal integers, and the bytes read must be exactly the
  size implied by the tensor's element type and shape (a missing `length` means "to the end
  of the file", which must then be that size too);
* the .onnx file and all external data together stay under MAX_TENSOR_DATA_BYTES.

Every tensor anywhere in the model is inlined this way, so nothing later (onnx helpers,
onnxruntime) ever opens a file named by the model.
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path, PurePosixPath

from pnetc.errors import PnetcError
from pnetc.ir.limits import MAX_TENSOR_DATA_BYTES

# element types with a fixed byte size (onnx.TensorProto enum -> bytes per element)
_ELEMENT_BYTES = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8}
_DECIMAL = re.compile(r"[0-9]{1,19}")
MAX_LOCATION_CHARS = 4096  # PATH_MAX on Linux


def _shown(text: str) -> str:
    """A location or value for an error line: quoted, escaped, and short."""
    return repr(text[:60]) + ("..." if len(text) > 60 else "")


def _tensors(msg, tensor_type):
    """Every TensorProto inside a protobuf message (initializers, attributes, subgraphs, functions)."""
    for fd, value in msg.ListFields():
        if fd.type != fd.TYPE_MESSAGE:
            continue
        repeated = fd.is_repeated if hasattr(fd, "is_repeated") else fd.label == fd.LABEL_REPEATED
        for item in (value if repeated else [value]):
            if isinstance(item, tensor_type):
                yield item
            yield from _tensors(item, tensor_type)


def inline_external_data(model, model_path: Path, used_bytes: int) -> list[bytes]:
    """Replace every external tensor's reference by its bytes; returns the chunks read, in order.

    `used_bytes` is what already counts against MAX_TENSOR_DATA_BYTES (the .onnx file)."""
    from onnx import TensorProto

    external = [t for t in _tensors(model, TensorProto) if t.data_location == TensorProto.EXTERNAL]
    if not external:
        return []
    folder = model_path.resolve().parent
    chunks = []
    for tensor in external:
        data = _read(tensor, folder, MAX_TENSOR_DATA_BYTES - used_bytes, str(model_path))
        used_bytes += len(data)
        tensor.raw_data = data
        tensor.data_location = TensorProto.DEFAULT
        del tensor.external_data[:]
        chunks.append(data)
    return chunks


def _entries(tensor, fail) -> dict[str, str]:
    entries = {}
    for entry in tensor.external_data:
        if entry.key in entries:
            raise fail(f"external_data key '{entry.key}' appears twice")
        entries[entry.key] = entry.value
    return entries


def _integer(entries: dict, key: str, fail) -> int | None:
    if key not in entries:
        return None
    if not _DECIMAL.fullmatch(entries[key]):
        raise fail(f"external data {key} {_shown(entries[key])} is not a non-negative integer")
    return int(entries[key])


def _resolve(location: str, folder: Path, fail) -> Path:
    if not location:
        raise fail("external data has no location")
    shown = _shown(location)
    if (len(location) > MAX_LOCATION_CHARS or "\0" in location or "\\" in location or location.startswith("/")
            or re.match(r"[A-Za-z]:", location)):
        raise fail(f"external data location {shown} must be a relative path inside the model's folder")
    if any(part.startswith(".") for part in PurePosixPath(location).parts):
        raise fail(f"external data location {shown} may not contain '..' or hidden (dot) files")
    try:
        target = (folder / location).resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        raise fail(f"external data location {shown} cannot be resolved (a symlink loop?)") from None
    if target == folder or folder not in target.parents:
        raise fail(f"external data location {shown} leaves the model's folder (through a symlink)")
    return target


def _read(tensor, folder: Path, budget: int, path: str) -> bytes:
    def fail(message: str) -> PnetcError:
        return PnetcError(f"{path}: tensor '{tensor.name}': {message}")

    entries = _entries(tensor, fail)
    target = _resolve(entries.get("location", ""), folder, fail)
    location = _shown(entries["location"])
    offset = _integer(entries, "offset", fail) or 0
    length = _integer(entries, "length", fail)
    itemsize = _ELEMENT_BYTES.get(tensor.data_type)
    if itemsize is None:
        raise fail(f"external data of element type {tensor.data_type} is not supported (numeric types only)")
    dims = list(tensor.dims)
    if any(d < 0 for d in dims):
        raise fail(f"negative dimension in shape {dims}")
    expected = math.prod(dims) * itemsize
    if length is not None and length != expected:
        raise fail(f"external data length {length} does not match its shape {dims} ({expected} bytes)")
    if expected > budget:
        raise fail(f"external data of {expected} bytes would bring the model file and its external data over "
                   f"the limit of {MAX_TENSOR_DATA_BYTES} bytes")
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise fail(f"external data file {location} does not exist in the model's folder") from None
    except OSError as exc:
        raise fail(f"cannot open external data file {location} ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise fail(f"external data file {location} is not a regular file")
        available = info.st_size - offset
        if available < expected or (length is None and available != expected):
            raise fail(f"external data file {location} holds {max(available, 0)} bytes from offset {offset}; "
                       f"the shape {dims} needs exactly {expected}")
        data = bytearray()
        while len(data) < expected:
            chunk = os.pread(fd, expected - len(data), offset + len(data))
            if not chunk:
                raise fail(f"external data file {location} ended early (changed while reading?)")
            data += chunk
        return bytes(data)
    finally:
        os.close(fd)
