"""Flash and RAM of a model, measured as emlearn does: the `size -A` delta between the firmware
with the model and the same firmware without it.

flash = text + rodata + data (the .data initialisers live in flash), RAM = data + bss.
The stack is reserved separately (board file) and measured at run time by painting it.

Linux and host images link glibc statically, whose functions are 64-byte aligned: a model
shifts them and the padding changes by kilobytes either way. There the delta is taken over
symbol sizes (`nm -S`) instead of section sizes, which leaves the padding out."""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from pnetc.targets.boards import Board

# section name prefixes -> category; anything else (debug info, comments, the stack reservation,
# Linux-only bookkeeping that is identical in both builds) is not counted
_CATEGORIES = (
    (".isr_vector", "text"), (".text", "text"), (".init", "text"), (".fini", "text"),
    (".ARM.ex", "text"), (".plt", "text"), (".iplt", "text"),
    (".rodata", "rodata"), (".eh_frame", "rodata"),
    (".data", "data"), (".tdata", "data"), (".got", "data"),
    (".bss", "bss"), (".tbss", "bss"),
)


@dataclass
class SectionSizes:
    text: int = 0
    rodata: int = 0
    data: int = 0
    bss: int = 0

    @property
    def flash(self) -> int:
        return self.text + self.rodata + self.data

    @property
    def ram(self) -> int:
        return self.data + self.bss

    def minus(self, other: "SectionSizes") -> "SectionSizes":
        return SectionSizes(self.text - other.text, self.rodata - other.rodata,
                            self.data - other.data, self.bss - other.bss)

    def to_dict(self) -> dict[str, int]:
        return {**asdict(self), "flash": self.flash, "ram": self.ram}


def section_sizes(board: Board, elf: Path) -> SectionSizes:
    proc = subprocess.run([board.tool("size"), "-A", str(elf)], capture_output=True, text=True, check=True)
    sizes = SectionSizes()
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            continue
        name, size = parts[0], int(parts[1])
        if name == ".init_array" or name.startswith(".fini_array") or name.startswith(".preinit_array"):
            sizes.rodata += size
            continue
        for prefix, category in _CATEGORIES:
            if name == prefix or name.startswith(prefix + ".") or (prefix == ".ARM.ex" and name.startswith(prefix)):
                setattr(sizes, category, getattr(sizes, category) + size)
                break
    return sizes


_SYMBOL_CATEGORIES = {"t": "text", "w": "text", "r": "rodata", "d": "data", "g": "data", "b": "bss", "s": "bss",
                      "v": "data"}


def symbol_sizes(board: Board, elf: Path) -> SectionSizes:
    """Sizes summed over sized symbols, by symbol type (text, read-only, data, bss)."""
    proc = subprocess.run([board.tool("nm"), "-S", str(elf)], capture_output=True, text=True, check=True)
    sizes = SectionSizes()
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        category = _SYMBOL_CATEGORIES.get(parts[2].lower())
        if category is not None:
            setattr(sizes, category, getattr(sizes, category) + int(parts[1], 16))
    return sizes


def image_sizes(board: Board, elf: Path) -> SectionSizes:
    """`size -A` sections on bare metal; symbol sizes on Linux / host (see the module note)."""
    return section_sizes(board, elf) if board.bare_metal else symbol_sizes(board, elf)


@dataclass
class SizeReport:
    """Whole-image sizes, the model's share (delta against the no-model build), and the fit check."""

    board: str
    image: SectionSizes
    baseline: SectionSizes
    weight_bytes: int
    arena_bytes: int
    stack_reserved: int
    flash_capacity: int
    ram_capacity: int
    stack_high_water: int | None = None

    @property
    def model(self) -> SectionSizes:
        return self.image.minus(self.baseline)

    @property
    def model_flash(self) -> int:
        return self.model.flash

    @property
    def model_code(self) -> int:
        return max(self.model_flash - self.weight_bytes, 0)

    @property
    def model_ram(self) -> int:
        return self.model.ram

    @property
    def flash_needed(self) -> int:
        return self.image.flash

    @property
    def ram_needed(self) -> int:
        return self.image.ram + self.stack_reserved

    @property
    def fits(self) -> bool:
        flash_ok = self.flash_capacity == 0 or self.flash_needed <= self.flash_capacity
        ram_ok = self.ram_capacity == 0 or self.ram_needed <= self.ram_capacity
        return flash_ok and ram_ok

    def to_dict(self) -> dict:
        return {
            "board": self.board,
            "flash_bytes": self.model_flash,
            "flash_code_bytes": self.model_code,
            "flash_weight_bytes": self.weight_bytes,
            # one meaning everywhere (build, bench, demo): RAM = static + stack high-water (0 when not measured)
            "ram_bytes": self.model_ram + (self.stack_high_water or 0),
            "ram_static_bytes": self.model_ram,
            "ram_arena_bytes": self.arena_bytes,
            "stack_high_water_bytes": self.stack_high_water,
            "model_sections": self.model.to_dict(),
            "image_sections": self.image.to_dict(),
            "baseline_sections": self.baseline.to_dict(),
            "image_flash_bytes": self.flash_needed,
            "image_ram_bytes": self.ram_needed,
            "stack_reserved_bytes": self.stack_reserved,
            "board_flash_bytes": self.flash_capacity,
            "board_ram_bytes": self.ram_capacity,
            "fits": self.fits,
        }

    def misfit_message(self) -> str:
        parts = []
        if self.flash_capacity and self.flash_needed > self.flash_capacity:
            parts.append(f"flash needs {self.flash_needed:,} bytes but {self.board} has {self.flash_capacity:,} "
                         f"(model {self.model_flash:,}: code {self.model_code:,} + weights {self.weight_bytes:,})")
        if self.ram_capacity and self.ram_needed > self.ram_capacity:
            parts.append(f"RAM needs {self.ram_needed:,} bytes but {self.board} has {self.ram_capacity:,} "
                         f"(model {self.model_ram:,}, arena {self.arena_bytes:,}; stack reserve {self.stack_reserved:,})")
        return "; ".join(parts)
