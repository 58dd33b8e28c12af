"""The one comparison rule (pnetc/targets/compare.py)."""

from types import SimpleNamespace

import numpy as np
import pytest

from pnetc.targets.compare import compare


def _out(pred, scores, bits=None):
    scores = np.asarray(scores)
    bits = np.zeros((len(pred), 0), np.uint8) if bits is None else np.asarray(bits, np.uint8)
    return SimpleNamespace(predictions=np.asarray(pred), scores=scores, bits=bits)


def test_float_tolerance_scales_with_the_largest_score_of_the_sample():
    ref = _out([0], np.array([[100.0, 1e-4]], np.float32))
    # 5e-4 away from a small logit, well inside 1e-5 * 100: the same rule on every path
    assert compare(_out([0], np.array([[100.0, 6e-4]], np.float32)), ref, "float32") == []
    far = compare(_out([0], np.array([[100.0, 2.1e-3]], np.float32)), ref, "float32")
    assert [m.what for m in far] == [["scores"]]


def test_small_scores_use_an_absolute_floor():
    ref = _out([0], np.array([[1e-3, 0.0]], np.float32))
    assert compare(_out([0], np.array([[1e-3 + 9e-6, 0.0]], np.float32)), ref, "float32") == []
    assert compare(_out([0], np.array([[1e-3 + 2e-5, 0.0]], np.float32)), ref, "float32") != []


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_device_scores_never_match(bad):
    ref = _out([0], np.array([[1.0, 0.0]], np.float32))
    assert compare(_out([0], np.array([[1.0, bad]], np.float32)), ref, "float32")[0].what == ["scores"]


def test_int8_scores_bits_and_predictions_are_exact():
    ref = _out([1, 0], np.array([[0, 5], [3, 1]], np.int8), bits=[[1, 0], [0, 1]])
    dev = _out([1, 1], np.array([[0, 5], [3, 2]], np.int8), bits=[[1, 1], [0, 1]])
    found = {m.index: m.what for m in compare(dev, ref, "int8")}
    assert found == {0: ["bits"], 1: ["scores", "prediction"]}


def test_models_without_bits_compare_scores_and_predictions():
    ref = _out([2], np.array([[1, 2, 3]], np.int8))
    assert compare(_out([2], np.array([[1, 2, 3]], np.int8)), ref, "int8") == []
