"""Link a model's firmware and a baseline without it, measure both, and refuse a model that does not fit.

The size report is the difference of the two images (`size -A`, as emlearn measures), so it counts
exactly the model's code, weights and arena. Used by `pnetc build` (targets/build.py) and by a run whose
firmware the linker refused (targets/run.py), so both give the same numbers."""

from __future__ import annotations

from pathlib import Path

from pnetc.errors import PnetcError
from pnetc.targets.boards import Board
from pnetc.targets.protocol import max_record_bytes
from pnetc.targets.size import SizeReport, image_sizes
from pnetc.targets.toolchain import Firmware, LinkOverflow, ModelSources, compile_firmware, render_main

DEFAULT_TEXT_BYTES = 1024  # text models: the firmware's input buffer unless a run sizes it to its samples


class ModelDoesNotFit(PnetcError):
    """The model is too big for the board; the message holds the numbers."""


def refuse_over_capacity(board: Board, compiled) -> None:
    """The check before anything is built (`pnetc compile --board`): weights beyond the board's
    flash or an arena beyond its RAM cannot fit, whatever the rest of the firmware."""
    weight_bytes, arena_bytes = compiled.weight_bytes, compiled.arena_bytes
    if board.flash_size and weight_bytes > board.flash_size:
        raise ModelDoesNotFit(f"the weights alone ({weight_bytes:,} bytes) exceed the {board.flash_size:,} bytes of "
                              f"flash of {board.name}; train a smaller model or use --precision binary")
    if board.ram_size and arena_bytes > board.ram_size:
        raise ModelDoesNotFit(f"the arena ({arena_bytes:,} bytes) exceeds the {board.ram_size:,} bytes of RAM of "
                              f"{board.name}; use fewer hidden units")


def _main(board: Board, model: ModelSources | None, like: ModelSources, max_input_bytes: int, bench: bool) -> str:
    return render_main(board, model, bench=bench, max_input_bytes=max_input_bytes, num_bits=like.num_bits,
                       num_classes=like.num_classes, score_dtype=like.score_dtype, input_kind=like.input_kind)


def _compile(board: Board, model: ModelSources | None, like: ModelSources, out_dir: Path, stem: str,
             max_input_bytes: int, bench: bool = False, unlimited: bool = False) -> Firmware:
    return compile_firmware(
        board, out_dir, main_c=_main(board, model, like, max_input_bytes, bench),
        sources=model.sources if model else (), include_dirs=model.include_dirs if model else (),
        bench=bench, stem=stem, extra_cflags=getattr(model, "cflags", ()) if model else (), unlimited=unlimited)


def record_bytes(model: ModelSources, max_text_bytes: int = DEFAULT_TEXT_BYTES) -> int:
    return max_text_bytes if model.input_kind == "text" else max_record_bytes(model, [])


def link_and_size(board: Board, model: ModelSources, out_dir: Path, *, max_input_bytes: int | None = None,
                  bench: bool = False) -> tuple[Firmware, Firmware, SizeReport]:
    """(firmware, baseline, size report); raises ModelDoesNotFit with the numbers."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rec = max_input_bytes or record_bytes(model)
    overflow = None
    try:
        baseline = _compile(board, None, model, out_dir, "baseline", rec)
        firmware = _compile(board, model, model, out_dir, "bench" if bench else "firmware", rec, bench=bench)
    except LinkOverflow as exc:
        # measure both images with unbounded regions, so the refusal can give the numbers
        overflow = str(exc)
        baseline = _compile(board, None, model, out_dir, "baseline", rec, unlimited=True)
        firmware = _compile(board, model, model, out_dir, "oversize", rec, bench=bench, unlimited=True)
    size = SizeReport(
        board=board.name, image=image_sizes(board, firmware.elf), baseline=image_sizes(board, baseline.elf),
        weight_bytes=int(model.weight_bytes), arena_bytes=int(model.arena_bytes),
        stack_reserved=board.stack_size, flash_capacity=board.flash_size, ram_capacity=board.ram_size)
    if overflow is not None or not size.fits:
        detail = size.misfit_message() or f"the linker reports: {overflow}"
        raise ModelDoesNotFit(f"the model does not fit on {board.name}: {detail}. Try a smaller model "
                              f"(fewer projection bits or hidden units), --precision int8 or binary, "
                              f"or a board with more memory")
    return firmware, baseline, size
