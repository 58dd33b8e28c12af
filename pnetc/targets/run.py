"""Run a compiled model on a board and compare every answer with the golden interpreter.

The samples are streamed: the firmware reads `pnet_in.bin` (records: uint32 little-endian byte
count, then the sample) through semihosting on bare-metal boards and through stdio on Linux
and the host, and writes one hex line per sample to `pnet_out.txt`. One firmware build and one
emulator run handle any number of samples, whatever the board's RAM.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from pnetc.errors import PnetcError
from pnetc.targets.boards import Board
from pnetc.targets.toolchain import Firmware, ModelSources, compile_firmware, render_main
from pnetc.targets import host as host_runner
from pnetc.targets import qemu

INPUT_FILE = "pnet_in.bin"
OUTPUT_FILE = "pnet_out.txt"
EXIT_MEANINGS = {3: "fault", 4: "cannot open the input file", 5: "cannot write the output file",
                 6: "malformed input record"}


class DeviceError(PnetcError):
    """The firmware faulted, hung, or exited badly. `kind` is "fault", "timeout" or "exit"."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


@dataclass
class DeviceOutput:
    predictions: np.ndarray      # [n] int64
    bits: np.ndarray             # [n, B] uint8 0/1
    scores: np.ndarray           # [n, C] int8 or float32
    stack_bytes: np.ndarray      # [n] deepest stack used by each inference
    console: str = ""            # the firmware's console text (stdout + stderr)


# ---- inputs and outputs ------------------------------------------------------------------


def encode_records(samples: Sequence) -> bytes:
    """Records for pnet_in.bin; dense rows must be 1-byte integers, text samples are bytes."""
    chunks = []
    for s in samples:
        if isinstance(s, (bytes, bytearray)):
            payload = bytes(s)
        else:
            arr = np.ascontiguousarray(s)
            if arr.dtype.itemsize != 1:
                raise PnetcError(f"dense inputs must be uint8 or int8, got {arr.dtype}")
            payload = arr.tobytes()
        chunks.append(len(payload).to_bytes(4, "little"))
        chunks.append(payload)
    return b"".join(chunks)


