"""One firmware harness for every row of the comparison: pnetc models and peers alike.

A row is C sources plus an adapter `int bench_predict(const void *input)` (bench/adapters.py
writes it). The harness main (templates/harness_main.c.j2) reads each sample, already in the
model's own input type (prepared on the host, so no conversion is counted), calls the adapter
between the instruction-count markers and writes the class and the stack it used.

Everything else is the boards code of pnetc: the board's startup, linker script, flags and I/O
(pnetc.targets.toolchain.compile_firmware), the size delta against a no-model build
(pnetc.targets.size), and the QEMU TCG plugin with its marker calibration (pnetc.measure.count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import jinja2
import numpy as np

from pnetc.errors import PnetcError

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
BASELINE_ADAPTER = TEMPLATES / "baseline_adapter.c"


@dataclass
class Row:
    """One model, ready to build: its C, its inputs and the predictions its reference gives."""

    key: str                          # short id, e.g. "pnetc-int8"
    label: str                        # the table's row name
    tool: str                         # "pnetc", "emlearn", "emx-onnx-cgen"
    model: str                        # which model: "projection net", "trainer MLP", ...
    precision: str                    # "int8", "float32", ...
    sources: list[Path] = field(default_factory=list)
    include_dirs: list[Path] = field(default_factory=list)
    cflags: list[str] = field(default_factory=list)
    records: np.ndarray | None = None      # [n, record_bytes] uint8: each test sample in the model's input type
    reference: np.ndarray | None = None    # [n] the predictions of the row's own reference
    reference_name: str = ""               # what the reference is ("golden interpreter", "sklearn", ...)
    reference_accuracy: float | None = None
    weight_bytes: int | None = None        # the model's weight tables, when the tool says
    macs: int | None = None                # multiply-accumulates of the dense layers per inference
    stage_macs: list = field(default_factory=list)  # pnetc: MACs of each marked stage (None: not a multiplying layer)
    unavailable: str = ""                  # non-empty: why this row cannot be built (shown in the table)
    notes: list[str] = field(default_factory=list)

    @property
    def record_bytes(self) -> int:
        return int(self.records.shape[1]) if self.records is not None else 0


@dataclass
class Measurement:
    board: str
    flash_bytes: int
    flash_sections: dict
    ram_static_bytes: int
    stack_bytes: int
    instructions_mean: float
    instructions_min: int
    instructions_max: int
    predictions: np.ndarray
    samples: int
    marker_overhead: int
    host_seconds: float
    stages: list[float] = field(default_factory=list)   # mean instructions of each marked stage (pnetc rows)

    def to_dict(self) -> dict:
        return {
            "board": self.board, "flash_bytes": self.flash_bytes, "flash_sections": self.flash_sections,
            "ram_static_bytes": self.ram_static_bytes, "stack_bytes": self.stack_bytes,
            "ram_bytes": self.ram_static_bytes + self.stack_bytes,
            "instructions_mean": self.instructions_mean, "instructions_min": self.instructions_min,
            "instructions_max": self.instructions_max, "samples": self.samples,
            "marker_overhead": self.marker_overhead, "host_seconds": round(self.host_seconds, 2),
            "stages": self.stages,
        }


def render_main(board_name: str, record_bytes: int, *, bench: bool, purpose: str) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("harness_main.c.j2").render(board=board_name, record_bytes=record_bytes, bench=bench,
                                                        purpose=purpose)


def encode_records(records: np.ndarray) -> bytes:
    """pnet_in.bin: per sample a uint32 little-endian byte count, then the bytes."""
    records = np.ascontiguousarray(records, dtype=np.uint8)
    n, width = records.shape
    head = np.frombuffer(np.uint32(width).astype("<u4").tobytes(), np.uint8)
    return np.concatenate([np.broadcast_to(head, (n, 4)), records], axis=1).tobytes()


def parse_harness_output(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(predictions, stack bytes) from the harness's pnet_out.txt lines."""
    preds, stack = [], []
    end = None
    for line in text.splitlines():
        if line.startswith("P "):
            _, pred, used = line.split()
            preds.append(int(pred))
            stack.append(int(used))
        elif line.startswith("E "):
            end = int(line[2:])
    if end is not None and end != len(preds):
        raise PnetcError(f"the harness reported {end} samples but wrote {len(preds)} answers")
    return np.array(preds, dtype=np.int64), np.array(stack, dtype=np.int64)


