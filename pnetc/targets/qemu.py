"""QEMU command lines: system mode for bare-metal boards, user mode for Linux boards."""

from __future__ import annotations

import shutil
from pathlib import Path

from pnetc.errors import PnetcError
from pnetc.targets.boards import Board


def plugin_option(plugin: Path, syms: Path, out: Path) -> list[str]:
    """`-plugin lib.so,syms=...,out=...` (paths must not contain commas)."""
    for p in (plugin, syms, out):
        if "," in str(p):
            raise PnetcError(f"QEMU cannot take a plugin path with a comma: {p}")
    return ["-plugin", f"{plugin},syms={syms},out={out}"]


def system_command(board: Board, elf: Path, plugin: list[str] | None = None) -> list[str]:
    """qemu-system-arm with semihosting on (the firmware's files and exit code) and the UART on stdout.

    Semihosting with target=native lets the firmware open any file QEMU can see: it must run
    confined (pnetc.targets.sandbox) so that is only its own work folder."""
    cmd = [board.runner_command, "-M", board.machine]
    if board.cpu:
        cmd += ["-cpu", board.cpu]
    cmd += [
        "-nographic", "-monitor", "none", "-serial", "stdio",
        "-semihosting-config", "enable=on,target=native",
        *(plugin or []),
        "-kernel", str(elf.resolve()),
    ]
    return cmd


def user_command(board: Board, elf: Path, plugin: list[str] | None = None) -> list[str]:
    """qemu-aarch64 / qemu-arm on a static Linux executable (binfmt is not needed)."""
    cmd = [board.runner_command]
    if board.cpu:
        cmd += ["-cpu", board.cpu]
    return [*cmd, *(plugin or []), str(elf.resolve())]


def require(command: str, board: Board) -> None:
    if shutil.which(command) is None:
        raise PnetcError(f"{command} is not installed, so board {board.name} cannot run here "
                         f"(install QEMU: apt-get install --no-install-recommends qemu-system-arm qemu-user)")