def max_record_bytes(model: ModelSources, samples: Sequence) -> int:
    if model.input_kind == "text":
        longest = max((len(s) for s in samples), default=1)
        return max(64, (longest + 63) // 64 * 64)
    return int(model.input_size)


def parse_output(text: str, num_bits: int, num_classes: int, score_dtype: str) -> DeviceOutput:
    words = (num_bits + 31) // 32
    width = 8 if score_dtype == "float32" else 2
    preds, bits, scores, stack = [], [], [], []
    end_count = None
    for line in text.splitlines():
        if line.startswith("E "):
            end_count = int(line[2:])
            continue
        if not line.startswith("P "):
            continue
        _, pred, bits_hex, scores_hex, used = line.split()
        preds.append(int(pred))
        packed = np.array([int(bits_hex[8 * i:8 * i + 8], 16) for i in range(words)], dtype="<u4")
        bits.append(np.unpackbits(packed.view(np.uint8), bitorder="little")[:num_bits])
        raw = np.array([int(scores_hex[width * j:width * j + width], 16) for j in range(num_classes)],
                       dtype=np.uint32 if width == 8 else np.uint8)
        scores.append(raw.view(np.float32) if width == 8 else raw.view(np.int8))
        stack.append(int(used))
    if end_count is not None and end_count != len(preds):
        raise DeviceError("exit", f"the firmware reported {end_count} samples but wrote {len(preds)} lines")
    n = len(preds)
    return DeviceOutput(
        predictions=np.array(preds, dtype=np.int64),
        bits=np.array(bits, dtype=np.uint8).reshape(n, num_bits),
        scores=np.array(scores).reshape(n, num_classes),
        stack_bytes=np.array(stack, dtype=np.int64),
    )


# ---- building and executing ----------------------------------------------------------------


def build_for_run(board: Board, model: ModelSources, out_dir: Path, *, max_input_bytes: int,
                  bench: bool = False) -> Firmware:
    from pnetc.targets.toolchain import LinkOverflow

    main_c = render_main(board, model, bench=bench, max_input_bytes=max_input_bytes, num_bits=model.num_bits,
                         num_classes=model.num_classes, score_dtype=model.score_dtype, input_kind=model.input_kind)
    try:
        return compile_firmware(board, out_dir, main_c=main_c, sources=model.sources, include_dirs=model.include_dirs,
                                bench=bench, stem="bench" if bench else "firmware",
                                extra_cflags=getattr(model, "cflags", ()))
    except LinkOverflow:
        # measure it the way `pnetc build` does, which refuses with the numbers (ModelDoesNotFit)
        from pnetc.targets.build import build_and_measure

        build_and_measure(board, model, out_dir / "fit_check", max_input_bytes=max_input_bytes, measure_stack=False)
        raise


def runner_command(board: Board, elf: Path, plugin: list[str] | None = None) -> list[str]:
    if board.runner == "qemu-system":
        qemu.require(board.runner_command, board)
        return qemu.system_command(board, elf, plugin)
    if board.runner == "qemu-user":
        qemu.require(board.runner_command, board)
        return qemu.user_command(board, elf, plugin)
    if board.runner == "host":
        if plugin:
            emulator = host_runner.host_counting_emulator()
            if emulator is None:
                raise PnetcError("counting instructions on the host board needs qemu-user for this machine's "
                                 "architecture (e.g. qemu-x86_64); it is not installed")
            return [emulator, *plugin, str(elf.resolve())]
        return host_runner.host_command(board, elf)
    raise PnetcError(f"board {board.name} is build-only (runner = none); pick a board that `pnetc boards` "
                     f"marks as runnable")


@dataclass
class Execution:
    returncode: int
    output: str
    console: str
    elapsed_s: float
    timed_out: bool = False
    extra: dict = field(default_factory=dict)


def execute(cmd: list[str], work_dir: Path, *, n_samples: int, timeout_s: float,
            progress: Callable[[int], None] | None = None) -> Execution:
    """Run the firmware in work_dir (which holds pnet_in.bin); poll pnet_out.txt for progress."""
    out_path = work_dir / OUTPUT_FILE
    if out_path.exists():
        out_path.unlink()
    console_path = work_dir / "console.txt"
    start = time.monotonic()
    with open(console_path, "wb") as console:
        proc = subprocess.Popen(cmd, cwd=work_dir, stdin=subprocess.DEVNULL, stdout=console,
                                stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = False
        seen = 0
        try:
            while True:
                try:
                    proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if progress is not None and out_path.exists():
                    try:
                        done = out_path.read_bytes().count(b"\n")
                    except OSError:
                        done = seen
                    if done != seen:
                        seen = done
                        progress(min(done, n_samples))
                if time.monotonic() - start > timeout_s:
                    timed_out = True
                    break
        finally:
            # the emulator runs in its own session (so a timeout kills its whole group); make sure
            # it never outlives us, on a timeout or on Ctrl-C
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    elapsed = time.monotonic() - start
    output = out_path.read_text(errors="replace") if out_path.exists() else ""
    if progress is not None:
        progress(min(output.count("\n"), n_samples))
    return Execution(proc.returncode, output, console_path.read_text(errors="replace"), elapsed, timed_out)


def function_at(board: Board, elf: Path, address: int) -> str | None:
    """The function whose code holds `address` (for fault reports)."""
    from pnetc.targets.toolchain import symbol_addresses

    try:
        syms = sorted((a, n) for n, a in symbol_addresses(board, elf).items())
    except (OSError, subprocess.CalledProcessError):
        return None
    best = None
    for addr, name in syms:
        if addr <= address:
            best = name
        else:
            break
    return best


def check_execution(run: Execution, board: Board, n_samples: int, timeout_s: float, elf: Path | None = None) -> None:
    """Raise DeviceError naming what went wrong: a fault, a timeout or a bad exit."""
    done = run.output.count("\nP ") + run.output.startswith("P ")
    console = run.console.strip()
    # the fault report goes to both semihosting and the UART on MPS boards: show each line once
    lines = list(dict.fromkeys(line for line in console.splitlines() if line.strip()))
    tail = ("\n" + "\n".join(lines[-6:])) if lines else ""
    if run.timed_out:
        raise DeviceError("timeout", f"the {board.name} firmware did not finish within {timeout_s:g} s "
                                     f"({done} of {n_samples} samples done) and was killed; if it is only slow, "
                                     f"raise --timeout SECONDS{tail}")
    rc = run.returncode
    if rc < 0:
        name = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
        raise DeviceError("fault", f"the {board.name} firmware died with signal {name} "
                                   f"after {done} of {n_samples} samples{tail}")
    if rc == 3 or "pnet: fault" in console or "Lockup" in console or "uncaught target signal" in console:
        where = ""
        pc = re.search(r"pnet: fault: .* pc=0x([0-9a-f]+)", console)
        if pc and elf is not None:
            func = function_at(board, elf, int(pc.group(1), 16))
            where = f" in {func}()" if func else ""
        raise DeviceError("fault", f"the {board.name} firmware faulted{where} after {done} of {n_samples} samples{tail}")
    if rc != 0:
        meaning = EXIT_MEANINGS.get(rc, "unexpected exit code")
        raise DeviceError("exit", f"the {board.name} firmware exited with code {rc} ({meaning}) "
                                  f"after {done} of {n_samples} samples{tail}")
    if "E " not in run.output:
        raise DeviceError("exit", f"the {board.name} firmware stopped without its end line "
                                  f"({done} of {n_samples} samples){tail}")


def default_timeout(board: Board, samples: Sequence, model: ModelSources) -> float:
    """Generous: the timeout is there to catch a hung firmware, not to police speed."""
    if model.input_kind == "text":
        mean_len = sum(len(s) for s in samples) / max(len(samples), 1)
        work = 6 * max(mean_len, 16) * max(int(model.num_bits), 32)  # ~6 features per byte
    else:
        work = max(int(model.input_size), 64) * max(int(model.num_bits), 32)
    per_sample = 0.002 + 2e-8 * work
    return 30.0 + len(samples) * per_sample * (5 if board.runner == "qemu-system" else 3)


def run_samples(board: Board, model: ModelSources, samples: Sequence, work_dir: Path, *,
                timeout_s: float | None = None, progress: Callable[[int], None] | None = None,
                firmware: Firmware | None = None) -> tuple[DeviceOutput, Execution]:
    """Build (unless given) and run the firmware on every sample; parse what it wrote."""
    work_dir.mkdir(parents=True, exist_ok=True)
    if firmware is None:
        firmware = build_for_run(board, model, work_dir, max_input_bytes=max_record_bytes(model, samples))
    (work_dir / INPUT_FILE).write_bytes(encode_records(samples))
    n = len(samples)
    timeout_s = timeout_s if timeout_s is not None else default_timeout(board, samples, model)
    run = execute(runner_command(board, firmware.elf), work_dir, n_samples=n, timeout_s=timeout_s, progress=progress)
    check_execution(run, board, n, timeout_s, firmware.elf)
    device = parse_output(run.output, model.num_bits, model.num_classes, model.score_dtype)
    device.console = run.console
    if len(device.predictions) != n:
        raise DeviceError("exit", f"the firmware answered {len(device.predictions)} of {n} samples")
    return device, run


# ---- comparison ---------------------------------------------------------------------------


@dataclass
class Mismatch:
    index: int
    what: list[str]      # "bits", "scores", "prediction"
    device_prediction: int
    reference_prediction: int

    def to_dict(self) -> dict:
        return {"index": self.index, "what": self.what, "device_prediction": self.device_prediction,
                "reference_prediction": self.reference_prediction}


FLOAT_RTOL = 1e-5
FLOAT_ATOL = 1e-6


def compare(device: DeviceOutput, reference, score_dtype: str) -> list[Mismatch]:
    """Bits and int8 scores must be equal; float scores within 1e-5 relative; predictions equal."""
    ref_bits = np.asarray(reference.bits, dtype=np.uint8)
    ref_scores = np.asarray(reference.scores)
    ref_pred = np.asarray(reference.predictions, dtype=np.int64)
    bits_bad = np.any(device.bits != ref_bits, axis=1)
    if score_dtype == "float32":
        scores_bad = ~np.all(np.isclose(device.scores.astype(np.float64), ref_scores.astype(np.float64),
                                        rtol=FLOAT_RTOL, atol=FLOAT_ATOL), axis=1)
    else:
        scores_bad = np.any(device.scores.astype(np.int64) != ref_scores.astype(np.int64), axis=1)
    pred_bad = device.predictions != ref_pred
    out = []
    for i in np.flatnonzero(bits_bad | scores_bad | pred_bad):
        what = [w for w, bad in (("bits", bits_bad[i]), ("scores", scores_bad[i]), ("prediction", pred_bad[i])) if bad]
        out.append(Mismatch(int(i), what, int(device.predictions[i]), int(ref_pred[i])))
    return out


# ---- the `pnetc run` command ----------------------------------------------------------------


@dataclass
class RunReport:
    board: str
    precision: str
    samples: int
    mismatches: list[Mismatch]
    accuracy_reference: float | None
    accuracy_device: float | None
    stack_high_water: int
    host_seconds: float
    dataset: str = ""

    def to_dict(self) -> dict:
        kinds = {k: sum(k in m.what for m in self.mismatches) for k in ("bits", "scores", "prediction")}
        return {
            "board": self.board, "dataset": self.dataset, "precision": self.precision, "samples": self.samples,
            "mismatches": len(self.mismatches), "mismatch_kinds": kinds,
            "first_mismatches": [m.to_dict() for m in self.mismatches[:10]],
            "accuracy_reference": self.accuracy_reference, "accuracy_device": self.accuracy_device,
            "stack_high_water_bytes": self.stack_high_water,
            "host_wall_seconds": round(self.host_seconds, 3),
        }


def load_samples(dataset: str | None, data: str | None, limit: int | None,
                 model_labels: Sequence[str] | None = None):
    """(name, test inputs, test labels) from a data set name or a data file; with `model_labels`,
    the labels are the model's class ids (matched by label name, see datasets.to_model_classes)."""
    from pnetc.datasets import check_limit, load_dataset, to_model_classes

    limit = check_limit(limit)
    if (dataset is None) == (data is None):
        raise PnetcError("give exactly one of --dataset NAME or --data FILE")
    source = dataset if dataset is not None else data
    if data is not None and not Path(data).exists():
        raise PnetcError(f"data file {data} does not exist")
    ds = load_dataset(source)
    x, y = ds.x_test, np.asarray(ds.y_test)
    if model_labels is not None:
        y = to_model_classes(ds.labels, y, model_labels, f"dataset {ds.name}")
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return ds.name, x, y


def model_labels(model_path) -> list[str]:
    """The class names of a model file, in the order of its outputs."""
    from pnetc.frontend import load_model

    return list(load_model(model_path).info.labels)


def run_model(model_path, board_name: str, *, dataset: str | None = None, data: str | None = None,
              limit: int | None = None, precision: str = "int8", out_dir=None, timeout_s: float | None = None,
              progress: Callable[[int, int], None] | None = None) -> RunReport:
    """Compile, build, run every test sample on the board, and compare with the golden interpreter."""
    import tempfile

    from pnetc.targets.boards import get_board, install_hint
    from pnetc.targets.build import compile_for_board

    board = get_board(board_name)
    if board.runner == "none":
        raise PnetcError(f"board {board.name} is build-only; `pnetc boards` lists the boards that can run here")
    missing = board.missing_tools()
    if missing:
        raise PnetcError(f"board {board.name} cannot run here: {', '.join(missing)} not installed; "
                         f"{install_hint(missing)}")
    name, x, y = load_samples(dataset, data, limit, model_labels=model_labels(model_path))
    samples = list(x)
    if not samples:
        raise PnetcError("the data set has no test samples")
    with tempfile.TemporaryDirectory(prefix="pnetc-run-") as tmp:
        work = Path(out_dir) if out_dir is not None else Path(tmp)
        model = compile_for_board(model_path, work / "model", precision=precision)
        if model.input_kind == "text" and not isinstance(samples[0], (bytes, bytearray)):
            raise PnetcError(f"the model reads text but data set {name} holds {model.input_kind} arrays")
        if model.input_kind != "text" and isinstance(samples[0], (bytes, bytearray)):
            raise PnetcError(f"the model reads {model.input_size} numbers but data set {name} holds text")
        if model.input_kind != "text" and np.asarray(samples[0]).size != model.input_size:
            raise PnetcError(f"the model reads {model.input_size} inputs but data set {name} has "
                             f"{np.asarray(samples[0]).size} per sample")
        tick = (lambda done: progress(done, len(samples))) if progress else None
        device, run = run_samples(board, model, samples, work / "run", timeout_s=timeout_s, progress=tick)
        ref = model.reference.run(x if model.input_kind != "text" else samples)
        mismatches = compare(device, ref, model.score_dtype)
        labelled = y is not None and len(y) == len(samples) and np.all(np.asarray(y) >= 0)
        acc_ref = float(np.mean(np.asarray(ref.predictions) == y)) if labelled else None
        acc_dev = float(np.mean(device.predictions == y)) if labelled else None
        return RunReport(board.name, precision, len(samples), mismatches, acc_ref, acc_dev,
                         int(device.stack_bytes.max()), run.elapsed_s, name)
