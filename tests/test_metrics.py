"""pnetc.metrics: the confusion matrix, per-class precision/recall/F1 and the confusion PNG."""

import numpy as np
import pytest

from pnetc.errors import PnetcError
from pnetc.metrics import classification_report, confusion_matrix, plot_confusion


def test_figures_by_hand():
    y = [0, 0, 0, 1, 1, 2]
    p = [0, 0, 1, 1, 0, 1]
    r = classification_report(y, p, ["a", "b", "c"])
    assert r["confusion"] == [[2, 1, 0], [1, 1, 0], [0, 1, 0]]
    a, b, c = r["per_class"]["a"], r["per_class"]["b"], r["per_class"]["c"]
    assert (a["samples"], a["predicted"]) == (3, 3) and a["precision"] == pytest.approx(2 / 3)
    assert a["recall"] == pytest.approx(2 / 3) and a["f1"] == pytest.approx(2 / 3)
    assert b["precision"] == pytest.approx(1 / 3) and b["recall"] == pytest.approx(1 / 2)
    assert b["f1"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    # never predicted: precision undefined (None), not 0; recall 0
    assert c["precision"] is None and c["recall"] == 0.0 and c["f1"] is None
    assert r["accuracy"] == pytest.approx(3 / 6)
    assert r["macro_f1"] == pytest.approx((a["f1"] + b["f1"]) / 2)


def test_a_class_without_samples_has_no_recall():
    r = classification_report([0, 0], [0, 1], ["a", "b"])
    assert r["per_class"]["b"]["recall"] is None and r["per_class"]["b"]["precision"] == 0.0


def test_predictions_outside_the_classes_are_not_counted():
    assert confusion_matrix([0, 1], [-1, 1], 2).tolist() == [[0, 0], [0, 1]]


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = plot_confusion(np.eye(3, dtype=int) * 5, ["x", "y", "z"], tmp_path / "cm.png", title="t")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cm.png"]  # no temporary file left


@pytest.mark.parametrize("name, needle", [("cm.jpg", "PNG"), ("missing/cm.png", "does not exist")])
def test_plot_refuses_bad_paths(tmp_path, name, needle):
    pytest.importorskip("matplotlib")
    with pytest.raises(PnetcError, match=needle):
        plot_confusion([[1]], ["a"], tmp_path / name)
