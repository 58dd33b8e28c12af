"""The toy model of fixtures/toy.c as a CompiledModel look-alike, with its numpy twin."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pnetc.resources import data_dir

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class ToyReference:
    score_dtype: str
    input_dtype = "uint8"

    def encode_input(self, x):
        return np.asarray(x, dtype=np.uint8)  # the toy C takes its bytes as given

    def run(self, x):
        x = np.asarray(x, dtype=np.int64)
        k = np.arange(40)
        bits = ((((x[:, k % 16]) ^ (k * 37)) & 0xFF) > 127).astype(np.uint8)
        w = np.stack([(k * 5 + o) % 7 - 3 for o in (0, 11, 22)], axis=1)
        acc = np.clip(bits.astype(np.int64) @ w - 20, -128, 127)
        preds = np.argmax(acc, axis=1)
        scores = acc.astype(np.int8) if self.score_dtype == "int8" else (acc * 0.25).astype(np.float32)
        return type("Out", (), {"bits": bits, "scores": scores, "predictions": preds})()


@dataclass
class ToyModel:
    """Quacks like pnetc.compiler.CompiledModel for the firmware builder."""

    variant: str = ""                 # "", "fault" or "hang"
    score_dtype: str = "int8"
    weight_rows: int = 0              # >0: add a big dummy weight table (for the fit check)
    escape_to: str = ""               # hostile: write this file and read secret_from (tests the sandbox)
    secret_from: str = ""
    out_dir: Path = field(default_factory=lambda: FIXTURES)
    name: str = "toy"
    input_kind: str = "dense"
    input_size: int = 16
    num_classes: int = 3
    num_bits: int = 40
    arena_bytes: int = 16

    @property
    def weight_bytes(self) -> int:
        return 120 + self.weight_rows

    @property
    def header(self) -> Path:
        return FIXTURES / "toy.h"

    @property
    def sources(self) -> list[Path]:
        return [FIXTURES / "toy.c"] + ([FIXTURES / "toy_big.c"] if self.weight_rows else [])

    @property
    def include_dirs(self) -> list[Path]:
        return [FIXTURES, data_dir("runtime") / "include"]

    @property
    def cflags(self) -> list[str]:
        flags = {"fault": ["-DTOY_FAULT"], "hang": ["-DTOY_HANG"]}.get(self.variant, [])
        if self.score_dtype == "float32":
            flags.append("-DTOY_FLOAT")
        if self.weight_rows:
            flags.append(f"-DTOY_BIG_BYTES={self.weight_rows}")
        if self.escape_to:
            flags += [f'-DTOY_ESCAPE_PATH="{self.escape_to}"', f'-DTOY_SECRET_PATH="{self.secret_from}"']
        return flags

    @property
    def reference(self) -> ToyReference:
        return ToyReference(self.score_dtype)


def toy_inputs(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 16), dtype=np.uint8)
