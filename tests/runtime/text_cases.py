"""Shared byte strings for the text kernel tests: every normalisation rule of docs/format.md
section 4.1 (and the near misses next to each rule), invalid UTF-8, NUL bytes, and random text."""

from __future__ import annotations

import numpy as np

RULE_CASES = [
    b"",
    b" ",
    b"a",
    b"\x00",
    b"Hello, World!",
    b"ABC xyz 123 @[`{",  # rule 1 edges (A, Z) and rule 2 neighbours of a-z
    b"AZaz@[`{\x7f\x01\t\n",
    b"  many   spaces\t\tand\r\ntabs  ",
    b"a\x00b\x00\x00c\x00",  # NUL is a separator
    # rule 3: Latin-1 capitals C3 80..9E except C3 97 (x), plus C3 9F (sharp s) and C3 A0.. as is
    "ÀÉÖ×ØÞß àéöøþ".encode(),
    b"\xc3\x80\xc3\x96\xc3\x97\xc3\x98\xc3\x9e\xc3\x9f\xc3\x7f\xc3",
    # rule 4: Cyrillic capitals in the three D0 ranges, and small letters that stay
    "ЀЏАЯРЯ Привет, МИР! ёЁ".encode(),
    b"\xd0\x7f\xd0\x80\xd0\x8f\xd0\x90\xd0\x9f\xd0\xa0\xd0\xaf\xd0\xb0\xd0\xbf\xd0\xc0\xd0",
    # rule 5: C2 80..BF separators (C1 controls, NBSP, guillemets, inverted marks)
    "«hola» ¿qué? ¡sí! a\u00a0b".encode(),
    b"x\xc2\x80y\xc2\xbfz\xc2\x7fw\xc2\xc0v\xc2",
    # rule 6: E2 80 80..BF separators (em dash, curly quotes, ellipsis), and the near misses
    "a\u2014b \u201cq\u201d\u2026 \u2000\u203f\u2040".encode(),
    b"a\xe2\x80\x80b\xe2\x80\xbfc\xe2\x80\x7fd\xe2\x80\xc0e\xe2\x81\x80f\xe2\x80",
    b"\xe2\x80",
    b"\xe2",
    # rule 7 and invalid UTF-8: stray continuations, overlongs, lone lead bytes, 0xFF
    b"\x80\x80abc",
    b" \x80 ",
    b"\x80",
    b"\xff\xfe\xfd",
    b"ab\xc0\xaf\xe0\x80\xaf\xf8\x88\x80\x80\x80cd",
    "naïve café, Straße — 日本語のテキスト 🙂 emoji".encode(),
    b"one two three four five six",
    b"repeat repeat repeat repeat",
]

_PIECES = [b"a", b"Z", b" ", b".", b"\x00", b"\x80", b"\xbf", b"\xc2", b"\xc3", b"\xd0", b"\xd1", b"\xe2",
           b"\xff", b"\xc3\x97", b"\xc3\x80", b"\xd0\x90", b"\xd0\xa5", b"\xe2\x80\x94", b"\xc2\xa0", b"\xf0\x9f"]


def random_texts(rng, count: int = 40, max_len: int = 120) -> list[bytes]:
    """Random byte strings: half uniform bytes, half built from rule-triggering pieces."""
    out = []
    for i in range(count):
        n = int(rng.integers(0, max_len))
        if i % 2:
            out.append(rng.integers(0, 256, size=n, dtype=np.uint8).tobytes())
        else:
            out.append(b"".join(_PIECES[j] for j in rng.integers(0, len(_PIECES), size=n)))
    return out


def big_text(rng, size: int = 64 * 1024) -> bytes:
    """About 64 KB of word-like text with punctuation, capitals and multi-byte letters."""
    words = [b"the", b"Quick", b"brown", b"FOX", b"jumps", b"\xd0\x9f\xd1\x80\xd0\xb8", b"caf\xc3\xa9",
             b"\xc3\x89t\xc3\xa9", b"over", b"lazy", b"dog", b"1234", b"\xe2\x80\x94", b"\xc2\xab"]
    seps = [b" ", b", ", b". ", b"\n", b"  "]
    parts = []
    total = 0
    while total < size:
        w = words[int(rng.integers(0, len(words)))] + seps[int(rng.integers(0, len(seps)))]
        parts.append(w)
        total += len(w)
    return b"".join(parts)[:size]
