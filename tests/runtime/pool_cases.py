"""Shared cases and check for the pool kernel tests (max/avg, int8/float32)."""

from __future__ import annotations

import numpy as np
from ckernel_harness import Reader, pack
from window_cases import all_geometries

from pnetc import kernels as K


def pool_inputs(rng, dtype) -> list:
    """(geometry, x) over every geometry: random values, plus all-equal, extremes and ties for int8,
    signed zeros, infinities and NaNs for float."""
    cases = []
    for i, g in enumerate(all_geometries(rng)):
        if dtype == np.int8:
            x = rng.integers(-128, 128, size=g.in_shape, dtype=np.int8)
            if i % 5 == 1:
                x[:] = [-128, 127][i % 2]
            elif i % 5 == 2:
                x = rng.choice(np.array([-1, 0, 1, 2], np.int8), size=g.in_shape)  # ties and exact halves
        else:
            x = (rng.standard_normal(g.in_shape) * 10).astype(np.float32)
            if i % 4 == 1:
                x.ravel()[rng.integers(0, x.size, size=1 + x.size // 4)] = rng.choice(
                    np.array([np.nan, np.inf, -np.inf, -0.0, 0.0], np.float32), size=1 + x.size // 4)
        cases.append((g, x))
    return cases


def check_pool(kernel, cases, header, twin, dtype) -> None:
    """Feed (geometry, x, twin kwargs) cases; header(g, extra) packs the per-kernel ints."""
    data = b"".join(header(g, extra) + g.packed_window() + pack(x) for g, x, extra in cases)
    r = Reader(kernel.run(data))
    for g, x, extra in cases:
        want = twin(x, **g.twin_args(pool=True), **extra)
        assert want.shape == (g.channels, g.window.out_h, g.window.out_w)
        got = r.take(dtype, want.size).reshape(want.shape)
        np.testing.assert_array_equal(got, want, err_msg=f"{g} {extra}")
    assert r.done()


def clamps(rng) -> dict:
    """Random act_min/act_max: none, a fused ReLU at a zero point, or a narrow band."""
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return dict(act_min=-128, act_max=127)
    if kind == 1:
        return dict(act_min=int(rng.integers(-128, 128)), act_max=127)
    lo = int(rng.integers(-128, 100))
    return dict(act_min=lo, act_max=lo + int(rng.integers(0, 28)))


__all__ = ["K", "check_pool", "clamps", "pool_inputs"]
