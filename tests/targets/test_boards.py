"""Board files: every board parses, memory maps are the real parts', `pnetc boards` lists them."""

from __future__ import annotations

import pytest

from pnetc.errors import PnetcError
from pnetc.targets.boards import get_board, list_boards

from .conftest import last_json, pnetc

QEMU_BOARDS = {"mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "microbit", "netduinoplus2"}
LINUX_BOARDS = {"linux-aarch64", "linux-armv7"}
BUILD_ONLY = {"nucleo-f446re", "nrf52840-dk", "stm32h743", "rp2040"}

# (flash origin, flash bytes, RAM origin, RAM bytes): emulated maps for QEMU boards, datasheets otherwise
MEMORY = {
    "mps2-an385": (0x0, 4 << 20, 0x20000000, 4 << 20),
    "mps2-an386": (0x0, 4 << 20, 0x20000000, 4 << 20),
    "mps2-an500": (0x0, 4 << 20, 0x20000000, 4 << 20),
    "mps2-an505": (0x10000000, 4 << 20, 0x38000000, 2 << 20),
    "mps3-an547": (0x10000000, 512 << 10, 0x30000000, 512 << 10),
    "microbit": (0x0, 256 << 10, 0x20000000, 16 << 10),
    "netduinoplus2": (0x08000000, 1 << 20, 0x20000000, 128 << 10),
    "nucleo-f446re": (0x08000000, 512 << 10, 0x20000000, 128 << 10),
    "nrf52840-dk": (0x0, 1 << 20, 0x20000000, 256 << 10),
    "stm32h743": (0x08000000, 2 << 20, 0x24000000, 512 << 10),
    "rp2040": (0x10000000, 2 << 20, 0x20000000, 264 << 10),
}


def test_every_board_is_there():
    names = {b.name for b in list_boards()}
    assert names == QEMU_BOARDS | LINUX_BOARDS | BUILD_ONLY | {"host"}


@pytest.mark.parametrize("name", sorted(MEMORY))
def test_memory_maps(name):
    b = get_board(name)
    assert (b.flash_origin, b.flash_size, b.ram_origin, b.ram_size) == MEMORY[name]
    assert 0 < b.stack_size < b.ram_size // 2
    assert b.runner == ("none" if name in BUILD_ONLY else "qemu-system")


def test_fpu_flags_follow_the_core():
    assert not get_board("microbit").has_fpu and "-mfloat-abi=soft" in get_board("microbit").cflags
    assert not get_board("mps2-an385").has_fpu
    for name in ("mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "netduinoplus2"):
        assert "-mfloat-abi=hard" in get_board(name).cflags, name
    assert "-mfpu=fpv5-d16" in get_board("mps2-an500").cflags  # double precision on the M7


def test_unknown_board_is_a_user_error():
    with pytest.raises(PnetcError, match="known boards"):
        get_board("arduino-uno")


def test_boards_command_json():
    proc = pnetc("boards", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["board"]: r for r in last_json(proc.stdout)["boards"]}
    assert rows["microbit"]["flash_bytes"] == 256 * 1024 and rows["microbit"]["ram_bytes"] == 16 * 1024
    assert rows["rp2040"]["can_run"] is False and rows["rp2040"]["runner"] == "none"
    assert rows["host"]["can_run"] is True


def test_boards_command_table():
    proc = pnetc("boards")
    assert proc.returncode == 0
    assert "mps2-an386" in proc.stdout and "build only" in proc.stdout


@pytest.mark.parametrize("args,needle", [
    (["run", "m.onnx", "--board", "rp2040", "--dataset", "digits"], "build-only"),
    (["bench", "m.onnx", "--board", "nrf52840-dk"], "build-only"),
    (["run", "m.onnx", "--board", "vax-780", "--dataset", "digits"], "unknown board"),
    (["build", "missing.onnx", "--board", "microbit", "-o", "out"], "does not exist"),
])
def test_user_errors_exit_2_with_one_line(args, needle, tmp_path):
    proc = pnetc(*args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("pnetc: error:") and needle in proc.stderr
    assert "Traceback" not in proc.stderr
