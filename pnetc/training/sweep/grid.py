"""The sweep's grid: `T=8,10,60 d=10,12 fc=0,128,256-128` parsed into points (no torch).

`fc=0` is no hidden layer (a linear model on the bits), `256-128` two hidden layers. A key left out
takes the dataset's default. Parsing needs no torch, so a bad grid fails at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from pnetc.errors import PnetcError

GRID_KEYS = ("T", "d", "fc")
MODES = {"joint": "joint", "alone": "projection-only"}  # sweep name -> TrainConfig.mode
TRAINER_MODE = "trainer"  # the reference row
DEFAULT_GRID = "T=2,4,8,16,32 d=8 fc=0,64"
_EXAMPLE = "e.g. --grid 'T=8,10,60 d=10,12 fc=0,128,256'"


@dataclass(frozen=True)
class Point:
    """One grid configuration in one mode. T/d/fc are None for the trainer-only row."""

    T: int | None
    d: int | None
    fc: tuple[int, ...] | None
    mode: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (cell(self.T), cell(self.d), "" if self.fc is None else fc_text(self.fc), self.mode)

    @property
    def label(self) -> str:
        if self.mode == TRAINER_MODE:
            return "trainer alone (reference)"
        return f"T={self.T} d={self.d} fc={fc_text(self.fc)} {self.mode}"

    @property
    def dirname(self) -> str:
        if self.mode == TRAINER_MODE:
            return TRAINER_MODE
        return f"{self.mode}-T{self.T}-d{self.d}-fc{fc_text(self.fc)}"


def cell(v) -> str:
    """A CSV cell: None is empty."""
    return "" if v is None else str(v)


def fc_text(fc) -> str:
    return "-".join(str(w) for w in fc) if fc else "0"


# ---------------------------------------------------------------------------
# Parsing (no torch)
# ---------------------------------------------------------------------------


def _ints(key: str, text: str, item: str, *, allow_zero: bool = False) -> list[int]:
    values = []
    for part in text.split(","):
        part = part.strip()
        try:
            v = int(part)
        except ValueError:
            raise PnetcError(f"grid {item!r}: {part!r} is not an integer; {_EXAMPLE}") from None
        if v < 0 or (v == 0 and not allow_zero):
            raise PnetcError(f"grid {item!r}: {key} values must be positive, got {v}")
        values.append(v)
    return values


def parse_grid(items: list[str] | str | None) -> dict[str, list]:
    """'T=8,10 d=12 fc=0,128,256-128' (or the same as a list of items) -> {"T": [8, 10], "d": [12],
    "fc": [(), (128,), (256, 128)]}. Keys left out map to [None] (the dataset default)."""
    if items is None:
        items = [DEFAULT_GRID]
    if isinstance(items, str):
        items = [items]
    tokens = [tok for item in items for tok in str(item).split()]
    grid: dict[str, list] = {}
    for tok in tokens:
        key, sep, text = tok.partition("=")
        if not sep or not key:
            raise PnetcError(f"grid item {tok!r} is not KEY=VALUES; {_EXAMPLE}")
        if key not in GRID_KEYS:
            raise PnetcError(f"unknown grid key {key!r} in {tok!r}; the keys are T, d and fc ({_EXAMPLE})")
        if key in grid:
            raise PnetcError(f"grid key {key!r} is given twice; list all its values once, like {key}=8,12")
        if not text.strip() or any(not p.strip() for p in text.split(",")):
            raise PnetcError(f"grid {tok!r} has an empty value; {_EXAMPLE}")
        if key == "fc":
            values = []
            for part in text.split(","):
                widths = _ints(key, part.replace("-", ","), tok, allow_zero=True)
                if 0 in widths and widths != [0]:
                    raise PnetcError(f"grid {tok!r}: fc=0 means no hidden layer and cannot be part of {part!r}")
                values.append(() if widths == [0] else tuple(widths))
        else:
            values = _ints(key, text, tok)
        grid[key] = list(dict.fromkeys(values))  # drop repeats, keep order
    for key in GRID_KEYS:
        grid.setdefault(key, [None])
    return grid


def parse_modes(text: str | None) -> list[str]:
    parts = [p.strip() for p in (text or "joint,alone").split(",") if p.strip()]
    if not parts:
        raise PnetcError("--modes is empty; use joint, alone or joint,alone")
    for p in parts:
        if p not in MODES:
            raise PnetcError(f"unknown mode {p!r} in --modes; use joint, alone or joint,alone")
    return list(dict.fromkeys(parts))
