"""Shared inputs and check for the in-place float activation kernels (relu, sigmoid, tanh, softmax)."""

from __future__ import annotations

import numpy as np
from ckernel_harness import Reader, pack

from pnetc import kernels as K


def unary_f32_cases(rng) -> list[np.ndarray]:
    """Zeros, signed tiny values, expf overflow/underflow edges, ties, and random vectors."""
    cases = [np.array([0.0], np.float32), np.array([-0.0, 1e-30, -1e-30], np.float32),
             np.array([-100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0], np.float32),
             np.array([88.0, 89.0, -88.0, -104.0], np.float32),
             np.array([3.0, 3.0, 3.0], np.float32)]
    cases += [(rng.standard_normal(int(n)) * 4).astype(np.float32) for n in [1, 2, 10, 100, 1000]]
    return cases


def check_unary_f32(build_kernel, toolchain, rng, name: str) -> None:
    """Build runtime/src/<name>.c into the unary driver and compare it with pnetc.kernels.<name>."""
    kernel = build_kernel("test_unary_f32", [f"{name}.c"], toolchain, defines=(f"KERNEL=pnet_{name}",), libm=True)
    cases = unary_f32_cases(rng)
    r = Reader(kernel.run(b"".join(pack(len(x), x) for x in cases)))
    twin = getattr(K, name)
    for x in cases:
        got = r.take(np.float32, len(x))
        np.testing.assert_allclose(got, twin(x), rtol=1e-5, atol=1e-7, err_msg=repr(x[:8]))
    assert r.done()
