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


# ---- streaming drivers (test_text_stream.c, test_text_presence.c): ops and misuse scripts ----

FEED, FINISH, BEGIN = 0, 1, 2
ERR_NULL, ERR_LENGTH, ERR_ARG = -1, -2, -3


def stream_op(kind: int, chunk: bytes = b"", *, null: bool = False, length: int | None = None) -> bytes:
    """One op: u32 kind, flags (bit 0: NULL chunk), len, nbytes, then the bytes."""
    parts = (kind, int(null), len(chunk) if length is None else length, len(chunk))
    return b"".join(int(p).to_bytes(4, "little") for p in parts) + chunk


def chunked_ops(text: bytes, size: int) -> list[bytes]:
    """BEGIN, the text in chunks of `size` bytes (an empty chunk after the first), FINISH."""
    chunks = [text[i:i + size] for i in range(0, len(text), size)]
    return [stream_op(BEGIN)] + [stream_op(FEED, c) for c in chunks[:1]] + [stream_op(FEED, b"")] + \
        [stream_op(FEED, c) for c in chunks[1:]] + [stream_op(FINISH)]


def misuse_scripts() -> list[tuple[list[bytes], list[int]]]:
    """(ops, the return code of each) for the stream contract every streaming projection keeps."""
    op = stream_op
    return [
        # never begun (zeroed state): feed and finish refuse
        ([op(FEED, b"abc"), op(FINISH)], [ERR_ARG, ERR_ARG]),
        # finished: a further feed or finish refuses until the next begin, which starts afresh
        ([op(BEGIN), op(FEED, b"abc"), op(FINISH), op(FEED, b"x"), op(FINISH),
          op(BEGIN), op(FEED, b"abc"), op(FEED, b"def"), op(FINISH)], [0, 0, 0, ERR_ARG, ERR_ARG, 0, 0, 0, 0]),
        # NULL chunk: allowed when empty; with bytes an error that sticks
        ([op(BEGIN), op(FEED, null=True), op(FEED, b"x", null=True), op(FEED, b"abc"), op(FINISH)],
         [0, 0, ERR_NULL, ERR_NULL, ERR_NULL]),
        # 2^26 bytes in total is too long: refused before reading, and the error sticks
        ([op(BEGIN), op(FEED, b"abc"), op(FEED, b"d", length=(1 << 26) - 3), op(FINISH)],
         [0, 0, ERR_LENGTH, ERR_LENGTH]),
    ]


def check_misuse(r, scripts, bits_of) -> None:
    """Reads each script's return codes from the driver output r; after a finish that succeeds,
    the 2 words of bits must be bits_of(the text fed since the last begin)."""
    for ops, rcs in scripts:
        text = b""
        for op, rc in zip(ops, rcs):
            assert r.i32() == rc
            kind, chunk = int.from_bytes(op[:4], "little"), op[16:]
            text = b"" if kind == BEGIN else text + chunk
            if kind == FINISH and rc == 0:
                np.testing.assert_array_equal(r.take(np.uint32, 2), bits_of(text))
