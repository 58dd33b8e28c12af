"""Language identification from the Debian fortune packages (11 languages).

Sources (under /usr/share/games/fortunes, or data_dir):
  en  the `fortunes` / `fortunes-min` packages' files at the top level (a fixed list)
  pt  `brasil` at the top level (`fortunes-br`, Brazilian Portuguese)
  bg cs de eo es ga it pl ru  the subfolder of the same name (`fortunes-<code>`)
Each file is a list of entries separated by lines that are exactly `%`.

Cleaning, in order (docs/datasets.md has the measured effect of each rule):
  * skip whole files that are pictures (ascii-art) or another language (Slovak in fortunes-cs)
    and the `off/` (offensive) subfolders, which `fortune` itself hides by default;
  * decode each entry as UTF-8, else with the language's legacy 8-bit codec;
  * resolve terminal overstrike (`_\bX` underlining, `X\bX` bold) and delete other
    control characters (bells, IRC formatting); drop entries with escape sequences;
  * collapse all whitespace to single spaces (the featurizer treats it alike anyway);
  * drop tiny entries (< 10 letters) and pictures (letters < 50% of non-space characters);
  * in non-English files, drop entries that are mostly English (quotes, code, mail headers);
  * truncate to 1000 UTF-8 bytes at a character boundary, so featurizing stays fast;
  * deduplicate; a text found under two languages is dropped from both.
Split: stratified 80/20 by SHA-256 of the text (`hash_split`). Balance: each language
keeps at most 3000 training and 750 test texts, the ones with the smallest hashes.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from pnetc.datasets import Dataset, hash_split
from pnetc.errors import PnetcError

FORTUNES_DIR = Path("/usr/share/games/fortunes")
MAX_TEXT_BYTES = 1000
MAX_TRAIN_PER_CLASS = 3000
MAX_TEST_PER_CLASS = 750
MIN_LETTERS = 10
MIN_LETTER_RATIO = 0.5

# The plain-text English files of the `fortunes` and `fortunes-min` packages. A fixed
# list: other packages also drop files at the top level (Italian links, Portuguese).
ENGLISH_FILES = (
    "art computers cookie debian definitions disclaimer drugs education ethnic food fortunes goedel "
    "humorists kids knghtbrd law linux linuxcookie literature love magic medicine men-women "
    "miscellaneous news paradoxum people perl pets platitudes politics pratchett riddles science "
    "songs-poems sports startrek tao translate-me wisdom work zippy"
).split()

# code -> (Debian package, folder or file under the fortunes root, legacy codec for non-UTF-8 entries)
LANGUAGES = {
    "bg": ("fortunes-bg", "bg", "cp1251"),
    "cs": ("fortunes-cs", "cs", "iso-8859-2"),
    "de": ("fortunes-de", "de", "latin-1"),
    "en": ("fortunes", None, "latin-1"),
    "eo": ("fortunes-eo", "eo", "iso-8859-3"),
    "es": ("fortunes-es", "es", "latin-1"),
    "ga": ("fortunes-ga", "ga", "latin-1"),
    "it": ("fortunes-it", "it", "latin-1"),
    "pl": ("fortunes-pl", "pl", "iso-8859-2"),
    "pt": ("fortunes-br", "brasil", "latin-1"),
    "ru": ("fortunes-ru", "ru", "koi8-r"),
}
LANGUAGE_NAMES = {
    "bg": "Bulgarian", "cs": "Czech", "de": "German", "en": "English", "eo": "Esperanto", "es": "Spanish",
    "ga": "Irish", "it": "Italian", "pl": "Polish", "pt": "Portuguese (Brazil)", "ru": "Russian",
}  # fmt: skip

# Files (relative to the fortunes root) that are not prose in their folder's language.
SKIP_FILES = {
    "ascii-art",  # pictures
    "de/asciiart",  # pictures
    "it/banner",  # the package's figlet banner
    "pl/cows",  # cowsay pictures
    "cs/klasik-sk",  # Slovak, not Czech
}

# English function words that are not words of the other languages here (so no "was",
# "will", "in", "to", "is"): a non-English entry made of many of them is English.
ENGLISH_MARKERS = frozenset("the and of you that with this are what have your from".split())
ENGLISH_MARKER_RATIO = 0.1

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_OVERSTRIKE = re.compile(r"[^\x08]\x08")
_WORD = re.compile(r"\w+")
_SEPARATOR = re.compile(rb"^%\r?$\n?", re.MULTILINE)


def language_files(root: Path, code: str) -> list[Path]:
    """The files that make up one language, sorted; empty when its package is missing."""
    _, place, _ = LANGUAGES[code]
    if code == "en":
        return [root / f for f in ENGLISH_FILES if (root / f).is_file()]
    path = root / place
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    found = []
    for p in sorted(path.iterdir()):  # top level only: skips the off/ (offensive) folders
        rel = f"{place}/{p.name}"
        if p.name.startswith(".") or p.suffix in (".dat", ".u8") or rel in SKIP_FILES or not p.is_file():
            continue
        found.append(p)
    return found


def split_entries(raw: bytes) -> list[bytes]:
    """Fortune file -> entries (the `%` separator lines removed)."""
    return [e for e in _SEPARATOR.split(raw) if e.strip()]


def decode_entry(raw: bytes, legacy_codec: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(legacy_codec, errors="replace")


def truncate_utf8(data: bytes, limit: int = MAX_TEXT_BYTES) -> bytes:
    """Cut to at most `limit` bytes without splitting a UTF-8 character."""
    if len(data) <= limit:
        return data
    cut = limit
    while cut > 0 and (data[cut] & 0xC0) == 0x80:  # data[cut] would start the dropped part
        cut -= 1
    return data[:cut].rstrip(b" ")


def clean_entry(text: str, code: str) -> tuple[bytes | None, str]:
    """One entry -> (UTF-8 bytes or None, reason). The reason names the rule that dropped it."""
    if "\x1b" in text:  # ANSI escape sequences: colour pictures, not prose
        return None, "control"
    while "\x08" in text:  # "_\bX" and "X\bX" print as X: keep the X
        stripped = _OVERSTRIKE.sub("", text)
        if stripped == text:
            break
        text = stripped
    text = _CONTROL.sub("", text)
    norm = " ".join(text.split())
    letters = sum(ch.isalpha() for ch in norm)
    if letters < MIN_LETTERS:
        return None, "tiny"
    if letters < MIN_LETTER_RATIO * (len(norm) - norm.count(" ")):
        return None, "art"
    if code != "en":
        words = _WORD.findall(norm.lower())
        if len(words) >= 4 and sum(w in ENGLISH_MARKERS for w in words) >= ENGLISH_MARKER_RATIO * len(words):
            return None, "english"
    return truncate_utf8(norm.encode("utf-8")), "kept"


def collect(root: Path) -> tuple[dict[str, list[bytes]], dict[str, dict[str, int]]]:
    """Read, clean and deduplicate every language. Returns texts per language and drop statistics."""
    missing = [code for code in LANGUAGES if not language_files(root, code)]
    if missing:
        packages = " ".join(sorted({LANGUAGES[c][0] for c in missing}))
        raise PnetcError(
            f"langid needs the Debian fortune packages; no files found in {root} for "
            f"{', '.join(missing)}: install them with `apt-get install {packages}`, "
            "or pass --data-dir DIR pointing to a fortunes tree"
        )
    stats: dict[str, dict[str, int]] = {}
    owner: dict[bytes, str | None] = {}  # text -> language, None once claimed by two languages
    ordered: dict[str, list[bytes]] = {code: [] for code in LANGUAGES}
    for code, (_, _, codec) in LANGUAGES.items():
        counts = {"entries": 0, "control": 0, "tiny": 0, "art": 0, "english": 0, "duplicate": 0, "kept": 0}
        for path in language_files(root, code):
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise PnetcError(f"cannot read fortune file {path}: {exc.strerror or exc}") from None
            for entry in split_entries(raw):
                counts["entries"] += 1
                data, reason = clean_entry(decode_entry(entry, codec), code)
                if data is None:
                    counts[reason] += 1
                    continue
                if data in owner:
                    counts["duplicate"] += 1
                    if owner[data] != code:
                        owner[data] = None
                    continue
                owner[data] = code
                ordered[code].append(data)
        stats[code] = counts
    texts = {}
    for code, items in ordered.items():
        texts[code] = [t for t in items if owner[t] == code]
        stats[code]["cross_language"] = len(items) - len(texts[code])
        stats[code]["kept"] = len(texts[code])
    return texts, stats


def _cap(texts: list[bytes], limit: int) -> list[bytes]:
    return sorted(texts, key=lambda t: hashlib.sha256(t).digest())[:limit]


def load_langid(data_dir: str | Path | None = None) -> Dataset:
    root = Path(data_dir).expanduser() if data_dir is not None else FORTUNES_DIR
    if not root.is_dir():
        raise PnetcError(
            f"fortunes directory {root} does not exist: install the fortune packages with "
            f"`apt-get install {' '.join(sorted({p for p, _, _ in LANGUAGES.values()}))}`, "
            "or pass --data-dir DIR"
        )
    texts, _ = collect(root)
    labels = sorted(LANGUAGES)
    train: list[tuple[bytes, int]] = []
    test: list[tuple[bytes, int]] = []
    for cid, code in enumerate(labels):
        items = texts[code]
        is_test = hash_split(items, np.full(len(items), cid))
        train += [(t, cid) for t in _cap([t for t, m in zip(items, is_test) if not m], MAX_TRAIN_PER_CLASS)]
        test += [(t, cid) for t in _cap([t for t, m in zip(items, is_test) if m], MAX_TEST_PER_CLASS)]
    # Interleave the classes in a fixed pseudo-random order (by hash), not grouped by language.
    train.sort(key=lambda item: hashlib.sha256(item[0]).digest())
    test.sort(key=lambda item: hashlib.sha256(item[0]).digest())
    return Dataset(
        name="langid",
        task="text",
        labels=labels,
        x_train=[t for t, _ in train],
        y_train=np.array([c for _, c in train], dtype=np.int64),
        x_test=[t for t, _ in test],
        y_test=np.array([c for _, c in test], dtype=np.int64),
        input_shape=(),
        scale=1.0,
        zero_point=0,
        source=f"Debian fortune packages in {root}",
    )
