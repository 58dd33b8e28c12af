"""Native runs: the host board executes the firmware directly (or under qemu-<arch> to count instructions)."""

from __future__ import annotations

import platform
import shutil
from pathlib import Path

from pnetc.targets.boards import Board


def host_command(board: Board, elf: Path) -> list[str]:
    return [str(elf.resolve())]


def host_counting_emulator() -> str | None:
    """The QEMU user-mode emulator for this machine's own architecture, if installed."""
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(platform.machine().lower())
    if arch is None:
        return None
    return shutil.which(f"qemu-{arch}")
