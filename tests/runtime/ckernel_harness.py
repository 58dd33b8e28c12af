"""Build-and-run helper for the C kernel tests (conftest.py exposes its fixtures).

`build_kernel(driver, sources, toolchain)` compiles tests/runtime/c/<driver>.c with the given
runtime/src files once per session (cached) and returns a `Kernel` whose `run(bytes) -> bytes`
feeds stdin and returns stdout. Drivers read little-endian binary cases until EOF and write
binary results, so one process checks many cases.

Toolchains: host gcc and clang; gcc with UBSan+ASan ("gcc-sanitize": undefined behaviour or an
out-of-bounds access aborts the driver); gcc/clang with -fsigned-char/-funsigned-char (text and
hash kernels); and "arm-qemu" (arm-linux-gnueabihf-gcc -static run under qemu-arm, where plain
char is unsigned). Missing tools skip the test.

Boards ("board:<name>", e.g. board:mps2-an386 for a Cortex-M4 with DSP): the driver becomes the
board's bare-metal firmware (pnetc.targets.toolchain, the board's own flags, startup and linker
script) with -DDRIVER_IO_PNET, and runs under QEMU confined like `pnetc run`; the cases go in as
pnet_in.bin and the results come back as hex text.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "runtime"
DRIVERS = Path(__file__).resolve().parent / "c"

# name -> (compiler command, extra flags, runner prefix)
TOOLCHAINS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "gcc": (["gcc"], [], []),
    "clang": (["clang"], [], []),
    "gcc-signed-char": (["gcc"], ["-fsigned-char"], []),
    "gcc-unsigned-char": (["gcc"], ["-funsigned-char"], []),
    "clang-unsigned-char": (["clang"], ["-funsigned-char"], []),
    "arm-qemu": (["arm-linux-gnueabihf-gcc", "-static"], [], ["qemu-arm"]),
    # the SIMD paths of the runtime: Arm DSP (SXTAB16/SMLAD, ARMv7-A as on Cortex-M4) and NEON
    "armv7-dsp-qemu": (["arm-linux-gnueabihf-gcc", "-static"], ["-mcpu=cortex-a7", "-mthumb"],
                       ["qemu-arm", "-cpu", "cortex-a7"]),
    "aarch64-qemu": (["aarch64-linux-gnu-gcc", "-static"], [], ["qemu-aarch64", "-cpu", "cortex-a72"]),
    # the same cross builds forced onto the portable C path, to check both sides of each #if
    "armv7-portable-qemu": (["arm-linux-gnueabihf-gcc", "-static"], ["-mcpu=cortex-a7", "-DPNET_PORTABLE"],
                            ["qemu-arm", "-cpu", "cortex-a7"]),
    # undefined behaviour (signed overflow, bad shifts) and out-of-bounds access abort the driver
    "gcc-sanitize": (["gcc"], ["-fsanitize=undefined,address", "-fno-sanitize-recover=all", "-g"], []),
}
HOST = ["gcc", "clang", "gcc-sanitize"]
# For the kernels that read bytes: both char signednesses, two compilers, and real ARM.
CHAR_VARIANTS = ["gcc-signed-char", "gcc-unsigned-char", "clang-unsigned-char", "arm-qemu"]
HOST_AND_ARM = ["gcc", "clang", "gcc-sanitize", "arm-qemu"]
# bare-metal Cortex-M boards under qemu-system-arm: M4F with the DSP extension, M3 without
BOARDS = ["board:mps2-an386", "board:mps2-an385"]
# kernels with SIMD paths: host (portable C), both SIMD paths and the portable path on Arm
SIMD_VARIANTS = ["gcc", "clang", "gcc-sanitize", "armv7-dsp-qemu", "aarch64-qemu", "armv7-portable-qemu"]

DRIVER_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function"]


@dataclass
class Kernel:
    exe: Path
    runner: list[str]

    def run(self, data: bytes) -> bytes:
        proc = subprocess.run(self.runner + [str(self.exe)], input=data, capture_output=True, timeout=60)
        if proc.returncode != 0:
            raise AssertionError(f"{self.exe.name} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
        return proc.stdout


@dataclass
class BoardKernel:
    """A driver built as a board's firmware; run(bytes) -> bytes like Kernel."""

    elf: Path
    board: object
    work_dir: Path

    def run(self, data: bytes) -> bytes:
        from pnetc.targets import run as target_run
        from pnetc.targets import sandbox

        sandbox.fresh(self.work_dir / "pnet_in.bin").write_bytes(data)
        cmd = target_run.runner_command(self.board, self.elf)
        done = target_run.execute(cmd, self.work_dir, n_samples=0, timeout_s=300, readable=[self.elf])
        if done.returncode != 0 or done.timed_out:
            raise AssertionError(f"{self.elf.name} on {self.board.name} exited {done.returncode}: {done.console}")
        return bytes.fromhex(done.output)


