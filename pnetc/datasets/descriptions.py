"""Debian package descriptions from apt's index files: a kind of text the langid training
never sees (it reads fortunes and manual pages), so it is the out-of-domain dev set; and,
with each package's section as its label, a multi-class text task.

The translations (Translation-<lang>) are apt index files, present when apt is configured
to fetch them (scripts/setup.sh does: Acquire::Languages); apt stores them compressed, so
they are read through `apt-helper cat-file`, which knows every format apt uses.

    python -m pnetc.datasets.descriptions sections OUT.csv   # the section task as a CSV
"""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from pathlib import Path


from pnetc.errors import PnetcError

LISTS_DIR = Path("/var/lib/apt/lists")
APT_HELPER = Path("/usr/lib/apt/apt-helper")
# langid code -> the DDTP language of its description translations (none for bg, ga; the
# Esperanto file holds a handful of descriptions in the x-system spelling: left out).
OOD_LANGUAGES = {"cs": "cs", "de": "de", "en": "en", "es": "es", "it": "it", "pl": "pl", "pt": "pt_BR", "ru": "ru"}
OOD_PER_LANGUAGE = 300
# The package-section task: the 8 sections of Debian main with the most packages that are
# prose-described programs or libraries of one kind (measured on bookworm).
SECTIONS = ("devel", "doc", "games", "libs", "net", "perl", "python", "utils")
SECTION_TEST = 300  # test rows per section
SECTION_TRAIN = 1200  # training rows per section


def read_index(path: Path) -> str:
    """An apt index file's text, decompressed by apt itself."""
    try:
        out = subprocess.run([str(APT_HELPER), "cat-file", str(path)], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise PnetcError(f"cannot read apt index {path}: {exc}") from None
    return out.stdout.decode("utf-8", errors="replace")


def stanzas(text: str):
    """Parse deb822 stanzas: dicts of field -> value (continuation lines joined with newlines)."""
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key is not None:
                fields[key] += "\n" + line
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if fields:
            yield fields


def description_text(value: str) -> tuple[str, str]:
    """A Description field -> (short description, first paragraph of the long one)."""
    lines = value.split("\n")
    first: list[str] = []
    for line in lines[1:]:
        line = line.strip()
        if line == ".":
            if first:
                break
            continue
        first.append(line)
    return lines[0].strip(), " ".join(" ".join(first).split())


def translation_files(language: str, lists_dir: Path = LISTS_DIR) -> list[Path]:
    pattern = f"*_i18n_Translation-{language.replace('_', '%5f')}*"
    return sorted(p for p in lists_dir.glob(pattern) if not p.name.endswith(".diff_Index"))


def descriptions(language: str, lists_dir: Path = LISTS_DIR) -> dict[str, str]:
    """package -> the first paragraph of its long description, in one language."""
    out: dict[str, str] = {}
    field = f"Description-{language}"
    for path in translation_files(language, lists_dir):
        for st in stanzas(read_index(path)):
            if field in st and "Package" in st:
                out.setdefault(st["Package"], description_text(st[field])[1])
    return out


def load_langid_ood(lists_dir: str | Path = LISTS_DIR):
    """The out-of-domain langid dev set: (texts, codes), spans of package descriptions.

    Per language, the first paragraphs of the long descriptions, cleaned as the fortunes are
    (langid.clean_entry: tiny, picture-like and, outside English, English-looking texts
    dropped), deduplicated (a text in two languages dropped from both), then the
    OOD_PER_LANGUAGE with the smallest SHA-256, each cut to one span as the langid test split is.
    """
    from pnetc.datasets import langid

    lists_dir = Path(lists_dir)
    found = {code: descriptions(lang, lists_dir) for code, lang in OOD_LANGUAGES.items()}
    missing = [OOD_LANGUAGES[c] for c, d in found.items() if not d]
    if missing:
        raise PnetcError(
            f"no package description translations for {', '.join(missing)} in {lists_dir}: "
            "configure apt to fetch them (scripts/setup.sh) and run `apt-get update`"
        )
    owner: dict[bytes, str | None] = {}
    for code, by_package in found.items():
        for text in by_package.values():
            data, _ = langid.clean_entry(text, code)
            if data is not None:
                owner[data] = code if owner.get(data, code) == code else None
    texts: list[bytes] = []
    codes: list[str] = []
    for code in OOD_LANGUAGES:
        mine = sorted((t for t, c in owner.items() if c == code), key=lambda t: hashlib.sha256(t).digest())
        spans = langid.sample_spans(mine[:OOD_PER_LANGUAGE], 1)
        texts += spans
        codes += [code] * len(spans)
    return texts, codes


def package_sections(lists_dir: Path = LISTS_DIR) -> list[tuple[str, str, str]]:
    """(package, section, English description) for every package of SECTIONS in the
    Packages indexes, description = short + first long paragraph (from Translation-en)."""
    english: dict[str, tuple[str, str]] = {}
    for path in translation_files("en", lists_dir):
        for st in stanzas(read_index(path)):
            if "Description-en" in st and "Package" in st:
                english.setdefault(st["Package"], description_text(st["Description-en"]))
    rows: dict[str, tuple[str, str, str]] = {}
    for path in sorted(lists_dir.glob("*_binary-*_Packages*")):
        for st in stanzas(read_index(path)):
            name, section = st.get("Package"), st.get("Section", "").split("/")[-1]
            if name and section in SECTIONS and name in english and name not in rows:
                short, long = english[name]
                rows[name] = (name, section, f"{short}. {long}".strip())
    return sorted(rows.values())


def write_sections_csv(out: Path, lists_dir: Path = LISTS_DIR) -> dict[str, int]:
    """The section task as a CSV (text,label,split): per section SECTION_TRAIN + SECTION_TEST rows,
    those with the smallest SHA-256 of the package name, test = the first SECTION_TEST of them."""
    rows = package_sections(lists_dir)
    counts: dict[str, int] = {}
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label", "split"])
        for section in SECTIONS:
            mine = sorted((r for r in rows if r[1] == section), key=lambda r: hashlib.sha256(r[0].encode()).digest())
            mine = mine[: SECTION_TRAIN + SECTION_TEST]
            counts[section] = len(mine)
            for i, (_, label, text) in enumerate(mine):
                w.writerow([text, label, "test" if i < SECTION_TEST else "train"])
    return counts


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "sections":
        print("usage: python -m pnetc.datasets.descriptions sections OUT.csv", file=sys.stderr)
        return 2
    try:
        counts = write_sections_csv(Path(argv[1]))
    except PnetcError as exc:
        print(f"pnetc: error: {exc}", file=sys.stderr)
        return 2
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

