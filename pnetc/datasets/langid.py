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

from pnetc.datasets import Dataset, hash_split, manpages
from pnetc.errors import PnetcError

FORTUNES_DIR = Path("/usr/share/games/fortunes")
MAN_DIR = manpages.MAN_DIR
MAX_TEXT_BYTES = 1000
# Per language and source (fortunes, manual pages): texts kept, smallest SHA-256 first.
MAX_TRAIN_PER_SOURCE = 2000
MAX_TEST_PER_SOURCE = 300
MAX_MAN_PARAGRAPHS = 3000  # paragraphs read per language before the split
NEAR_DUPLICATE_WORDS = 6
# Spans: the texts are cut to short runs of words, as real inputs are.
SPAN_MIN = 20
SPAN_MAX = 200
SPANS_PER_CLASS = 6000  # training spans offered per language (before deduplication)
MAX_SPANS_PER_TEXT = 8
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
# Translated manual pages (manpages-l10n): code -> locale folder under /usr/share/man.
# English pages are the untranslated ones at the top level. No package for bg, eo, ga.
MAN_LOCALES = {"cs": "cs", "de": "de", "es": "es", "it": "it", "pl": "pl", "pt": "pt_BR", "ru": "ru"}
MAN_PACKAGES = {"cs": "manpages-cs", "de": "manpages-de", "en": "manpages", "es": "manpages-es", "it": "manpages-it",
                "pl": "manpages-pl", "pt": "manpages-pt-br", "ru": "manpages-ru"}  # fmt: skip
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


# ---------------------------------------------------------------------------
# Manual pages (the second source; none exist for bg, eo, ga)
# ---------------------------------------------------------------------------


def man_folder(man_root: Path, code: str) -> Path | None:
    """Where a language's pages live: the top level for English, `<locale>/` otherwise."""
    if code == "en":
        return man_root
    return man_root / MAN_LOCALES[code] if code in MAN_LOCALES else None


def near_duplicate_key(text: bytes) -> bytes:
    """Paragraphs that open with the same words (boilerplate with another name or year in it)
    count as one: the first NEAR_DUPLICATE_WORDS words, lowercased, letters only."""
    words = [w for w in _WORD.findall(text.decode("utf-8").lower()) if not w.isdigit()]
    return " ".join(words[:NEAR_DUPLICATE_WORDS]).encode("utf-8")


def collect_man(man_root: Path, code: str, limit: int) -> tuple[list[bytes], list[bytes], dict[str, int]]:
    """Up to `limit` cleaned prose paragraphs of one language's manual pages, and the page
    each came from (the split key: a page's paragraphs never straddle train and test).

    Pages are read in the order of the SHA-256 of their name (a fixed pseudo-random
    choice), until `limit` paragraphs are kept, so loading stays fast for English.
    """
    folder = man_folder(man_root, code)
    counts = {"pages": 0, "paragraphs": 0, "tiny": 0, "art": 0, "english": 0, "duplicate": 0, "kept": 0}
    if folder is None:
        return [], [], counts
    pages = sorted(manpages.page_files(folder), key=lambda p: hashlib.sha256(p.name.encode()).digest())
    texts: list[bytes] = []
    keys: list[bytes] = []
    seen: set[bytes] = set()
    for page in pages:
        if len(texts) >= limit:
            break
        counts["pages"] += 1
        for paragraph in manpages.prose_paragraphs(page, translated=code != "en"):
            counts["paragraphs"] += 1
            data, reason = clean_entry(paragraph, code)
            if data is None:
                counts[reason] += 1
                continue
            key = near_duplicate_key(data)
            if key in seen:
                counts["duplicate"] += 1
                continue
            seen.add(key)
            texts.append(data)
            keys.append(b"man:" + page.name.encode())
    counts["kept"] = len(texts)
    return texts, keys, counts


# ---------------------------------------------------------------------------
# Short spans: what the model sees in training and in the test split
# ---------------------------------------------------------------------------


def sample_span(text: bytes, rng: np.random.Generator) -> bytes:
    """A run of whole words of SPAN_MIN..SPAN_MAX bytes (length drawn uniformly) starting at a
    random word; the whole text when it is shorter. A single word longer than the length
    is cut at a UTF-8 character boundary."""
    length = int(rng.integers(SPAN_MIN, SPAN_MAX + 1))
    if len(text) <= length:
        return text
    words = text.split(b" ")
    ends = np.cumsum([len(w) + 1 for w in words])  # byte offset after each word and its space
    starts = ends - np.array([len(w) + 1 for w in words])
    # Starting words from which `length` bytes still fit in the text.
    last_start = int(np.searchsorted(starts, len(text) - length, side="right"))
    first = int(rng.integers(0, max(1, last_start)))
    stop = first
    while stop < len(words) and ends[stop] - 1 - starts[first] <= length:
        stop += 1
    if stop == first:
        return truncate_utf8(words[first], length)
    return b" ".join(words[first:stop])


