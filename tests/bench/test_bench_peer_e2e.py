"""One tiny end-to-end peer row: an sklearn MLP converted by emlearn, built into the comparison
harness for mps2-an386 and run under QEMU with the counting plugin (a few seconds)."""

import warnings

import numpy as np
import pytest

from pnetc.targets.boards import get_board


def test_emlearn_tiny_mlp_runs_in_the_harness(tmp_path):
    saved = np.geterr()
    try:
        pytest.importorskip("emlearn")
    finally:
        np.seterr(**saved)  # importing emlearn sets numpy's errors to 'raise' for the whole process
    board = get_board("mps2-an386")
    if board.missing_tools():
        pytest.skip(f"mps2-an386: {', '.join(board.missing_tools())} not installed")
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    from bench import adapters
    from bench.harness import accuracy, measure_row

    x, y = load_digits(return_X_y=True)
    ds = type("Digits", (), {})()
    ds.scale, ds.zero_point = 1 / 16, 0
    ds.x_train, ds.y_train = x[:1000].astype(np.uint8), y[:1000]
    x_test, y_test = x[1000:1040].astype(np.uint8), y[1000:1040]
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(adapters.real_values(ds, ds.x_train), ds.y_train)
    # the driver's cache holds the sklearn model: put this one there so nothing is retrained
    import pickle

    import sklearn

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / f"sklearn-mlp-8-it300-s0-v{sklearn.__version__}.pkl").write_bytes(pickle.dumps(mlp))
    row = adapters.emlearn_row(ds, x_test, (8,), tmp_path / "row", cache, max_iter=300)
    assert not row.unavailable
    m = measure_row(board, row, tmp_path / "row" / board.name)
    # the device answers what sklearn answers, and the numbers are plausible for a 64-8-10 float MLP
    assert np.array_equal(m.predictions, mlp.predict(adapters.real_values(ds, x_test)))
    assert accuracy(m.predictions, y_test) > 0.7
    assert m.samples == 40 and m.stack_bytes > 0
    assert 600 < m.instructions_mean < 20_000              # 592 MACs, softmax with expf
    assert 4 * (64 * 8 + 8 * 10) <= m.flash_bytes < 4 * (64 * 8 + 8 * 10) + 8_000
