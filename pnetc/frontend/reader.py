"""Read an ONNX file: size and type checks, protobuf decoding, string fields, opsets and pnetc metadata."""

from __future__ import annotations

import hashlib
import json
import math
import stat
from collections import Counter
from pathlib import Path


from pnetc.errors import PnetcError
from pnetc.frontend.context import PNETC_DOMAIN
from pnetc.frontend.external_data import inline_external_data
from pnetc.frontend.outputs import select_output
from pnetc.ir.graph import ModelInfo
from pnetc.ir.limits import MAX_TENSOR_DATA_BYTES

OPSET_MIN, OPSET_MAX = 13, 21


def load_onnx(path: str | Path, output: str | None = None):
    """The ModelProto of an ONNX file with its external data checked and inlined (see
    pnetc.frontend.external_data) and cut to its one output (pnetc.frontend.outputs): what
    onnxruntime may be given instead of the path."""
    return read_proto(Path(path), output)[0]


def read_proto(path: Path, output: str | None = None):
    """(ModelProto, sha256) of a model file, cut to one output (`output`, or the class scores).
    The digest covers the file and, in order, the external data it references, so it identifies
    the weights as well."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise PnetcError(f"model file {path} does not exist") from None
    except OSError as exc:
        raise PnetcError(f"cannot read {path}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise PnetcError(f"{path} is a directory; pass the .onnx file")
    if not stat.S_ISREG(mode):  # a FIFO would block, /dev/zero never ends
        raise PnetcError(f"{path} is not a regular file")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_TENSOR_DATA_BYTES + 1)
    except OSError as exc:
        raise PnetcError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_TENSOR_DATA_BYTES:
        raise PnetcError(f"{path} is larger than {MAX_TENSOR_DATA_BYTES} bytes, the limit for a model file")
    import onnx

    try:
        model = onnx.load_from_string(data)
    except Exception as exc:  # protobuf raises DecodeError and friends
        raise PnetcError(f"{path} is not a valid ONNX file ({type(exc).__name__}); is it truncated?") from None
    if not model.graph.node:
        raise PnetcError(f"{path} is not an ONNX model with a graph (no nodes found)")
    check_strings(model, str(path))
    digest = hashlib.sha256(data)
    for chunk in inline_external_data(model, path, len(data)):
        digest.update(chunk)
    select_output(model, str(path), output)
    return model, digest.hexdigest()


def check_strings(msg, path: str) -> None:
    """protobuf hands out a string field that is not valid UTF-8 (a damaged file) as bytes; stop here
    with one message instead of a TypeError wherever a name or key is used."""
    for fd, value in msg.ListFields():
        repeated = fd.is_repeated if hasattr(fd, "is_repeated") else fd.label == fd.LABEL_REPEATED
        items = value if repeated else [value]
        if fd.type == fd.TYPE_MESSAGE:
            for item in items:
                check_strings(item, path)
        elif fd.type == fd.TYPE_STRING and any(not isinstance(v, str) for v in items):
            raise PnetcError(f"{path}: a {fd.name} field is not valid UTF-8; is the file damaged?")


def read_opsets(model, info: ModelInfo, path: str) -> None:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            info.opset = int(imp.version)
        elif imp.domain == PNETC_DOMAIN and imp.version != 1:
            raise PnetcError(f"{path}: ai.pnetc opset version {imp.version} is not supported (only 1)")
    if not OPSET_MIN <= info.opset <= OPSET_MAX:
        raise PnetcError(
            f"{path}: ONNX opset {info.opset} is not supported; pnetc reads opsets {OPSET_MIN}-{OPSET_MAX} "
            "(re-export with opset_version=17)"
        )


def read_metadata(model, info: ModelInfo, path: str) -> None:
    meta = {}
    for prop in model.metadata_props:
        if prop.key.startswith("pnetc."):
            try:
                meta[prop.key] = json.loads(prop.value)
            except ValueError:  # JSONDecodeError, or UnicodeDecodeError for bytes that are not UTF-8
                raise PnetcError(f"{path}: metadata {prop.key} is not valid JSON") from None
            except RecursionError:  # "[[[[..." nested deeper than the parser's stack
                raise PnetcError(f"{path}: metadata {prop.key} is nested too deeply") from None
    if "pnetc.format" in meta and meta["pnetc.format"] not in FORMAT_VERSIONS:
        raise PnetcError(f"{path}: pnetc format {meta['pnetc.format']} is not supported (only 1 and 2)")
    info.task = str(meta.get("pnetc.task", "features"))
    labels = meta.get("pnetc.labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in labels):
        raise PnetcError(f"{path}: metadata pnetc.labels must be a list of class names")
    info.labels = [str(x) for x in labels]
    twice = sorted(x for x, n in Counter(info.labels).items() if n > 1)
    if twice:  # data labels map to classes by name, and per-class results are keyed by it
        raise PnetcError(f"{path}: metadata pnetc.labels names a class more than once: "
                         f"{', '.join(repr(x) for x in twice[:5])}; class names must be unique")
    for key, attr in (("pnetc.input", "input_spec"), ("pnetc.calibration", "calibration"),
                      ("pnetc.projection", "projection"), ("pnetc.training", "training")):
        value = meta.get(key, {})
        if not isinstance(value, dict):
            raise PnetcError(f"{path}: metadata {key} must be a JSON object")
        setattr(info, attr, value)
    for name, rng in info.calibration.items():
        if not (isinstance(rng, dict) and _finite(rng.get("min")) and _finite(rng.get("max"))):
            raise PnetcError(f"{path}: calibration entry for '{name}' needs finite 'min' and 'max'")


FORMAT_VERSIONS = (1, 2)  # 2 adds the presence text projection (docs/format.md)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)
