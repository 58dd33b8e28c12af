"""The dataset stage: built-in sets, IDX parsing, langid cleaning, user files and their errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from pnetc.datasets import DATASET_NAMES, Dataset, describe, hash_split, load_dataset
from pnetc.datasets import idx as idx_mod
from pnetc.datasets import langid as langid_mod
from pnetc.errors import PnetcError

FASHION_DIR = idx_mod.FASHION_MNIST_DIR
FORTUNES_DIR = langid_mod.FORTUNES_DIR


def assert_same(a: Dataset, b: Dataset) -> None:
    assert a.labels == b.labels and a.input_shape == b.input_shape and a.task == b.task
    for part in ("x_train", "y_train", "x_test", "y_test"):
        xa, xb = getattr(a, part), getattr(b, part)
        if isinstance(xa, list):
            assert xa == xb
        else:
            np.testing.assert_array_equal(xa, xb)


# ---------------------------------------------------------------------------
# Split
# ---------------------------------------------------------------------------


def test_hash_split_is_stratified_and_order_independent():
    keys = [f"sample-{i}".encode() for i in range(500)]
    y = np.array([i % 3 for i in range(500)])
    y[:20] = 3  # a small class
    mask = hash_split(keys, y)
    for c in np.unique(y):
        n = int(np.sum(y == c))
        assert int(np.sum(mask[y == c])) == min(round(0.2 * n), n - 1)
    perm = np.random.default_rng(0).permutation(500)
    mask2 = hash_split([keys[i] for i in perm], y[perm])
    np.testing.assert_array_equal(mask2, mask[perm])


def test_hash_split_keeps_duplicates_together_and_one_train_sample():
    keys = [b"same"] * 5 + [f"k{i}".encode() for i in range(20)]
    y = np.zeros(len(keys), dtype=np.int64)
    mask = hash_split(keys, y)
    assert len(set(mask[:5])) == 1
    assert not hash_split([b"only"], np.zeros(1)).any()
    assert hash_split([b"a", b"b"], np.zeros(2)).sum() == 0  # round(0.4) = 0: both train
    assert hash_split([b"a", b"b", b"c"], np.zeros(3)).sum() == 1
    assert not hash_split([b"dup"] * 4, np.zeros(4)).any()  # one group: it must stay in train


# ---------------------------------------------------------------------------
# digits
# ---------------------------------------------------------------------------


def test_digits_shapes_and_determinism():
    ds = load_dataset("digits")
    assert ds.name == "digits" and ds.task == "image"
    assert ds.labels == [str(d) for d in range(10)]
    assert ds.input_shape == (8, 8) and ds.input_size == 64
    assert ds.x_train.dtype == np.uint8 and ds.x_train.shape[1] == 64
    assert ds.y_train.dtype == np.int64 and ds.y_test.dtype == np.int64
    assert len(ds.y_train) + len(ds.y_test) == 1797
    assert len(ds.y_test) == 359
    assert ds.x_train.max() == 16 and ds.scale == 1 / 16 and ds.zero_point == 0
    for c in range(10):
        n = int(np.sum(ds.y_train == c) + np.sum(ds.y_test == c))
        assert int(np.sum(ds.y_test == c)) == round(0.2 * n)
    assert_same(ds, load_dataset("digits"))
    assert load_dataset().name == "digits"  # the default


# ---------------------------------------------------------------------------
# IDX / Fashion-MNIST
# ---------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_set(directory: Path, *, gz: bool, n_train=12, n_test=5, shape=(4, 3), label_values=range(10)):
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    values = np.array(list(label_values))
    data = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, *shape)),
        "train-labels-idx1-ubyte": values[np.arange(n_train) % len(values)],
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, *shape)),
        "t10k-labels-idx1-ubyte": values[np.arange(n_test) % len(values)],
    }
    for name, array in data.items():
        raw = idx_bytes(np.asarray(array))
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (directory / name).write_bytes(raw)
    return data


@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_from_tiny_idx_set(tmp_path, gz):
    data = write_idx_set(tmp_path, gz=gz)
    ds = load_dataset("fashion-mnist", data_dir=tmp_path)
    assert ds.labels[0] == "T-shirt/top" and ds.labels[9] == "Ankle boot" and len(ds.labels) == 10
    assert ds.input_shape == (4, 3) and ds.x_train.shape == (12, 12) and ds.x_test.shape == (5, 12)
    np.testing.assert_array_equal(ds.x_train, data["train-images-idx3-ubyte"].reshape(12, 12))
    np.testing.assert_array_equal(ds.y_test, data["t10k-labels-idx1-ubyte"])
    assert ds.scale == 1 / 255 and ds.zero_point == 0


def test_generic_idx_set_uses_the_label_values_found(tmp_path):
    write_idx_set(tmp_path / "set", gz=False, label_values=[3, 7, 42])
    for ds in (load_dataset("idx", data_dir=tmp_path / "set"), load_dataset(str(tmp_path / "set"))):
        assert ds.labels == ["3", "7", "42"]
        assert set(ds.y_train.tolist()) == {0, 1, 2}
    with pytest.raises(PnetcError, match="--data-dir"):
        load_dataset("idx")


def test_fashion_mnist_rejects_labels_beyond_its_classes(tmp_path):
    write_idx_set(tmp_path, gz=False, label_values=range(12))
    with pytest.raises(PnetcError, match="labels go up to 11"):
        load_dataset("fashion-mnist", data_dir=tmp_path)


def _corrupt(directory: Path, name: str, mutate) -> None:
    path = directory / name
    path.write_bytes(mutate(path.read_bytes()))


@pytest.mark.parametrize(
    "name, mutate, message",
    [
        ("train-images-idx3-ubyte", lambda b: b[:-7], "truncated"),
        ("train-images-idx3-ubyte", lambda b: b + b"\0", "longer than its header"),
        ("train-labels-idx1-ubyte", lambda b: b"\x01" + b[1:], "bad magic"),
        ("t10k-images-idx3-ubyte", lambda b: b[:2] + b"\x0d" + b[3:], "type 0x0d"),
        ("t10k-labels-idx1-ubyte", lambda b: b[:3] + b"\x02" + b[4:], "2 dimension"),
        ("t10k-labels-idx1-ubyte", lambda b: b[:2], "bad magic"),
        ("t10k-labels-idx1-ubyte", lambda b: idx_bytes(np.zeros(4, np.uint8)), "5 images but .* 4 labels"),
    ],
)
def test_corrupt_idx_names_the_file_and_the_fix(tmp_path, name, mutate, message):
    write_idx_set(tmp_path, gz=False)
    _corrupt(tmp_path, name, mutate)
    with pytest.raises(PnetcError, match=message) as err:
        load_dataset("fashion-mnist", data_dir=tmp_path)
    text = str(err.value)
    if "labels" not in message:
        assert name in text
    assert "apt-get install dataset-fashion-mnist" in text and "--data-dir" in text


def test_truncated_gzip_and_missing_files(tmp_path):
    write_idx_set(tmp_path, gz=True)
    _corrupt(tmp_path, "train-images-idx3-ubyte.gz", lambda b: b[: len(b) // 2])
    with pytest.raises(PnetcError, match="train-images-idx3-ubyte.gz.*corrupt or truncated gzip"):
        load_dataset("fashion-mnist", data_dir=tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(PnetcError, match="missing train-images-idx3-ubyte.*apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist", data_dir=tmp_path)
    with pytest.raises(PnetcError, match="does not exist.*apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist", data_dir=tmp_path / "nowhere")


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Debian package dataset-fashion-mnist is not installed")
def test_real_fashion_mnist():
    ds = load_dataset("fashion-mnist")
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    assert ds.x_train.dtype == np.uint8 and ds.input_shape == (28, 28)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert ds.labels[:2] == ["T-shirt/top", "Trouser"]


# ---------------------------------------------------------------------------
# langid
# ---------------------------------------------------------------------------


def test_fortune_entry_cleaning():
    clean = langid_mod.clean_entry
    assert clean("Hello   there,\n\tgeneral\nKenobi.\n", "en") == (b"Hello there, general Kenobi.", "kept")
    assert clean(" /\\_/\\ ( o.o ) =====\n ----- ***** +++++ ##### \n cat says hello there", "en")[1] == "art"
    assert clean("Ha ha.", "en")[1] == "tiny"
    assert clean("The answer is: that's what you have, and this is the end of it.", "de")[1] == "english"
    assert clean("Was ich will, ist ein Haus mit Garten in der Stadt.", "de")[1] == "kept"
    assert clean("Your whole ____\b\b\b\bBODY is here!\x07", "en") == (b"Your whole BODY is here!", "kept")
    assert clean("\x1b[31mred text that is long enough\x1b[0m", "en")[1] == "control"


def test_truncate_utf8_never_splits_a_character():
    text = ("ж" * 600).encode()  # 1200 bytes of 2-byte characters
    cut = langid_mod.truncate_utf8(text, 1001)
    assert len(cut) == 1000 and cut.decode() == "ж" * 500
    assert langid_mod.truncate_utf8(b"short") == b"short"


def test_fortune_file_split_and_legacy_decoding():
    raw = b"first\nentry\n%\nsecond\n%\r\n\n%\nthird%not a separator\n"
    assert langid_mod.split_entries(raw) == [b"first\nentry\n", b"second\n", b"third%not a separator\n"]
    koi8 = "Привет, как дела?".encode("koi8-r")
    assert langid_mod.decode_entry(koi8, "koi8-r") == "Привет, как дела?"
    assert langid_mod.decode_entry("Grüße".encode(), "latin-1") == "Grüße"


SAMPLE_WORDS = {
    "bg": "Един ден котката видя голямо куче на улицата до",
    "cs": "Jednoho dne kočka uviděla velkého psa na ulici u",
    "de": "Eines Tages sah die Katze einen großen Hund auf der Straße bei",
    "en": "One day the cat saw a big dog on the street near",
    "eo": "Iun tagon la kato vidis grandan hundon sur la strato apud",
    "es": "Un día el gato vio un perro grande en la calle cerca de",
    "ga": "Lá amháin chonaic an cat madra mór ar an tsráid in aice le",
    "it": "Un giorno il gatto vide un grande cane per strada vicino a",
    "pl": "Pewnego dnia kot zobaczył dużego psa na ulicy przy",
    "pt": "Um dia o gato viu um cachorro grande na rua perto de",
    "ru": "Однажды кошка увидела большую собаку на улице возле",
}


def write_fortunes_tree(root: Path, languages=SAMPLE_WORDS, n=30) -> None:
    for code in languages:
        entries = [f"{SAMPLE_WORDS[code]} {i}." for i in range(n)]
        entries.append("Lorem ipsum dolor sit amet, consectetur!")  # claimed by every language
        body = "\n%\n".join(entries) + "\n%\n"
        place = {"en": "fortunes", "pt": "brasil"}.get(code, f"{code}/misc")
        path = root / place
        path.parent.mkdir(parents=True, exist_ok=True)
        codec = "koi8-r" if code == "ru" else "utf-8"  # an old 8-bit file must decode too
        path.write_bytes(body.encode(codec))
    (root / "de" / "asciiart").write_text("Ein Bild von einer Katze aus Buchstaben picture\n%\n")
    (root / "de" / "off").mkdir()
    (root / "de" / "off" / "rude").write_text("Das ist ein ganz unanständiger Spruch hier.\n%\n")
    (root / "de" / "misc.dat").write_bytes(b"\0\0\0\2binary")


def test_langid_from_a_synthetic_fortunes_tree(tmp_path):
    write_fortunes_tree(tmp_path)
    ds = load_dataset("langid", data_dir=tmp_path)  # no tmp_path/man: fortunes only
    assert ds.labels == sorted(SAMPLE_WORDS) and ds.task == "text" and ds.input_shape == ()
    texts = ds.x_train + ds.x_test
    assert not any(b"Lorem" in t or b"picture" in t or b"unanst" in t.lower() for t in texts)
    # every text is a span of one of the 30 entries: 24 train / 6 test entries per language,
    # each test entry one span (minus spans also drawn from a training entry)
    assert all(1 <= n <= 6 for n in np.bincount(ds.y_test, minlength=11))
    assert not set(ds.x_train) & set(ds.x_test)
    # (ru is a koi8-r file: its spans match the UTF-8 entries only if it was decoded right)
    entries = {code: [f"{SAMPLE_WORDS[code]} {i}.".encode() for i in range(30)] for code in SAMPLE_WORDS}
    for t, y in zip(texts, np.concatenate([ds.y_train, ds.y_test])):
        assert any(t in e for e in entries[ds.labels[y]])


def test_langid_names_missing_packages(tmp_path):
    write_fortunes_tree(tmp_path, languages=[c for c in SAMPLE_WORDS if c not in ("ga", "eo")])
    with pytest.raises(PnetcError, match=r"eo, ga.*apt-get install fortunes-eo fortunes-ga"):
        load_dataset("langid", data_dir=tmp_path)
    with pytest.raises(PnetcError, match="does not exist.*apt-get install"):
        load_dataset("langid", data_dir=tmp_path / "nowhere")


@pytest.fixture(scope="module")
def langid():
    if not FORTUNES_DIR.is_dir():
        pytest.skip("the Debian fortune packages are not installed")
    return load_dataset("langid")


def test_real_langid(langid):
    ds = langid
    assert len(ds.labels) >= 10 and {"en", "de", "es", "it", "pl", "ru", "cs", "pt", "bg", "eo", "ga"} <= set(ds.labels)
    train = np.bincount(ds.y_train, minlength=len(ds.labels))
    test = np.bincount(ds.y_test, minlength=len(ds.labels))
    assert train.min() >= 100 and test.min() >= 25
    assert test.max() <= 2 * langid_mod.MAX_TEST_PER_SOURCE  # one span per test text
    assert train.max() <= 2 * langid_mod.MAX_TRAIN_PER_SOURCE * langid_mod.spans_per_text(2 * langid_mod.MAX_TRAIN_PER_SOURCE)
    assert train.min() >= 0.03 * train.max()  # the small languages get more spans per text
    assert not set(ds.x_train) & set(ds.x_test)
    assert len(set(ds.x_train)) == len(ds.x_train)
    assert all(0 < len(t) <= langid_mod.SPAN_MAX for t in ds.x_train + ds.x_test)
    for t in ds.x_train[:2000]:
        t.decode("utf-8")  # valid UTF-8
    assert_same(ds, load_dataset("langid"))


# ---------------------------------------------------------------------------
# User files
# ---------------------------------------------------------------------------


def test_csv_happy_path(tmp_path):
    path = tmp_path / "reviews.csv"
    rows = [f'"great, really {i}",pos' if i % 2 else f"awful {i},neg" for i in range(40)]
    path.write_text("text,label,extra\n" + "".join(f"{r},x\n" for r in rows), encoding="utf-8")
    ds = load_dataset(str(path))
    assert ds.name == "reviews" and ds.task == "text" and ds.labels == ["neg", "pos"]
    assert len(ds.x_train) == 32 and len(ds.x_test) == 8
    assert b"great, really 1" in ds.x_train + ds.x_test
    assert_same(ds, load_dataset(str(path)))


def test_csv_crlf_and_multiline_quoted_text(tmp_path):
    path = tmp_path / "w.csv"
    # a third "a" row: the 80/20 split needs a class of 3 to make a test split (an empty one is refused)
    path.write_bytes(b'\xef\xbb\xbftext,label\r\n"two\r\nlines",a\r\nplain,b\r\nmore,a\r\nthird,a\r\n')
    ds = load_dataset(str(path))
    assert sorted(ds.x_train + ds.x_test) == [b"more", b"plain", b"third", b"two\r\nlines"]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b'text,label\r\n"two\r\nlines",a\r\nx,y,z\r\n')
    with pytest.raises(PnetcError, match="bad.csv line 4: expected 2 fields"):
        load_dataset(str(bad))


def test_csv_explicit_split_and_numeric_labels(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("label,text,split\n10,a b c,train\n2,d e f,train\n10,g,test\n2,h,TEST\n", encoding="utf-8")
    ds = load_dataset(str(path))
    assert ds.labels == ["2", "10"]  # numeric order
    assert ds.x_train == [b"a b c", b"d e f"] and ds.y_train.tolist() == [1, 0]
    assert ds.x_test == [b"g", b"h"]


def test_jsonl_happy_path(tmp_path):
    path = tmp_path / "t.jsonl"
    records = [
        {"text": f"Привет\u2028{i}", "label": "ru"} if i % 3 else {"text": f"hello {i}", "label": "en"} for i in range(30)
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines[:10]) + "\n\n" + "\n".join(lines[10:]) + "\n", encoding="utf-8")
    ds = load_dataset(str(path))
    assert ds.labels == ["en", "ru"] and len(ds.x_train) + len(ds.x_test) == 30
    assert "Привет\u20281".encode() in ds.x_train + ds.x_test  # a raw U+2028 does not end the record


@pytest.mark.parametrize(
    "suffix, body, message",
    [
        (".csv", "", "file is empty"),
        (".csv", "words,label\na,b\n", "line 1: .*text and label .*missing text"),
        (".csv", "text,label\na,x\nb,y,z\n", "line 3: expected 2 fields, found 3"),
        (".csv", 'text,label\na,x\n"unterminated,y\n', "malformed CSV"),
        (".csv", "text,label\na,x\n,y\n", "line 3: empty text"),
        (".csv", "text,label\na,x\nb,\n", "line 3: empty label"),
        (".csv", "text,label\n", "no data rows"),
        (".csv", "text,label\na,x\nb,x\nc,x\n", "only one class"),
        (".csv", "text,label,split\na,x,train\nb,y,test\n", "'y' have no training samples"),
        (".csv", "text,label,split\na,x,train\nb,y,later\n", "line 3: split must be"),
        (".csv", "text,label,split\na,x,train\nb,y,\n", "line 3: split must be"),
        (".jsonl", '{"text": "a", "label": "x"}\n{"text": "b"\n', "line 2: invalid JSON"),
        (".jsonl", '{"text": "a", "label": "x"}\n["b", "y"]\n', "line 2: expected a JSON object"),
        (".jsonl", '{"text": "a", "label": "x"}\n{"label": "y"}\n', "line 2: missing field.* text"),
        (".jsonl", '{"text": 5, "label": "x"}\n', "line 1: text must be a string"),
        (".jsonl", '{"text": "a", "label": "x"}\n{"text": "b", "label": "y", "split": "test"}\n', "split is missing"),
        (".jsonl", "\n\n", "file is empty"),
    ],
)
def test_bad_text_files(tmp_path, suffix, body, message):
    path = tmp_path / f"data{suffix}"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(PnetcError, match=message) as err:
        load_dataset(str(path))
    assert path.name in str(err.value)


def test_bad_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"text,label\nok,a\ncaf\xe9,b\n")
    with pytest.raises(PnetcError, match="latin.csv line 3: not valid UTF-8"):
        load_dataset(str(path))


def test_npz_happy_paths(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 200, (50, 6)).astype(np.int64)
    y = np.arange(50) % 2
    np.savez(tmp_path / "a.npz", x=x, y=y)
    ds = load_dataset(str(tmp_path / "a.npz"))
    assert ds.task == "features" and ds.x_train.dtype == np.uint8 and ds.input_shape == (6,)
    assert ds.labels == ["0", "1"] and len(ds.y_test) == 10
    assert ds.scale == pytest.approx(1 / x.max()) and ds.zero_point == 0
    assert_same(ds, load_dataset(str(tmp_path / "a.npz")))

    np.savez(
        tmp_path / "b.npz", x=x.astype(np.float32).reshape(50, 2, 3), y=y, x_test=x[:4].reshape(4, 2, 3),
        y_test=y[:4], labels=np.array(["cat", "dog"]), scale=np.float32(0.5), zero_point=3,
    )  # fmt: skip
    ds = load_dataset(str(tmp_path / "b.npz"))
    assert ds.labels == ["cat", "dog"] and ds.input_shape == (2, 3) and ds.x_train.shape == (50, 6)
    assert len(ds.y_test) == 4 and ds.scale == 0.5 and ds.zero_point == 3
    np.testing.assert_array_equal(ds.x_test, x[:4])

    np.savez(tmp_path / "c.npz", x=x, y=np.where(y == 1, "yes", "no"))
    assert load_dataset(str(tmp_path / "c.npz")).labels == ["no", "yes"]


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x": np.zeros((4, 2), np.uint8)}, "missing array.*y"),
        ({"x": np.array([[0.5, np.nan]] * 4), "y": np.arange(4) % 2}, "feature 1 is nan; features must be finite"),
        ({"x": np.full((4, 2), 300), "y": np.arange(4) % 2}, "outside 0..255; quantize"),
        ({"x": np.full((4, 2), -1), "y": np.arange(4) % 2}, "outside 0..255"),
        ({"x": np.zeros(4), "y": np.arange(4) % 2}, "shape \\[n, features"),
        ({"x": np.zeros((4, 2)), "y": np.arange(3)}, "one label per sample"),
        ({"x": np.zeros((4, 2)), "y": np.zeros(4)}, "only one class"),
        ({"x": np.zeros((0, 2)), "y": np.zeros(0)}, "no samples"),
        ({"x": np.zeros((4, 2)), "y": np.arange(4) % 2, "x_test": np.zeros((1, 2))}, "both x_test and y_test"),
        ({"x": np.zeros((4, 2)), "y": np.arange(4) % 2, "x_test": np.zeros((1, 3)), "y_test": np.zeros(1)}, "x_test must have shape"),
        ({"x": np.zeros((4, 2)), "y": np.arange(4) % 2, "labels": np.array(["a", "b", "c"])}, "'c' have no training samples"),
        ({"x": np.zeros((4, 2)), "y": np.arange(4) % 3, "labels": np.array(["a", "b"])}, "outside 0..1"),
        ({"x": np.zeros((4, 2)), "y": np.arange(4) % 2, "scale": np.float64(-1)}, "scale must be a positive"),
    ],
)  # fmt: skip
def test_bad_npz(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(PnetcError, match=message) as err:
        load_dataset(str(path))
    assert "bad.npz" in str(err.value)


def test_not_an_npz(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"definitely not a zip archive")
    with pytest.raises(PnetcError, match="junk.npz: not an .npz archive"):
        load_dataset(str(path))
    np.savez(path, x=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    with pytest.raises(PnetcError, match="junk.npz: cannot read the .npz archive"):
        load_dataset(str(path))


def test_unknown_names_and_missing_files(tmp_path):
    with pytest.raises(PnetcError) as err:
        load_dataset("cifar-100")
    text = str(err.value)
    assert all(name in text for name in DATASET_NAMES) and ".csv" in text and ".npz" in text
    with pytest.raises(PnetcError, match="does not exist"):
        load_dataset(str(tmp_path / "nope.csv"))
    with pytest.raises(PnetcError, match="unknown dataset"):
        load_dataset(str(tmp_path / "data.txt"))


def test_describe_counts_per_class():
    ds = load_dataset("digits")
    d = describe(ds)
    assert d["num_classes"] == 10 and d["train"] == len(ds.y_train) and d["test"] == len(ds.y_test)
    assert sum(c["train"] for c in d["classes"]) == d["train"]
    json.dumps(d)
