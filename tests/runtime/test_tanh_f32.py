"""tanh_f32.c against pnetc.kernels.tanh_f32 (1e-5 relative)."""

from __future__ import annotations

import numpy as np
import pytest
from ckernel_harness import HOST_AND_ARM, Reader, pack

from pnetc import kernels as K


def _cases(rng):
    cases = [np.array([0.0], np.float32), np.array([-0.0, 1e-30, -1e-30], np.float32),
             np.array([-100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0], np.float32),
             np.array([88.0, 89.0, -88.0, -104.0], np.float32),
             np.array([3.0, 3.0, 3.0], np.float32)]
    cases += [(rng.standard_normal(int(n)) * 4).astype(np.float32) for n in [1, 2, 10, 100, 1000]]
    return cases


@pytest.mark.parametrize("toolchain", HOST_AND_ARM)
def test_tanh_f32(build_kernel, toolchain, rng):
    kernel = build_kernel("test_unary_f32", ["tanh_f32.c"], toolchain, defines=("KERNEL=pnet_tanh_f32",),
                          libm=True)
    cases = _cases(rng)
    r = Reader(kernel.run(b"".join(pack(len(x), x) for x in cases)))
    for x in cases:
        got = r.take(np.float32, len(x))
        np.testing.assert_allclose(got, K.tanh_f32(x), rtol=1e-5, atol=1e-7, err_msg=repr(x[:8]))
    assert r.done()
