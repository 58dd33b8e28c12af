"""The only ways text reaches a generated file (C, headers, .mk, CMake, Kconfig, YAML, .ino, properties).

Every `{{ ... }}` of templates/ passes `finalize` (render.py): integers and C identifiers go through as
they are; any other string only if it is a `Fragment`, text that pnetc made or escaped itself:
numeric literals (literals.py), `c_comment`, `c_string`, and the `word` check for the file names,
versions and flags pnetc writes. Anything else (a node name, a label, a file name from a model or the
user) stops the render with `UnescapedText`, a bug in pnetc, instead of reaching a file raw.
"""

from __future__ import annotations

import numbers
import re

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# file names, versions, URLs, toolchain prefixes: nothing that quotes, comments, expands or splits
# in C, make or CMake (no space, quote, '#', '$', ';', ',', '*', '\', '%')
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+:/-]*")
_FLAG = re.compile(r"-[A-Za-z0-9_.+,:=/-]+")  # a compiler/linker flag of a board file

COMMENT_MAX = 160  # characters of escaped text per comment field; longer text ends in "..."
# Printable ASCII without '*' (closes /* */), '\' (line splice), '?' (trigraphs: "??/" is '\' under
# -std=c99) and '%' (the escape character); everything else is percent-encoded UTF-8, so no newline
# ends a '//', '#' or YAML comment either.
_COMMENT_KEEP = frozenset(chr(c) for c in range(0x20, 0x7F)) - set("*\\?%")


class Fragment(str):
    """Text pnetc made or escaped: safe where the template puts it. Only this module and
    literals.py create fragments; a template cannot (no filter marks arbitrary text safe)."""

    __slots__ = ()


class UnescapedText(RuntimeError):
    """A template tried to write a string that went through no escaping filter (a pnetc bug)."""


def finalize(value):
    """The Jinja `finalize` hook: what a `{{ }}` may write."""
    if isinstance(value, Fragment):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and (value == "" or IDENTIFIER.fullmatch(value)):
        return value
    shown = repr(value)
    raise UnescapedText(f"template output {shown[:80]}{'...' if len(shown) > 80 else ''} ({type(value).__name__}) "
                        "is not a number, C identifier or escaped text; pass it through c_comment, c_string "
                        "or a literal filter")


def _utf8(text) -> bytes:
    if isinstance(text, (bytes, bytearray)):
        return bytes(text)
    # surrogatepass: a JSON label "\ud800" is a valid Python str that strict UTF-8 cannot encode
    return str(text).encode("utf-8", "surrogatepass")


def c_comment(text, limit: int = COMMENT_MAX) -> Fragment:
    """`text` as comment text, safe inside /* */, //, and #-comments of make, CMake, Kconfig, YAML
    and properties files: printable ASCII except * \\ ? %, other UTF-8 bytes as %XX, at most
    `limit` characters then "...". Plain names come out unchanged."""
    out, used = [], 0
    for b in _utf8(text):
        piece = chr(b) if chr(b) in _COMMENT_KEEP else f"%{b:02X}"
        if used + len(piece) > limit:
            out.append("...")
            break
        out.append(piece)
        used += len(piece)
    return Fragment("".join(out))


def c_string(text) -> Fragment:
    """A C (and C++) string literal holding exactly the bytes of `text` (str as UTF-8): octal escapes
    for everything outside printable ASCII, '\\' before " \\ and ? (no trigraph, no hex run-on)."""
    out = []
    for b in _utf8(text):
        ch = chr(b)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append(f"\\{b:03o}")
    return Fragment('"' + "".join(out) + '"')


def word(text: str) -> Fragment:
    """A file name, version, URL or tool prefix that pnetc wrote itself, checked to need no quoting
    anywhere (letters, digits, _ . + : / -); anything else is a pnetc bug."""
    if not isinstance(text, str) or not _WORD.fullmatch(text) or ".." in text:
        raise UnescapedText(f"{text!r} is not a plain word (file name, version or URL)")
    return Fragment(text)


def flags(items) -> Fragment:
    """Board-file compiler/linker flags, space-separated, each a plain -flag."""
    items = list(items)
    bad = [f for f in items if not isinstance(f, str) or not _FLAG.fullmatch(f)]
    if bad:
        raise UnescapedText(f"board flags {bad!r} hold characters pnetc does not write into build files")
    return Fragment(" ".join(items))
