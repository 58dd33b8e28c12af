"""Window geometries shared by the conv and pool kernel tests (tests/runtime/test_conv2d_*.py,
test_maxpool_*.py, test_avgpool_*.py): named edges plus random ones, each a `Geometry` that gives
both the twin's keyword arguments and the C pnet_window."""

from __future__ import annotations

from dataclasses import dataclass

from ckernel_harness import pack

from pnetc import kernels as K


@dataclass(frozen=True)
class Geometry:
    channels: int
    in_hw: tuple[int, int]
    kernel: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, left, bottom, right (ONNX order)
    dilations: tuple[int, int] = (1, 1)
    ceil_mode: bool = False

    @property
    def window(self) -> K.Window:
        return K.window(self.in_hw, self.kernel, self.strides, self.pads, self.dilations, self.ceil_mode)

    @property
    def in_shape(self) -> tuple[int, int, int]:
        return (self.channels,) + self.in_hw

    def twin_args(self, pool: bool) -> dict:
        args = dict(strides=self.strides, pads=self.pads, dilations=self.dilations)
        return dict(args, kernel=self.kernel, ceil_mode=self.ceil_mode) if pool else args

    def packed_window(self) -> bytes:
        return pack(*self.window.c_fields())


# name -> geometry: 1x1, kernel == input (global), Conv1d (H = 1), strides larger than the kernel,
# asymmetric padding, dilation, ceil mode with a dropped last window, odd sizes.
EDGES = {
    "1x1": Geometry(3, (5, 4), (1, 1)),
    "global": Geometry(4, (6, 5), (6, 5)),
    "global-1x1-input": Geometry(2, (1, 1), (1, 1)),
    "conv1d": Geometry(3, (1, 17), (1, 5), pads=(0, 2, 0, 2)),
    "conv1d-strided": Geometry(2, (1, 20), (1, 3), strides=(1, 2), pads=(0, 1, 0, 0)),
    "same-3x3": Geometry(3, (7, 7), (3, 3), pads=(1, 1, 1, 1)),
    "stride-2": Geometry(2, (8, 9), (3, 3), strides=(2, 2), pads=(1, 1, 1, 1)),
    "stride-gt-kernel": Geometry(2, (9, 9), (2, 2), strides=(3, 4)),
    "asymmetric-pads": Geometry(2, (5, 6), (3, 4), pads=(2, 0, 1, 3)),
    "dilated": Geometry(2, (9, 8), (3, 2), dilations=(2, 3), pads=(2, 1, 2, 1)),
    "ceil-mode": Geometry(2, (7, 7), (2, 2), strides=(2, 2), ceil_mode=True),
    "ceil-mode-padded": Geometry(1, (6, 5), (3, 3), strides=(2, 2), pads=(1, 1, 1, 1), ceil_mode=True),
    "pool-2x2": Geometry(4, (28, 28), (2, 2), strides=(2, 2)),
}


def random_geometries(rng, count: int, max_channels: int = 4) -> list[Geometry]:
    """Random valid geometries (pads smaller than the kernel, as ONNX requires of pools)."""
    out = []
    while len(out) < count:
        h, w = (int(v) for v in rng.integers(1, 12, 2))
        kh, kw = (int(rng.integers(1, v + 1)) for v in (min(h, 5), min(w, 5)))
        dh, dw = (int(rng.integers(1, 3)) if (k - 1) * 2 + 1 <= s else 1 for k, s in ((kh, h), (kw, w)))
        pads = tuple(int(rng.integers(0, k)) for k in (kh, kw, kh, kw))
        g = Geometry(int(rng.integers(1, max_channels + 1)), (h, w), (kh, kw),
                     tuple(int(v) for v in rng.integers(1, 4, 2)), pads, (dh, dw), bool(rng.integers(0, 2)))
        try:
            g.window
        except K.PnetcError:  # a window larger than the padded input: draw again
            continue
        out.append(g)
    return out


def all_geometries(rng, count: int = 40) -> list[Geometry]:
    return list(EDGES.values()) + random_geometries(rng, count)