def _build_board(board_name: str, driver: str, sources: list[str], defines: tuple[str, ...], out_dir: Path):
    from pnetc.errors import PnetcError
    from pnetc.targets.boards import get_board
    from pnetc.targets.toolchain import compile_firmware

    board = get_board(board_name)
    if shutil.which(board.tool("gcc")) is None or shutil.which(board.runner_command) is None:
        pytest.skip(f"the {board_name} toolchain or emulator is not installed")
    tag = "_".join([driver, board_name] + [d.split("=")[-1] for d in defines])
    build_dir = out_dir / tag
    try:
        fw = compile_firmware(board, build_dir, main_c=(DRIVERS / f"{driver}.c").read_text(), stem=driver,
                              sources=[RUNTIME / "src" / s for s in sources],
                              include_dirs=[RUNTIME / "include", DRIVERS],
                              extra_cflags=["-DDRIVER_IO_PNET", *(f"-D{d}" for d in defines)])
    except PnetcError as exc:
        raise AssertionError(f"build failed: {exc}") from None
    work = build_dir / "run"
    work.mkdir()
    return BoardKernel(fw.elf, board, work)


def tool_missing(toolchain: str) -> str | None:
    cc, _, runner = TOOLCHAINS[toolchain]
    for tool in [cc[0]] + runner[:1]:
        if shutil.which(tool) is None:
            return tool
    return None


@pytest.fixture(scope="session")
def build_kernel(tmp_path_factory):
    """build(driver, sources, toolchain, defines=(), libm=False) -> Kernel, cached per session."""
    out_dir = tmp_path_factory.mktemp("ckernels")
    cache: dict[tuple, Kernel] = {}

    def build(driver: str, sources: list[str], toolchain: str, defines: tuple[str, ...] = (),
              libm: bool = False) -> Kernel:
        if toolchain.startswith("board:"):
            key = (driver, tuple(sources), toolchain, tuple(defines))
            if key not in cache:
                cache[key] = _build_board(toolchain.split(":", 1)[1], driver, sources, defines, out_dir)
            return cache[key]
        missing = tool_missing(toolchain)
        if missing:
            pytest.skip(f"{missing} is not installed")
        key = (driver, tuple(sources), toolchain, tuple(defines))
        if key not in cache:
            cc, flags, runner = TOOLCHAINS[toolchain]
            tag = "_".join([driver, toolchain] + [d.split("=")[-1] for d in defines])
            exe = out_dir / tag
            cmd = cc + DRIVER_FLAGS + flags + [f"-I{RUNTIME / 'include'}", f"-I{DRIVERS}"]
            cmd += [f"-D{d}" for d in defines]
            cmd += [str(DRIVERS / f"{driver}.c")] + [str(RUNTIME / "src" / s) for s in sources]
            cmd += ["-o", str(exe)] + (["-lm"] if libm else [])
            proc = subprocess.run(cmd, capture_output=True, text=True)
            assert proc.returncode == 0, f"build failed: {' '.join(cmd)}\n{proc.stderr}"
            cache[key] = Kernel(exe, runner)
        return cache[key]

    return build


def pack(*parts) -> bytes:
    """Concatenate ints (as int32) and numpy arrays (their own dtype, little-endian) into bytes."""
    out = []
    for p in parts:
        if isinstance(p, (bytes, bytearray)):
            out.append(bytes(p))
        elif isinstance(p, np.ndarray):
            out.append(np.ascontiguousarray(p).astype(p.dtype.newbyteorder("<")).tobytes())
        else:
            out.append(int(p).to_bytes(4, "little", signed=p < 0))
    return b"".join(out)


class Reader:
    """Sequential reader of a driver's binary output."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, dtype, count: int) -> np.ndarray:
        dt = np.dtype(dtype).newbyteorder("<")
        n = dt.itemsize * count
        assert self.pos + n <= len(self.data), "driver output is too short"
        arr = np.frombuffer(self.data, dtype=dt, count=count, offset=self.pos).astype(np.dtype(dtype))
        self.pos += n
        return arr

    def i32(self) -> int:
        return int(self.take(np.int32, 1)[0])

    def done(self) -> bool:
        return self.pos == len(self.data)


@pytest.fixture
def rng(request):
    """A deterministic generator per test (seeded from the test's name)."""
    import zlib

    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