def sample_spans(texts: list[bytes], per_text: int) -> list[bytes]:
    """`per_text` spans of each text (deduplicated, so a short text gives one), each drawn
    from a generator seeded by the text's SHA-256: the same on every machine and run."""
    out: list[bytes] = []
    for text in texts:
        rng = np.random.default_rng(int.from_bytes(hashlib.sha256(text).digest()[:8], "little"))
        spans = {sample_span(text, rng) for _ in range(per_text)}
        out += sorted(spans)
    return out


def spans_per_text(n_texts: int) -> int:
    """More spans from a language with few texts, so every language offers about
    SPANS_PER_CLASS training spans (at most MAX_SPANS_PER_TEXT per text)."""
    return int(min(MAX_SPANS_PER_TEXT, max(1, -(-SPANS_PER_CLASS // max(1, n_texts)))))


def split_language(code: str, cid: int, fortunes: list[bytes], man_root: Path | None):
    """One language's (train texts, test texts) from both sources, each source capped."""
    train: list[bytes] = []
    test: list[bytes] = []
    man_texts, man_keys = [], []
    if man_root is not None:
        man_texts, man_keys, _ = collect_man(man_root, code, MAX_MAN_PARAGRAPHS)
    for texts, keys in ((fortunes, fortunes), (man_texts, man_keys)):
        if not texts:
            continue
        is_test = hash_split(keys, np.full(len(texts), cid))
        train += _cap([t for t, m in zip(texts, is_test) if not m], MAX_TRAIN_PER_SOURCE)
        test += _cap([t for t, m in zip(texts, is_test) if m], MAX_TEST_PER_SOURCE)
    return train, test


def load_langid(data_dir: str | Path | None = None, man_dir: str | Path | None = None, spans: bool = True) -> Dataset:
    """Fortunes (under data_dir) + manual pages (under man_dir; with a data_dir and no
    man_dir, data_dir/"man" when it exists, else none), as short spans; with spans=False
    the same texts whole (the `langid-texts` data set: a fortune entry or a man-page
    paragraph of up to MAX_TEXT_BYTES, the in-domain accuracy of docs/benchmarks.md)."""
    root = Path(data_dir).expanduser() if data_dir is not None else FORTUNES_DIR
    if man_dir is not None:
        man_root: Path | None = Path(man_dir).expanduser()
    elif data_dir is None:
        man_root = MAN_DIR
    else:
        man_root = root / "man" if (root / "man").is_dir() else None
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
        train_texts, test_texts = split_language(code, cid, texts[code], man_root)
        if spans:
            train_texts = sample_spans(train_texts, spans_per_text(len(train_texts)))
            test_texts = sample_spans(test_texts, 1)
        train += [(t, cid) for t in set(train_texts)]
        test += [(t, cid) for t in set(test_texts)]
    # A training span drawn under two languages (a name, a quoted phrase) is dropped from both;
    # a test span that is also a training span (a short common phrase, a paragraph two pages
    # share) stays in training only.
    languages_of: dict[bytes, set[int]] = {}
    for t, c in train:
        languages_of.setdefault(t, set()).add(c)
    train = [(t, c) for t, c in train if len(languages_of[t]) == 1]
    test = [(t, c) for t, c in test if t not in languages_of]
    # Interleave the classes in a fixed pseudo-random order (by hash), not grouped by language.
    train.sort(key=lambda item: hashlib.sha256(item[0]).digest())
    test.sort(key=lambda item: hashlib.sha256(item[0]).digest())
    source = f"Debian fortune packages in {root}" + (f" and manual pages in {man_root}" if man_root else "")
    return Dataset(
        name="langid" if spans else "langid-texts",
        task="text",
        labels=labels,
        x_train=[t for t, _ in train],
        y_train=np.array([c for _, c in train], dtype=np.int64),
        x_test=[t for t, _ in test],
        y_test=np.array([c for _, c in test], dtype=np.int64),
        input_shape=(),
        scale=1.0,
        zero_point=0,
        source=source,
    )