def as_records(x: np.ndarray) -> np.ndarray:
    """Samples [n, ...] of any fixed-size dtype -> their raw bytes [n, bytes] (little-endian hosts)."""
    x = np.ascontiguousarray(x)
    return x.reshape(len(x), -1).view(np.uint8).reshape(len(x), -1)


def timeout_for(n: int, board) -> float:
    """Generous: the largest row (a float MLP, ~1.5 M instructions) runs at well over 10 M instr/s."""
    per_sample = 0.03 if board.runner == "qemu-system" else 0.02
    return 60.0 + n * per_sample


def measure_row(board, row: Row, work: Path, *, baselines: dict | None = None) -> Measurement:
    """Build the row's firmware (sizes: plain build minus the no-model build; counts: marked build),
    run every sample once under QEMU with the counting plugin, and collect what it answered."""
    from pnetc.measure.count import counts_from_windows, run_counted
    from pnetc.targets.size import image_sizes
    from pnetc.targets.run import check_execution
    from pnetc.targets.toolchain import compile_firmware

    if row.records is None or not len(row.records):
        raise PnetcError(f"row {row.key} has no samples")
    work.mkdir(parents=True, exist_ok=True)
    rb = row.record_bytes
    key = (board.name, rb)
    baselines = baselines if baselines is not None else {}
    if key not in baselines:
        base_dir = work.parent / f"baseline-{board.name}-{rb}"
        fw = compile_firmware(board, base_dir, main_c=render_main(board.name, rb, bench=False, purpose="no-model build"),
                              sources=[BASELINE_ADAPTER], stem="baseline")
        baselines[key] = image_sizes(board, fw.elf)
    plain = compile_firmware(board, work, main_c=render_main(board.name, rb, bench=False, purpose="size build"),
                             sources=row.sources, include_dirs=row.include_dirs, extra_cflags=row.cflags,
                             stem="firmware")
    model_sizes = image_sizes(board, plain.elf).minus(baselines[key])
    marked = compile_firmware(board, work, main_c=render_main(board.name, rb, bench=True, purpose="benchmark build"),
                              sources=row.sources, include_dirs=row.include_dirs, extra_cflags=row.cflags,
                              bench=True, stem="bench")
    run_dir = work / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "pnet_in.bin").write_bytes(encode_records(row.records))
    n = len(row.records)
    timeout = timeout_for(n, board)
    run, windows = run_counted(board, marked.elf, run_dir, n_samples=n, timeout_s=timeout)
    check_execution(run, board, n, timeout, marked.elf)
    preds, stack = parse_harness_output(run.output)
    if len(preds) != n:
        raise PnetcError(f"{row.key} on {board.name}: the firmware answered {len(preds)} of {n} samples")
    counts = counts_from_windows(windows)
    per = counts.per_inference
    return Measurement(
        board=board.name, flash_bytes=model_sizes.flash, flash_sections=model_sizes.to_dict(),
        ram_static_bytes=model_sizes.ram, stack_bytes=int(stack.max()),
        instructions_mean=float(per.mean()), instructions_min=int(per.min()), instructions_max=int(per.max()),
        predictions=preds, samples=n, marker_overhead=counts.marker_overhead, host_seconds=run.elapsed_s,
        stages=[float(c.mean()) for c in counts.per_stage.T])


def accuracy(pred: Sequence[int], y: np.ndarray) -> float:
    return float(np.mean(np.asarray(pred) == np.asarray(y)))
