"""Shared fixtures for the training tests (digits: small and bundled, so these stay fast)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="session")
def digits():
    from pnetc.datasets import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def trained_digits(digits, tmp_path_factory):
    """One short joint training run on digits, exported (model.onnx + trainer.onnx)."""
    from pnetc.training.config import TrainConfig
    from pnetc.training.loop import prepare, train

    out = tmp_path_factory.mktemp("digits_model")
    config = TrainConfig(dataset="digits", epochs=3, fc=[32, 16], qat=True, qat_epochs=1)
    prepared = prepare(digits, config)
    result = train(config, out, progress=False, prepared=prepared)
    return prepared, result, out
