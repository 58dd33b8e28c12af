"""The langid corpus: manual-page prose, spans, the split, the out-of-domain set's parsing."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from pnetc.datasets import descriptions, langid, load_dataset, manpages

PAGE = r""".\" a comment line
.TH LS 1 "2022" "GNU" "Handbuch"
.SH BEZEICHNUNG
ls \- Verzeichnisinhalte auflisten
.SH ÜBERSICHT
\fBls\fP [\fIOPTION\fP]… [\fIDATEI\fP]…
.SH BESCHREIBUNG
.PP
Auflistung von Informationen über die \fIDATEIen\fP (Standardvorgabe ist das
aktuelle Verzeichnis), sortiert, falls weder \fB\-cftuvSUX\fP noch \fB\-\-sort\fP angegeben wurde.
.TP
\fB\-a\fP, \fB\-\-all\fP
Einträge nicht ignorieren, die mit einem Punkt beginnen, und auch die versteckten anzeigen\(em immer.
.nf
for f in *; do echo "$f ist eine Datei mit einem langen Namen"; done
.fi
.PP
x=1 y=2 z=3 /usr/bin/a /usr/bin/b /usr/bin/c --foo=bar --baz=qux und noch ein paar Wörter dazu
.SH ÜBERSETZUNG
Die deutsche Übersetzung dieser Handbuchseite wurde von Jemand Anderem erstellt, danke schön.
"""


def test_man_page_prose_only():
    paragraphs = manpages.page_paragraphs(PAGE, translated=True)
    prose = [p for p in paragraphs if manpages.is_prose(p)]
    assert prose == [
        "Auflistung von Informationen über die DATEIen (Standardvorgabe ist das aktuelle Verzeichnis), "
        "sortiert, falls weder noch angegeben wurde.",
        "Einträge nicht ignorieren, die mit einem Punkt beginnen, und auch die versteckten anzeigen\u2014 immer.",
    ]
    # untranslated (English) pages keep their last section
    assert any("Übersetzung" in p for p in manpages.page_paragraphs(PAGE, translated=False))


def test_man_escapes():
    s = manpages.strip_escapes
    assert s(r"a \fIb\fR c\-d \(lqe\(rq f\e g\&.") == "a b c-d \u201ce\u201d f\\ g."
    assert s(r"keep \fBdrop this\fP rest \s-1SMALL\s0 \*(lqq") == "keep  rest SMALL q"


def write_man_tree(root, code_dir, page_texts):
    for i, text in enumerate(page_texts):
        path = root / code_dir / "man1" / f"page{i}.1.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        src = f".TH P{i} 1\n.SH NAME\np{i} \\- x\n.SH SYNOPSIS\np{i}\n.SH DESCRIPTION\n{text}\n.SH CREDITS\nthanks\n"
        path.write_bytes(gzip.compress(src.encode()))


def test_collect_man_dedups_near_duplicates_and_keys_by_page(tmp_path):
    base = "Diese Seite beschreibt ein Programm, das sehr viele nützliche Dinge für Sie tut, Nummer"
    write_man_tree(tmp_path, "de", [f"{base} {i}.\n.PP\nEin zweiter Absatz mit genug Buchstaben für die Prosa, Seite {i}." for i in range(5)])
    texts, keys, counts = langid.collect_man(tmp_path, "de", limit=100)
    # the five pages open with the same six words: one paragraph of each kind survives
    assert counts["pages"] == 5 and counts["duplicate"] == 8 and len(texts) == 2
    assert all(k.startswith(b"man:page") for k in keys)
    assert langid.collect_man(tmp_path, "bg", limit=100) == ([], [], {**counts, **dict.fromkeys(counts, 0)})


def test_span_sampling_is_deterministic_bounded_and_on_word_boundaries():
    text = " ".join(f"wort{i}" for i in range(200)).encode()
    spans = langid.sample_spans([text], 8)
    assert spans == langid.sample_spans([text], 8)
    assert 2 <= len(spans) <= 8
    words = set(text.split())
    for s in spans:
        assert langid.SPAN_MIN - 10 <= len(s) <= langid.SPAN_MAX  # whole words: up to a word short of the minimum
        assert s in text and set(s.split()) <= words
    assert langid.sample_spans([b"short text"], 5) == [b"short text"]
    long_word = ("ж" * 300).encode()
    (cut,) = langid.sample_spans([long_word], 1)
    assert len(cut) <= langid.SPAN_MAX and cut.decode() == "ж" * (len(cut) // 2)
    assert langid.spans_per_text(10) == langid.MAX_SPANS_PER_TEXT and langid.spans_per_text(10**6) == 1


def test_a_page_never_straddles_the_split(tmp_path):
    def word(i):  # a different opening word per page, so no paragraph is a near-duplicate
        return "".join(chr(97 + int(d)) for d in str(i)) + "x"

    pages = [f"{word(i)} eins auf Seite mit vielen Buchstaben für die Prosa hier.\n.PP\n"
             f"{word(i)} zwei ist ganz anders formuliert und hat ebenfalls genug Buchstaben." for i in range(40)]
    write_man_tree(tmp_path, "de", pages)
    texts, keys, _ = langid.collect_man(tmp_path, "de", limit=1000)
    from pnetc.datasets import hash_split

    is_test = hash_split(keys, np.zeros(len(keys)))
    by_page: dict[bytes, set] = {}
    for k, m in zip(keys, is_test):
        by_page.setdefault(k, set()).add(bool(m))
    assert len(texts) == 80 and len(by_page) == 40
    assert all(len(v) == 1 for v in by_page.values()) and any(is_test) and not all(is_test)


@pytest.fixture(scope="module")
def real_langid():
    if not langid.FORTUNES_DIR.is_dir() or not (langid.MAN_DIR / "de").is_dir():
        pytest.skip("the fortune and translated manual page packages are not installed")
    return load_dataset("langid")


def test_real_corpus_is_deterministic_balanced_and_disjoint(real_langid):
    ds = real_langid
    again = load_dataset("langid")
    assert ds.x_train == again.x_train and ds.x_test == again.x_test
    assert np.array_equal(ds.y_train, again.y_train)
    assert not set(ds.x_train) & set(ds.x_test)
    counts = np.bincount(ds.y_train, minlength=11)
    # balanced: the big languages within 25% of each other, capped by the span budget
    big = counts[counts > 0.5 * counts.max()]
    assert big.min() >= 0.75 * big.max() and counts.max() <= langid.SPANS_PER_CLASS * 1.34
    lengths = np.array([len(t) for t in ds.x_test])
    assert lengths.max() <= langid.SPAN_MAX and 50 <= np.median(lengths) <= 120
    # manual-page prose is there, for a language with pages
    assert any("Datei" in t.decode() for t, y in zip(ds.x_train, ds.y_train) if ds.labels[y] == "de")
    digest = hashlib.sha256(b"".join(ds.x_test)).hexdigest()
    assert digest == hashlib.sha256(b"".join(again.x_test)).hexdigest()


TRANSLATION = """Package: grep
Description-md5: f9188c5583d41955f3b3fe60b9d445f1
Description-de: GNU grep, egrep und fgrep
 »grep« ist ein Werkzeug zum Suchen in Dateien
 nach Text.
 .
 Ein zweiter Absatz.

Package: sed
Description-md5: 0
Description-de: Der GNU-Stream-Editor
 sed liest die angegebenen Dateien und ändert sie.
"""


def test_description_stanzas():
    st = list(descriptions.stanzas(TRANSLATION))
    assert [s["Package"] for s in st] == ["grep", "sed"]
    assert descriptions.description_text(st[0]["Description-de"]) == (
        "GNU grep, egrep und fgrep", "»grep« ist ein Werkzeug zum Suchen in Dateien nach Text.")


def test_ood_set_is_disjoint_from_training(real_langid):
    if not descriptions.translation_files("de"):
        pytest.skip("apt has no package description translations (scripts/setup.sh configures them)")
    texts, codes = descriptions.load_langid_ood()
    assert set(codes) == set(descriptions.OOD_LANGUAGES)
    # no document leaks from training: the only shared spans are a word or two long
    shared = set(texts) & (set(real_langid.x_train) | set(real_langid.x_test))
    assert len(shared) <= 10 and all(len(t) < 40 for t in shared)
    assert max(len(t) for t in texts) <= langid.SPAN_MAX
