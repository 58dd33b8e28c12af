"""Read the board files (`boards/*.toml`): CPU, flags, toolchain, memory map and runner."""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pnetc.errors import PnetcError
from pnetc.resources import data_dir

KINDS = ("baremetal", "linux", "host")

# The Debian/Ubuntu packages that provide each program a board needs (longest prefix first).
APT_PACKAGES = (
    ("arm-none-eabi-", "gcc-arm-none-eabi libnewlib-arm-none-eabi"),
    ("aarch64-linux-gnu-", "gcc-aarch64-linux-gnu libc6-dev-arm64-cross"),
    ("arm-linux-gnueabihf-", "gcc-arm-linux-gnueabihf libc6-dev-armhf-cross"),
    ("qemu-system-", "qemu-system-arm"),
    ("qemu-", "qemu-user"),
    ("size", "binutils"),
    ("nm", "binutils"),
    ("", "gcc"),
)


def install_hint(tools) -> str:
    """'install them: apt-get install --no-install-recommends PKG...' for the given missing programs."""
    pkgs: list[str] = []
    for tool in tools:
        pkg = next(p for prefix, p in APT_PACKAGES if tool.startswith(prefix))
        pkgs += [p for p in pkg.split() if p not in pkgs]
    return "install with: apt-get install --no-install-recommends " + " ".join(pkgs)
RUNNERS = ("qemu-system", "qemu-user", "host", "none")


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    core: str
    fpu: str
    kind: str                      # "baremetal" | "linux" | "host"
    toolchain: str                 # gcc prefix, e.g. "arm-none-eabi"; "" = the host cc
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    clock_hz: int                  # documentation only
    runner: str                    # "qemu-system" | "qemu-user" | "host" | "none"
    runner_command: str = ""
    machine: str = ""
    cpu: str = ""
    linker_template: str = ""
    startup: str = ""
    flash_origin: int = 0
    flash_size: int = 0            # 0 = not limited (Linux / host)
    ram_origin: int = 0
    ram_size: int = 0
    stack_size: int = 0
    uart_base: int | None = None
    path: Path = field(default=Path(), compare=False)

    @property
    def has_fpu(self) -> bool:
        return self.fpu != "none"

    @property
    def bare_metal(self) -> bool:
        return self.kind == "baremetal"

    def tool(self, name: str) -> str:
        """A toolchain program: gcc, size, nm, objcopy (host: cc / size / nm)."""
        if self.toolchain:
            return f"{self.toolchain}-{name}"
        return "cc" if name == "gcc" else name

    def missing_tools(self) -> list[str]:
        """Programs this board needs to build and run that are not on PATH."""
        needed = [self.tool("gcc"), self.tool("size")]
        if self.runner in ("qemu-system", "qemu-user"):
            needed.append(self.runner_command)
        return [t for t in needed if shutil.which(t) is None]

    @property
    def can_build(self) -> bool:
        return all(shutil.which(t) for t in (self.tool("gcc"), self.tool("size")))

    @property
    def can_run(self) -> bool:
        return self.runner != "none" and not self.missing_tools()


def _parse(path: Path) -> Board:
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise PnetcError(f"board file {path.name} is not valid TOML: {exc}") from exc
    try:
        runner = raw["runner"]
        memory = raw.get("memory", {})
        uart = raw.get("uart", {})
        board = Board(
            name=raw["name"],
            description=raw["description"],
            core=raw["core"],
            fpu=raw["fpu"],
            kind=raw["kind"],
            toolchain=raw["toolchain"],
            cflags=tuple(raw.get("cflags", ())),
            ldflags=tuple(raw.get("ldflags", ())),
            clock_hz=int(raw.get("clock_hz", 0)),
            runner=runner["kind"],
            runner_command=runner.get("command", ""),
            machine=runner.get("machine", ""),
            cpu=runner.get("cpu", ""),
            linker_template=raw.get("linker_template", ""),
            startup=raw.get("startup", ""),
            flash_origin=int(memory.get("flash_origin", 0)),
            flash_size=int(memory.get("flash_size", 0)),
            ram_origin=int(memory.get("ram_origin", 0)),
            ram_size=int(memory.get("ram_size", 0)),
            stack_size=int(memory.get("stack_size", 0)),
            uart_base=uart.get("base") if uart.get("kind") == "cmsdk" else None,
            path=path,
        )
    except KeyError as exc:
        raise PnetcError(f"board file {path.name} lacks the key {exc.args[0]!r}") from exc
    if board.kind not in KINDS:
        raise PnetcError(f"board file {path.name}: kind must be one of {', '.join(KINDS)}")
    if board.runner not in RUNNERS:
        raise PnetcError(f"board file {path.name}: runner.kind must be one of {', '.join(RUNNERS)}")
    if board.bare_metal and not (board.flash_size and board.ram_size and board.linker_template):
        raise PnetcError(f"board file {path.name}: a bare-metal board needs [memory] sizes and linker_template")
    return board


def list_boards() -> list[Board]:
    """Every board, in file-name order."""
    return [_parse(p) for p in sorted(data_dir("boards").glob("*.toml"))]


def get_board(name: str) -> Board:
    for board in list_boards():
        if board.name == name:
            return board
    names = ", ".join(b.name for b in list_boards())
    raise PnetcError(f"unknown board {name!r}; known boards: {names} (see `pnetc boards`)")


def runnable_board(name: str) -> Board:
    """The board `name`, if programs can run on it here (QEMU or native); else a one-line error."""
    board = get_board(name)
    if board.runner == "none":
        raise PnetcError(f"board {board.name} is build-only; `pnetc boards` lists the boards that can run here")
    missing = board.missing_tools()
    if missing:
        raise PnetcError(f"board {board.name} cannot run here: {', '.join(missing)} not installed; "
                         f"{install_hint(missing)}")
    return board
