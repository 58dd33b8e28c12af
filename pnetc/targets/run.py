"""Run a compiled model on a board and compare every answer with the golden interpreter.

The samples are streamed in the record protocol of pnetc/targets/protocol.py: the firmware reads
`pnet_in.bin` through semihosting on bare-metal boards and through stdio on Linux and the host,
and writes one line per sample to `pnet_out.txt`. One firmware build and one emulator run handle
any number of samples, whatever the board's RAM. The answers are compared with the golden
interpreter by pnetc/targets/compare.py, the one comparison rule.
"""

from __future__ import annotations

import math
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
from pnetc.targets.protocol import (EXIT_MEANINGS, INPUT_FILE, OUTPUT_FILE, DeviceOutput, ProtocolError, done_count,
                                    encode_records, max_record_bytes, parse_output)  # noqa: F401  (re-exported)
from pnetc.targets.toolchain import Firmware, ModelSources, compile_firmware, render_main
from pnetc.targets import host as host_runner
from pnetc.targets import qemu, sandbox

class DeviceError(PnetcError):
    """The firmware faulted, hung, or exited badly. `kind` is "fault", "timeout" or "exit"."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def device_inputs(model: ModelSources, samples: Sequence) -> tuple[list, str | None]:
    """The samples as the generated C takes them, and their input type for the records.

    Text stays bytes. Dense samples go through the golden interpreter's `encode_input` (a float
    model compiled to int8 takes quantized int8), so the device and the reference see the same
    values."""
    if model.input_kind == "text":
        return [bytes(s) for s in samples], None
    reference = getattr(model, "reference", None)
    x = np.asarray(samples)
    if reference is not None:
        x = np.asarray(reference.encode_input(x))
    input_dtype = getattr(model, "input_dtype", None) or x.dtype.name
    return list(x), input_dtype


# ---- building and executing ----------------------------------------------------------------


def build_for_run(board: Board, model: ModelSources, out_dir: Path, *, max_input_bytes: int,
                  bench: bool = False, extra_cflags: Sequence[str] = ()) -> Firmware:
    """The firmware for `board`: the model, the record-protocol main and the board's runtime.
    `extra_cflags` (after the board's own) pick a build flavour, e.g. verify's sanitizer build."""
    from pnetc.targets.toolchain import LinkOverflow

    main_c = render_main(board, model, bench=bench, max_input_bytes=max_input_bytes, num_bits=model.num_bits,
                         num_classes=model.num_classes, score_dtype=model.score_dtype, input_kind=model.input_kind)
    try:
        return compile_firmware(board, out_dir, main_c=main_c, sources=model.sources, include_dirs=model.include_dirs,
                                bench=bench, stem="bench" if bench else "firmware",
                                extra_cflags=[*getattr(model, "cflags", ()), *extra_cflags])
    except LinkOverflow:
        # measure it the way `pnetc build` does, which refuses with the numbers (ModelDoesNotFit)
        from pnetc.targets.fit import DEFAULT_TEXT_BYTES, ModelDoesNotFit, link_and_size

        try:
            link_and_size(board, model, out_dir / "fit_check", max_input_bytes=max_input_bytes)
        except ModelDoesNotFit as exc:
            if model.input_kind != "text" or max_input_bytes <= DEFAULT_TEXT_BYTES:
                raise
            # the RAM counted includes the run's buffer for its longest text, not only the model
            raise ModelDoesNotFit(f"{exc}; of that RAM, {max_input_bytes:,} bytes are this run's input buffer, sized "
                                  "to its longest text: run shorter texts (a device fed by the streaming API "
                                  "needs no such buffer)") from None
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


def checked_timeout(seconds: float) -> float:
    """A timeout must be a positive, finite number of seconds: nan or inf would never fire, 0 or less
    would kill every run."""
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        raise PnetcError(f"the timeout (--timeout) must be a positive, finite number of seconds, got {seconds!r}")
    return float(seconds)


def execute(cmd: list[str], work_dir: Path, *, n_samples: int, timeout_s: float,
            progress: Callable[[int], None] | None = None, readable: Sequence[Path] = ()) -> Execution:
    """Run the firmware confined to work_dir (which holds pnet_in.bin; `readable` are the other files
    it needs, e.g. the ELF); poll pnet_out.txt for progress."""
    timeout_s = checked_timeout(timeout_s)
    out_path = sandbox.fresh(work_dir / OUTPUT_FILE)
    console_path = sandbox.fresh(work_dir / "console.txt")
    start = time.monotonic()
    with open(console_path, "xb") as console:
        proc = sandbox.start(cmd, writable=work_dir, readable=readable, stdin=subprocess.DEVNULL, stdout=console,
                             stderr=subprocess.STDOUT)
        timed_out = False
        seen = 0
        try:
            while True:
                try:
                    proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if progress is not None:
                    done = (sandbox.read_result(out_path) or "").count("\n")
                    if done != seen:
                        seen = done
                        progress(min(done, n_samples))
                if time.monotonic() - start > timeout_s:
                    timed_out = True
                    break
        finally:
            # its own session: a timeout, an error or a signal to pnetc kills its whole group
            sandbox.stop(proc)
    elapsed = time.monotonic() - start
    output = sandbox.read_result(out_path) or ""
    if progress is not None:
        progress(min(output.count("\n"), n_samples))
    return Execution(proc.returncode, output, sandbox.read_result(console_path) or "", elapsed, timed_out)


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
    done = done_count(run.output)
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
    inputs, input_dtype = device_inputs(model, samples)
    sandbox.fresh(work_dir / INPUT_FILE).write_bytes(encode_records(inputs, input_dtype))
    n = len(samples)
    timeout_s = timeout_s if timeout_s is not None else default_timeout(board, samples, model)
    run = execute(runner_command(board, firmware.elf), work_dir, n_samples=n, timeout_s=timeout_s, progress=progress,
                  readable=[firmware.elf])
    check_execution(run, board, n, timeout_s, firmware.elf)
    try:
        device = parse_output(run.output, model.num_bits, model.num_classes, model.score_dtype)
    except ProtocolError as exc:
        raise DeviceError("exit", f"the {board.name} firmware wrote output pnetc cannot read: {exc}") from None
    device.console = run.console
    if len(device.predictions) != n:
        raise DeviceError("exit", f"the firmware answered {len(device.predictions)} of {n} samples")
    return device, run
