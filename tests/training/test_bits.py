"""The bits torch trains on must equal pnetc.hashing's bits on every sample."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pnetc import hashing
from pnetc.hashing import TextFeatureSpec
from pnetc.training import data as tdata
from pnetc.training.models import DenseProjection
from pnetc.training.loop import dense_bits


@pytest.mark.parametrize("kind,density", [("binary", None), ("ternary", 0.1), ("ternary", 0.03)])
def test_dense_bits_equal_reference_on_digits_test_split(digits, kind, density):
    x_train, x_test = digits.x_train.reshape(len(digits.x_train), -1), digits.x_test.reshape(len(digits.x_test), -1)
    mean = tdata.integer_mean(x_train)
    spec = tdata.projection_spec(320, kind, 0xC0FFEE, x_train.shape[1], density)
    got = dense_bits(DenseProjection(spec, mean), x_test).numpy().astype(np.uint8)
    want = hashing.dense_bits(x_test, mean, spec)
    assert got.shape == want.shape == (len(x_test), 320)
    assert np.array_equal(got, want)
    assert 0.2 < got.mean() < 0.8  # the bits carry information (not all ties)


def test_integer_mean_rounds_half_up():
    x = np.array([[0, 1, 255], [1, 2, 254]], dtype=np.uint8)
    assert tdata.integer_mean(x).tolist() == [1, 2, 255]
    assert tdata.integer_mean(x).dtype == np.int16


def test_dense_projection_rejects_floats():
    spec = tdata.projection_spec(32, "binary", 1, 4, None)
    with pytest.raises(TypeError):
        DenseProjection(spec, np.zeros(4, dtype=np.int16))(torch.zeros((1, 4)))


def test_dense_projection_extreme_inputs_are_exact():
    """|acc| up to 510 * N: float64 sums stay exact; ties give 0."""
    n = 784
    spec = tdata.projection_spec(64, "binary", 7, n, None)
    rng = np.random.default_rng(0)
    x = rng.choice(np.array([0, 255], dtype=np.uint8), size=(50, n))
    x[0] = 0  # all ties against a zero mean
    for mean in (np.zeros(n, dtype=np.int16), np.full(n, 255, dtype=np.int16), rng.integers(0, 256, n).astype(np.int16)):
        got = dense_bits(DenseProjection(spec, mean), x).numpy().astype(np.uint8)
        assert np.array_equal(got, hashing.dense_bits(x, mean, spec))
    assert dense_bits(DenseProjection(spec, np.zeros(n, dtype=np.int16)), x[:1]).sum() == 0


TEXTS = [
    b"",
    b"Hello, World! Hello again.",
    "Größe und Übermaß — «ça va?»".encode(),
    "Привет, МИР! Ёлка".encode(),
    b"\xff\xfe invalid \xc3 utf8 \x80\x80",
    b"   ",
    "Dzień dobry, żółć; ČEŠTINA".encode(),
    b"a" * 300,
]


@pytest.mark.parametrize("num_bits,spec", [(720, TextFeatureSpec()), (45, TextFeatureSpec(char_max_n=2, words=False))])
def test_text_bits_equal_reference(num_bits, spec):
    got = tdata.text_projection_bits(TEXTS, 1234, num_bits, spec)
    want = np.stack([hashing.text_bits(t, 1234, num_bits, spec) for t in TEXTS])
    assert np.array_equal(got, want)
    acc = tdata.text_accumulators(tdata.featurize_corpus(TEXTS, spec), 1234, num_bits)
    assert np.array_equal(acc, np.stack([hashing.project_text(t, 1234, num_bits, spec) for t in TEXTS]))


@pytest.mark.parametrize("num_bits,hashes,spec", [(720, 2, TextFeatureSpec()), (45, 5, TextFeatureSpec(2, False)),
                                                  (1, 1, TextFeatureSpec())])
def test_presence_bits_equal_reference(num_bits, hashes, spec):
    presence = hashing.TextProjectionSpec("presence", hashes)
    got = tdata.text_projection_bits(TEXTS, 1234, num_bits, spec, presence)
    want = np.stack([hashing.text_bits(t, 1234, num_bits, spec, presence) for t in TEXTS])
    assert np.array_equal(got, want) and want.any()


@pytest.mark.slow
def test_bits_equal_reference_on_fashion_and_langid_subsets():
    from pnetc.datasets import load_dataset

    fashion = load_dataset("fashion-mnist")
    x_train = fashion.x_train.reshape(len(fashion.x_train), -1)
    x = fashion.x_test.reshape(len(fashion.x_test), -1)[:1000]
    mean = tdata.integer_mean(x_train)
    for kind, density in (("binary", None), ("ternary", 0.03)):
        spec = tdata.projection_spec(720, kind, 0, x.shape[1], density)
        got = dense_bits(DenseProjection(spec, mean), x).numpy().astype(np.uint8)
        assert np.array_equal(got, hashing.dense_bits(x, mean, spec))
    langid = load_dataset("langid")
    texts = langid.x_test[:300]
    got = tdata.text_projection_bits(texts, 0, 720, TextFeatureSpec())
    want = np.stack([hashing.text_bits(t, 0, 720) for t in texts])
    assert np.array_equal(got, want)
