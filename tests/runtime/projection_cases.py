"""Shared inputs for the four dense projection tests: random and edge cases."""

from __future__ import annotations

import numpy as np


def dense_cases(rng, max_n: int = 784):
    """(seed, x int16 [n], num_bits) cases: sizes not multiples of 32, n = 1, all-zero,
    saturated (+-255, the extremes of centered uint8), ties, and random images."""
    cases = []
    for n, num_bits in [(1, 1), (1, 33), (2, 7), (31, 32), (32, 31), (33, 64), (64, 100), (100, 257),
                        (max_n, 96)]:
        seed = int(rng.integers(0, 1 << 32))
        cases.append((seed, rng.integers(-255, 256, size=n).astype(np.int16), num_bits))
    for n in [1, 33, 200]:
        cases.append((7, np.zeros(n, np.int16), 40))  # every acc is 0: the tie gives 0
        cases.append((8, np.full(n, 255, np.int16), 40))
        cases.append((9, np.full(n, -255, np.int16), 40))
        cases.append((10, np.where(np.arange(n) % 2 == 0, 255, -255).astype(np.int16), 40))
    cases.append((0xFFFFFFFF, rng.integers(-3, 4, size=150).astype(np.int16), 200))  # many ties
    q = rng.integers(0, 256, size=(784,), dtype=np.uint8)
    cases.append((42, (q.astype(np.int32) - 128).astype(np.int16), 512))
    return cases
