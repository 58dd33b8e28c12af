"""What every stage result shares: `to_dict()`, the JSON-ready form `--json` prints.

The stages return frozen dataclasses built on `Result`; the API returns them as they are."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any


class Result:
    """`to_dict()`: every public field, paths as strings, nested dataclasses as dicts, and the
    entries of a field named `extra` merged into the top level."""

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name.startswith("_") or not f.repr:
                continue
            out[f.name] = jsonable(getattr(self, f.name))
        extra = out.pop("extra", None)
        if isinstance(extra, dict):
            out.update(extra)
        return out


def jsonable(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: jsonable(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v
