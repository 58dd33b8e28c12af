"""The data a model was trained on, as `pnetc train` records it in the model's metadata, so that
eval, verify, run and bench find it again without --dataset/--data.

A built-in data set is recorded by name (`pnetc.training` "dataset"). A data file is recorded in
`pnetc.training` "data_file" as {"path": relative to the model's folder, "sha256": of the file}:
the pair moves with the folder, and a file that has changed since is refused, never silently used.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Optional

from pnetc.datasets import DATASET_NAMES, USER_SUFFIXES
from pnetc.errors import PnetcError

NO_DATA = "pass --dataset NAME or --data FILE (the model does not record the data it was trained on)"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_file_record(dataset: str, model_dir: Path) -> Optional[dict]:
    """What train records of a data file (None for a built-in data set or a folder of IDX files)."""
    path = Path(dataset).expanduser()
    if str(dataset) in DATASET_NAMES or path.suffix.lower() not in USER_SUFFIXES or not path.is_file():
        return None
    return {"path": Path(os.path.relpath(path.resolve(), Path(model_dir).resolve())).as_posix(),
            "sha256": file_sha256(path)}


def recorded_data(training, model_path) -> tuple[Optional[str], Optional[str]]:
    """(built-in data set name, None) or (None, data file path) the model was trained on.

    Raises the one message every command gives when there is no record, or when the recorded
    file is gone or has changed."""
    training = training if isinstance(training, dict) else {}
    record = training.get("data_file")
    if isinstance(record, dict) and isinstance(record.get("path"), str):
        path = Path(model_path).resolve().parent / record["path"]
        shown = os.path.normpath(path)
        if not path.is_file():
            raise PnetcError(f"the model was trained on {shown}, which no longer exists; pass --data FILE")
        if record.get("sha256") != file_sha256(path):
            raise PnetcError(f"the model was trained on {shown}, which has changed since (its sha256 differs); "
                             "pass --data FILE")
        return None, shown
    name = training.get("dataset")
    if name in DATASET_NAMES:
        return name, None
    raise PnetcError(NO_DATA)
