"""Text training: the vectorised featurizer equals the reference, the featurizer options of
`pnetc train` reach the exported model, and the text trainers' defaults."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from pnetc import hashing
from pnetc.cli import main
from pnetc.hashing import TextFeatureSpec
from pnetc.training.config import TrainConfig, resolve
from pnetc.training.textfeatures import corpus_features

SPECS = [TextFeatureSpec(), TextFeatureSpec(0, True), TextFeatureSpec(5, False), TextFeatureSpec(1, True), TextFeatureSpec(2, False)]
# Pieces that hit every normalisation rule and its edges (cut patterns, stray continuations).
PIECES = [b"a", b"B", b" ", b".", b"\xc3\x89", b"\xc3\x97", b"\xd0\x81", b"\xd0\x9f", b"\xd0\xaf", b"\xc2\xa0",
          b"\xe2\x80\x94", b"\xe2\x80", b"\xc3", b"\x80", b"\xff", b"\xd1\x8f", b"Z", b"\n", b"\xc2"]


def _texts(n: int = 600) -> list[bytes]:
    rng = random.Random(0)
    texts = [b"", b" ", b"a", b"\x80a", b"ab\xc3", b"\xe2\x80", "Привет, как дела? Ёж — «ÉTÉ»".encode()]
    texts += [b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30))) for _ in range(n)]
    texts += [bytes(rng.randrange(256) for _ in range(rng.randint(0, 40))) for _ in range(n // 2)]
    return texts


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_vectorised_features_equal_the_reference(spec):
    texts = _texts()
    rows, ids = corpus_features(texts, spec)
    got = [Counter() for _ in texts]
    for r, f in zip(rows.tolist(), ids.tolist()):
        got[r][f] += 1
    for i, t in enumerate(texts):
        assert got[i] == hashing.text_feature_counts(t, spec), t


def _run_cli(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main(["train", *args])
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


@pytest.fixture
def text_csv(tmp_path):
    rows = ["text,label"]
    for i in range(60):
        rows.append(f"the cat sat on the mat number {i},en")
        rows.append(f"le chat est sur le tapis numéro {i},fr")
    path = tmp_path / "tiny.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_featurizer_options_reach_the_model(tmp_path, capsys, text_csv):
    from pnetc.compiler import build_graph

    code, out, err = _run_cli(capsys, "--dataset", str(text_csv), "--out", str(tmp_path / "m"), "--epochs", "1",
                              "-T", "2", "-d", "16", "--fc", "0", "--char-max-n", "2", "--no-words", "--json")
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["trainer"] == "none" and result["mode"] == "projection-only" and result["trainer_accuracy"] is None
    proj = build_graph(result["model"], precision="float32").projection
    assert (proj.char_max_n, proj.words, proj.num_bits) == (2, False, 32)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--char-max-n", "9"], "--char-max-n"),
        (["--char-max-n", "-1"], "--char-max-n"),
        (["--char-max-n", "0", "--no-words"], "no"),
        (["--trainer", "none", "--trainer-only"], "none"),
        (["--kind", "ternary"], "binary"),
        (["--text-projection", "bloom"], "--text-projection"),
        (["--text-projection", "presence", "--text-hashes", "0"], "--text-hashes"),
        (["--text-projection", "presence", "--text-hashes", "9"], "--text-hashes"),
        (["--text-projection", "simhash", "--text-hashes", "2"], "--text-hashes"),
        (["--density", "0.1"], "--density"),
    ],
)
def test_bad_text_options_exit_2_with_one_line(tmp_path, capsys, text_csv, args, needle):
    code, _, err = _run_cli(capsys, "--dataset", str(text_csv), "--out", str(tmp_path / "o"), "--epochs", "1", *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("pnetc: error: ") and needle in lines[0]


def test_text_defaults():
    c = resolve(TrainConfig(dataset="x.csv"), "text", (), "x")
    assert (c.trainer, c.mode, c.text_char_max_n, c.text_words) == ("none", "projection-only", 5, True)
    # a text CSV: a linear layer over 16,384 presence bits, epochs scaled so small sets get enough steps
    assert (c.text_projection, c.text_hashes, c.num_bits, c.fc, c.epochs) == ("presence", 2, 16384, [], 10)
    assert resolve(TrainConfig(dataset="x.csv"), "text", (), "x", classes=8, samples=9208).epochs == 17
    assert resolve(TrainConfig(dataset="x.csv"), "text", (), "x", classes=4, samples=726).epochs == 100
    simhash = resolve(TrainConfig(dataset="x.csv", text_projection="simhash"), "text", (), "x")
    assert (simhash.num_bits, simhash.fc, simhash.text_hashes, simhash.text_char_max_n) == (720, [256], None, 3)
    lstm = resolve(TrainConfig(dataset="x.csv", trainer="lstm"), "text", (), "x")
    assert lstm.mode == "joint"
    dense = resolve(TrainConfig(dataset="digits"), "image", (8, 8), "digits")
    assert dense.trainer == "mlp" and dense.mode == "joint"


def test_featurizer_options_in_the_api(tmp_path, text_csv):
    """pnetc.train takes the featurizer options the CLI has (char_max_n, words), and the text model's
    card and predict work from Python too."""
    import pnetc

    trained = pnetc.train(str(text_csv), tmp_path / "api", epochs=1, tables=2, bits_per_table=16, fc=[0],
                          char_max_n=1, words=True, progress=False)
    proj = pnetc.compile(trained, tmp_path / "c", precision="float32").compiled.graph.projection
    assert (proj.char_max_n, proj.words) == (1, True)
    assert "| text_char_max_n | 1 |" in (tmp_path / "api" / "model.md").read_text()
    assert pnetc.predict(trained, ["the cat sat"]).predictions[0]["label"] in ("en", "fr")


def test_presence_projection_reaches_the_model(tmp_path, capsys, text_csv):
    """--text-projection presence --text-hashes m: the exported model is format 2 with kind and
    hashes on its TextProjection, and the compiled bits are the reference's presence bits."""
    import numpy as np
    import onnx

    from pnetc.compiler import build_graph
    from pnetc.ir.interpret import Reference
    from pnetc.training import export

    code, out, err = _run_cli(capsys, "--dataset", str(text_csv), "--out", str(tmp_path / "m"), "--epochs", "1",
                              "-T", "3", "-d", "33", "--fc", "0", "--text-projection", "presence",
                              "--text-hashes", "3", "--json")
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    model = onnx.load(result["model"])
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in model.graph.node[0].attribute}
    assert (attrs["kind"], attrs["hashes"], attrs["num_bits"]) == (b"presence", 3, 99)
    meta = export.read_metadata(model)
    assert meta["pnetc.format"] == 2 and meta["pnetc.projection"]["hashes"] == 3
    graph = build_graph(result["model"], precision="int8")
    assert (graph.projection.proj_kind, graph.projection.hashes) == ("presence", 3)
    texts = [b"the cat sat", "le chat numéro 7".encode(), b""]
    spec = TextFeatureSpec(graph.projection.char_max_n, bool(graph.projection.words))  # the CSV default: 5, words
    assert (spec.char_max_n, spec.words) == (5, True)
    want = np.stack([hashing.presence_bits(t, 0, 99, 3, spec) for t in texts])
    np.testing.assert_array_equal(Reference(graph).run(texts).bits, want)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--text-hashes", "2"], "--text-hashes"),
        (["--text-projection", "presence"], "--text-projection"),
        (["--char-max-n", "3"], "--char-max-n"),
        (["--no-words", "--text-hashes", "1"], "--words/--no-words, --text-hashes"),
    ],
)
def test_text_options_on_dense_data_are_refused(tmp_path, capsys, args, needle):
    """A dense data set reads none of the text options: naming one is a mistake, not a no-op."""
    code, _, err = _run_cli(capsys, "--dataset", "digits", "--out", str(tmp_path / "o"), "--epochs", "1", *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("pnetc: error: ") and needle in lines[0]
    assert not (tmp_path / "o" / "model.onnx").exists()


def test_presence_default_hashes():
    c = resolve(TrainConfig(dataset="x.csv", text_projection="presence"), "text", (), "x")
    assert c.text_hashes == 2
