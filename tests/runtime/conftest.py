"""Fixtures of the C kernel tests; the helpers live in ckernel_harness.py (a unique module name,
so test modules never import another directory's conftest by mistake)."""

from ckernel_harness import build_kernel, rng  # noqa: F401 (fixtures)
