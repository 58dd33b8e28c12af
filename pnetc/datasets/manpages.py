"""Prose paragraphs from installed manual pages (groff `man` / `mdoc` source, gzipped).

A small stripper, not a renderer: it keeps the running text of a page and drops what is
not prose in the page's language.
  * request and macro lines (`.XX ...`, `'XX ...`) are dropped; paragraph macros
    (.PP .P .LP .IP .TP .SH .SS .sp .Pp .Sh ...) end the current paragraph;
  * no-fill blocks (.nf/.fi, .EX/.EE, .TS/.TE tables, .de macro definitions, .Bd/.Ed)
    are code, examples or tables: dropped whole;
  * after .TP the next line is the tag (an option), dropped;
  * the first two sections (NAME, SYNOPSIS) are dropped, and in a translated page the last
    one (the translators' credits that manpages-l10n appends to every page);
  * bold text (`\\fB...\\fP`: commands, options, file names) is dropped, other font
    changes are removed, named characters become their character, other escapes vanish;
  * a paragraph is kept when it has >= 40 letters, letters are >= 75 % of its non-space
    characters and few words look like code (digits, `/`, `=`, `_`, `@`, `<`).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

MAN_DIR = Path("/usr/share/man")
MIN_LETTERS = 40
MIN_LETTER_RATIO = 0.75
MAX_CODE_WORD_RATIO = 0.1

_BREAK = {"PP", "P", "LP", "IP", "TP", "HP", "SH", "SS", "sp", "br", "Pp", "Sh", "Ss", "It", "Bl", "El", "RS", "RE", "TQ", "UR", "UE", "MT", "ME"}  # fmt: skip
_NOFILL = {"nf": "fi", "EX": "EE", "TS": "TE", "de": ".", "Bd": "Ed", "ig": ".", "EQ": "EN", "PS": "PE"}
_NAMED = {
    "em": "\u2014", "en": "\u2013", "aq": "'", "dq": '"', "lq": "\u201c", "rq": "\u201d", "oq": "\u2018",
    "cq": "\u2019", "Fo": "\u00ab", "Fc": "\u00bb", "fo": "\u2039", "fc": "\u203a", "hy": "-", "co": "\u00a9",
    "bu": "\u2022", "rg": "\u00ae", "mi": "-", "ti": "~", "ha": "^", "pl": "+", "eq": "=", "dg": "\u2020",
}  # fmt: skip
_BOLD = re.compile(r"\\f(?:B|\(BI|\[B\]|\[BI\])(.*?)(?=\\f|$)")
_FONT = re.compile(r"\\f(?:\(..|\[[^\]]*\]|.)")
_NAMED_CHAR = re.compile(r"\\(?:\((..)|\[([^\]]*)\])")
_STRING = re.compile(r"\\\*(?:\(..|\[[^\]]*\]|.)")
_SIZE = re.compile(r"\\s[-+]?\d+|\\s\(\d\d|\\s\[[^\]]*\]")
_WITH_ARG = re.compile(r"\\[hvwoHNkzXYlLDbxuRZ]'[^']*'|\\[nmgkVY](?:\(..|\[[^\]]*\]|.)")
_OTHER = re.compile(r"\\[&|^%:,/c)!{}dtupa0~ ]")
_CODE_WORD = re.compile(r"[0-9/=_@<>{}\[\]$#*]")


def strip_escapes(line: str) -> str:
    """groff escapes -> plain text (bold spans dropped)."""
    line = line.replace("\\\\", "\x00")  # an escaped backslash, restored at the end
    line = re.sub(r'\\".*$', "", line)  # comment
    line = _BOLD.sub("", line)
    line = _FONT.sub("", line)
    line = _SIZE.sub("", line)
    line = _WITH_ARG.sub("", line)
    line = _STRING.sub("", line)
    line = _NAMED_CHAR.sub(lambda m: _NAMED.get(m.group(1) or m.group(2), ""), line)
    line = line.replace("\\-", "-").replace("\\e", "\x00").replace("\\ ", " ").replace("\\~", " ")
    line = _OTHER.sub(lambda m: " " if m.group(0) in ("\\ ", "\\~") else "", line)
    line = re.sub(r"\\.", "", line)  # anything left is not text
    return line.replace("\x00", "\\")


def page_paragraphs(source: str, translated: bool) -> list[str]:
    """The prose paragraphs of one page's groff source, whitespace collapsed."""
    sections: list[list[str]] = [[]]  # paragraphs per section; [0] holds text before the first .SH
    current: list[str] = []
    end_of_block: str | None = None
    skip_tag = False

    def flush() -> None:
        if current:
            sections[-1].append(" ".join(" ".join(current).split()))
            current.clear()

    for line in source.splitlines():
        if end_of_block is not None:
            if line.startswith(("." + end_of_block, "'" + end_of_block)) or (end_of_block == "." and line.strip() == ".."):
                end_of_block = None
            continue
        if line.startswith((".", "'")):
            name = line[1:].lstrip().split(" ", 1)[0].split("\t", 1)[0]
            if name in _NOFILL:
                flush()
                end_of_block = _NOFILL[name]
            elif name in _BREAK:
                flush()
                if name in ("SH", "Sh"):
                    sections.append([])
                skip_tag = name in ("TP", "TQ")
            continue
        if skip_tag:  # the tag line of .TP: an option or a term, not prose
            skip_tag = False
            continue
        text = strip_escapes(line)
        if text.strip():
            current.append(text)
        else:
            flush()
    flush()
    body = sections[3:]  # sections[0]: before .SH; [1] NAME; [2] SYNOPSIS
    if translated and body:
        body = body[:-1]  # the translators' credits
    return [p for section in body for p in section]


def is_prose(paragraph: str) -> bool:
    letters = sum(ch.isalpha() for ch in paragraph)
    if letters < MIN_LETTERS or letters < MIN_LETTER_RATIO * (len(paragraph) - paragraph.count(" ")):
        return False
    words = paragraph.split()
    return sum(bool(_CODE_WORD.search(w)) for w in words) <= MAX_CODE_WORD_RATIO * len(words)


def read_page(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def page_files(folder: Path) -> list[Path]:
    """The pages of one language folder (`man1` ... `man8` below it), sorted; symlinks and
    `.so` redirections are left to their targets."""
    if not folder.is_dir():
        return []
    found = []
    for section in sorted(folder.glob("man[1-8]")):
        found += [p for p in sorted(section.iterdir()) if p.is_file() and not p.is_symlink()]
    return found


def prose_paragraphs(path: Path, translated: bool) -> list[str]:
    try:
        source = read_page(path)
    except (OSError, EOFError, gzip.BadGzipFile):
        return []
    if source.lstrip().startswith(".so "):
        return []
    return [p for p in page_paragraphs(source, translated) if is_prose(p)]
