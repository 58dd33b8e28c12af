"""Jinja2 filters that turn numpy arrays and numbers into C literals (exact and deterministic).

They return `Fragment`s (escape.py): text pnetc made, which templates may write as it is."""

from __future__ import annotations

import numpy as np

from pnetc.codegen.escape import Fragment

PER_LINE = 16


def _float_literals(values: np.ndarray) -> list[str]:
    # 9 significant digits round-trip every float32; '#' keeps the decimal point so "1." + "f" is valid C
    return list(map("{:#.9g}f".format, values.astype(np.float64).tolist()))


def _int_literals(values: np.ndarray, ctype: str) -> list[str]:
    ints = values.astype(np.int64).tolist()
    if ctype == "uint32_t":
        return [f"0x{v:08X}u" for v in ints]
    if ctype == "int32_t":
        # INT32_MIN has no literal form; (-2147483647 - 1) is the portable spelling
        return ["(-2147483647 - 1)" if v == -(2**31) else str(v) for v in ints]
    if ctype == "uint16_t":
        return [f"{v}u" for v in ints]
    return [str(v) for v in ints]


def c_values(values: np.ndarray, ctype: str, indent: str = "    ") -> Fragment:
    """Comma-separated initializer lines, PER_LINE values per line."""
    flat = np.asarray(values).reshape(-1)
    items = _float_literals(flat) if ctype == "float" else _int_literals(flat, ctype)
    lines = [", ".join(items[i:i + PER_LINE]) for i in range(0, len(items), PER_LINE)]
    return Fragment((",\n").join(indent + line for line in lines))


def c_float(value: float) -> Fragment:
    return Fragment(_float_literals(np.asarray([value], np.float32))[0])


def c_uint(value: int) -> Fragment:
    return Fragment(f"0x{int(value):08X}u")


def hex_address(value: int) -> Fragment:
    """0x0000abcd, as linker scripts spell addresses."""
    return Fragment(f"0x{int(value):08x}")
