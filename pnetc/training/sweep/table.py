"""The sweep's record: DIR/sweep.csv (one row per finished run, appended at once, so an
interrupted sweep resumes) and DIR/sweep.json (the options every run shares)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pnetc.errors import PnetcError
from pnetc.training.sweep.grid import cell

CSV_NAME, PNG_NAME, SETTINGS_NAME = "sweep.csv", "sweep.png", "sweep.json"
COLUMNS = (
    "dataset", "trainer", "kind", "density", "epochs", "seed", "lambdas", "temperature",  # shared (sweep.json)
    "T", "d", "fc", "mode",  # the configuration: the resume key
    "bits", "weight_bytes", "accuracy", "accuracy_int8_sim", "trainer_accuracy", "trainer_weight_bytes",
    "seconds", "model",
)
INT_COLUMNS = ("epochs", "seed", "T", "d", "bits", "weight_bytes", "trainer_weight_bytes")
FLOAT_COLUMNS = ("density", "temperature", "accuracy", "accuracy_int8_sim", "trainer_accuracy", "seconds")


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None:
            return []
        if tuple(reader.fieldnames) != COLUMNS:
            raise PnetcError(f"{path} does not have the columns of a pnetc sweep; use another --out")
        return list(reader)


def append_row(folder, row: dict) -> None:
    """Rewrite DIR/sweep.csv with one more row (a new file renamed into place: never half a row)."""
    rows = read_rows(folder.root / CSV_NAME)
    with folder.writing(CSV_NAME) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        writer.writerow({k: cell(row.get(k)) for k in COLUMNS})


def check_settings(folder, settings: dict) -> None:
    """DIR/sweep.json pins the options every run shares; resuming with others is refused."""
    out = folder.root
    path = out / SETTINGS_NAME
    if path.is_file():
        try:
            saved = json.loads(path.read_text())
        except json.JSONDecodeError:
            raise PnetcError(f"{path} is not valid JSON; delete it or use another --out") from None
        if saved != settings:
            diff = ", ".join(f"{k}={saved.get(k)!r} (now {settings.get(k)!r})"
                             for k in sorted(set(saved) | set(settings)) if saved.get(k) != settings.get(k))
            raise PnetcError(f"{out} holds a sweep with other options: {diff}; use the same options or another --out")
    else:
        folder.write_text(SETTINGS_NAME, json.dumps(settings, indent=1, sort_keys=True) + "\n")


def typed_row(r: dict[str, str]) -> dict:
    """A CSV row with its numbers typed ('' -> None)."""
    return {k: None if v == "" else int(v) if k in INT_COLUMNS else float(v) if k in FLOAT_COLUMNS else v
            for k, v in r.items()}


def read_typed_rows(path: Path) -> list[dict]:
    return [typed_row(r) for r in read_rows(path)]
