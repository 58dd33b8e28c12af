"""Render the firmware (main + linker script) for a board and compile it with the board's toolchain."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence

import jinja2

from pnetc.errors import PnetcError
from pnetc.resources import data_dir
from pnetc.targets.boards import Board

OPT_FLAGS = ("-O2",)
COMMON_CFLAGS = ("-std=gnu99", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wno-unused-function")


class ModelSources(Protocol):
    """What the firmware needs from a compiled model (pnetc.compiler.CompiledModel has it all)."""

    name: str
    sources: Sequence[Path]
    include_dirs: Sequence[Path]
    header: Path
    input_kind: str
    input_size: int
    num_classes: int
    num_bits: int
    score_dtype: str


@dataclass
class Firmware:
    elf: Path
    bin: Path | None
    map: Path | None
    board: Board
    bench: bool


class LinkOverflow(PnetcError):
    """The image does not fit the board's memory regions (the linker said so)."""


def _env() -> jinja2.Environment:
    from pnetc.codegen.render import environment

    return environment()  # the one environment whose output check keeps names out of code


def render_main(
    board: Board, model: ModelSources | None, *, bench: bool, max_input_bytes: int,
    num_bits: int, num_classes: int, score_dtype: str, input_kind: str,
) -> str:
    ctx: dict[str, Any] = dict(
        board=board.name,
        purpose=("benchmark build" if bench else "verification build") if model else "no-model build for the size report",
        no_model=model is None,
        bench=bench,
        header=model.header.name if model else "",
        name=model.name if model else "",
        input_kind=input_kind,
        num_bits=num_bits,
        num_classes=num_classes,
        max_input_bytes=max_input_bytes,
        score_dtype=score_dtype,
        score_ctype="float" if score_dtype == "float32" else "int8_t",
        score_hex_digits=8 if score_dtype == "float32" else 2,
    )
    return _env().get_template("firmware/main.c.j2").render(**ctx)


def render_linker_script(board: Board, *, unlimited: bool = False) -> str:
    """The board's linker script; `unlimited` gives both regions 256 MB to measure an image that overflows.
    The same text the cmake package ships in boards/<board>.ld."""
    from pnetc.codegen.packages import linker_script

    return linker_script(board, unlimited=unlimited)


def runtime_sources(board: Board, *, bench: bool) -> tuple[list[Path], list[Path], list[str]]:
    """(sources, include dirs, defines) of the firmware runtime for this board."""
    rt = data_dir("runtime")
    includes = [rt / "semihost"]  # the model brings its own pnet/pnet.h (CompiledModel.include_dirs)
    defines: list[str] = []
    if board.bare_metal:
        startup = rt / "startup" / f"{board.startup.replace('-', '_')}.c"
        if not startup.is_file():
            raise PnetcError(f"board {board.name}: startup variant {board.startup!r} has no file {startup.name} "
                             f"in runtime/startup/")
        sources = [startup, rt / "semihost" / "semihost.c", rt / "semihost" / "io_semihost.c"]
        if board.uart_base is not None:
            sources.append(rt / "uart" / "cmsdk_uart.c")
            includes.append(rt / "uart")
            defines.append(f"-DPNET_UART_CMSDK_BASE=0x{board.uart_base:08x}u")
    else:
        sources = [rt / "semihost" / "io_posix.c"]
    if bench:
        sources.append(rt / "markers" / "bench_mark.c")
        defines.append("-DPNET_BENCH")
    return sources, includes, defines


_OVERFLOW = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes")


def _refuse_quoted_paths(paths: Iterable[Path]) -> None:
    """GCC copies source paths unescaped into `# line "file"` markers of the assembly it writes, so a
    '"' in a folder's path breaks the build with pages of assembler errors: refuse it in one line."""
    for path in paths:
        if '"' in str(path.resolve()):
            raise PnetcError(f"the folder {str(path)!r} has a '\"' in its path, which the C toolchain cannot "
                             "build from; choose a folder without one")


def compile_firmware(
    board: Board,
    out_dir: Path,
    *,
    main_c: str,
    sources: Iterable[Path],
    include_dirs: Iterable[Path] = (),
    bench: bool = False,
    stem: str = "firmware",
    extra_cflags: Iterable[str] = (),
    unlimited: bool = False,
) -> Firmware:
    """Write main.c (and the linker script), compile and link; returns the ELF (+ .bin and .map on bare metal)."""
    gcc = board.tool("gcc")
    if shutil.which(gcc) is None:
        raise PnetcError(f"the {board.name} toolchain ({gcc}) is not installed; `pnetc boards` shows what each board needs")
    include_dirs = list(include_dirs)
    _refuse_quoted_paths([out_dir, *include_dirs])
    out_dir.mkdir(parents=True, exist_ok=True)
    main_path = out_dir / f"{stem}_main.c"
    main_path.write_text(main_c)
    rt_sources, rt_includes, defines = runtime_sources(board, bench=bench)
    elf = out_dir / f"{stem}.elf"
    cmd = [gcc, *board.cflags, *OPT_FLAGS, *COMMON_CFLAGS, *defines, *extra_cflags]
    for inc in [*rt_includes, *include_dirs]:
        cmd.append(f"-I{inc}")
    cmd += [str(main_path), *(str(s) for s in rt_sources), *(str(s) for s in sources)]
    map_path: Path | None = None
    if board.bare_metal:
        ld = out_dir / f"{stem}{'_unlimited' if unlimited else ''}.ld"
        ld.write_text(render_linker_script(board, unlimited=unlimited))
        map_path = out_dir / f"{stem}.map"
        # -Xlinker passes the path as one argument: -Wl,-Map=PATH would split it at every comma
        cmd += ["-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", f"-T{ld}",
                "-Xlinker", f"-Map={map_path}", "-Wl,--gc-sections"]
    else:
        cmd += ["-Wl,--gc-sections"]
    cmd += [*board.ldflags, "-lm", "-o", str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        overflow = _OVERFLOW.findall(proc.stderr)
        if overflow:
            raise LinkOverflow(", ".join(f"{region} overflowed by {n} bytes" for region, n in overflow))
        raise PnetcError(f"building the {board.name} firmware failed:\n{' '.join(cmd)}\n{proc.stderr.strip()}")
    bin_path: Path | None = None
    if board.bare_metal:
        bin_path = out_dir / f"{stem}.bin"
        subprocess.run([board.tool("objcopy"), "-O", "binary", str(elf), str(bin_path)], check=True)
    return Firmware(elf=elf, bin=bin_path, map=map_path, board=board, bench=bench)


def symbol_addresses(board: Board, elf: Path) -> dict[str, int]:
    """Function addresses from `nm`, with the Thumb bit cleared."""
    proc = subprocess.run([board.tool("nm"), str(elf)], capture_output=True, text=True, check=True)
    out: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            out[parts[2]] = int(parts[0], 16) & ~1
    return out
