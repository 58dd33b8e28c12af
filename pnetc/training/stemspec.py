"""The --stem option's value (no torch here, so options.py can check it at once): a dense layer of H
units (dense:H) or 3x3 conv layers each with ReLU and a 2x2 max-pool (conv:C1[,C2[,C3]]), before the
projection (pnetc/training/stem.py)."""

from __future__ import annotations

from dataclasses import dataclass

from pnetc.errors import PnetcError

STEM_KINDS = ("dense", "conv")
MAX_STEM_WIDTH = 1024  # units of a dense stem, channels of a conv layer
MAX_CONV_LAYERS = 3


@dataclass(frozen=True)
class StemSpec:
    kind: str  # "dense" | "conv"
    widths: tuple[int, ...]  # dense: (units,); conv: channels per 3x3 conv + pool layer

    def __str__(self) -> str:
        return f"{self.kind}:{','.join(map(str, self.widths))}"

    def output_size(self, input_shape: tuple) -> int:
        if self.kind == "dense":
            return self.widths[0]
        _, h, w = image_shape(input_shape)
        for _ in self.widths:
            h, w = h // 2, w // 2
        return self.widths[-1] * h * w


def stem_problem(text) -> str | None:
    """What is wrong with a --stem value (None: fine)."""
    try:
        parse_stem(text)
    except PnetcError as exc:
        return str(exc)
    return None


def parse_stem(text: str) -> StemSpec:
    """'dense:64' or 'conv:8,16' -> StemSpec; PnetcError names what is wrong."""
    kind, _, rest = str(text).partition(":")
    try:
        widths = tuple(int(p) for p in rest.split(",")) if rest else ()
    except ValueError:
        widths = ()
    ok = kind in STEM_KINDS and widths and all(0 < w <= MAX_STEM_WIDTH for w in widths)
    ok = ok and (len(widths) == 1 if kind == "dense" else len(widths) <= MAX_CONV_LAYERS)
    if not ok:
        raise PnetcError(f"--stem must be dense:H (one width) or conv:C1[,C2[,C3]] with widths in 1..{MAX_STEM_WIDTH}, "
                         f"got {text!r}")
    return StemSpec(kind, widths)


def image_shape(input_shape: tuple) -> tuple[int, int, int]:
    """(channels, height, width) of a grayscale image input; other shapes take no conv stem."""
    if len(input_shape) != 2:
        raise PnetcError(f"--stem conv needs grayscale images (an input shape [H, W]), got {list(input_shape)}; "
                         "use --stem dense:H")
    return 1, int(input_shape[0]), int(input_shape[1])


def check_stem_input(spec: StemSpec, input_shape: tuple) -> None:
    if spec.kind == "conv":
        _, h, w = image_shape(input_shape)
        if min(h, w) >> len(spec.widths) < 1:
            raise PnetcError(f"--stem {spec} halves {h}x{w} images {len(spec.widths)} times: nothing is left")
