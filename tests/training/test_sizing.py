"""Defaults that scale with the input: the rule, and `train` applying and stating it."""

from __future__ import annotations

from pnetc.training.config import TrainConfig, resolve
from pnetc.training.sizing import scaled_defaults


def test_a_small_table_gets_a_small_linear_net():
    # breast_cancer's shape: 30 features, 2 classes, 455 training samples (was 720 bits + FC 256)
    d = scaled_defaults(30, 2, 455)
    assert d["tables"] * d["bits_per_table"] == 120
    assert d["kind"] == "binary" and d["fc"] == []
    assert d["epochs"] == 60


def test_sizes_grow_with_features_classes_and_samples():
    small, wide = scaled_defaults(30, 2, 20_000), scaled_defaults(200, 2, 20_000)
    assert wide["tables"] > small["tables"]
    assert scaled_defaults(30, 10, 20_000)["fc"][0] > small["fc"][0]  # more classes, wider hidden layer
    assert scaled_defaults(30, 2, 200)["tables"] < small["tables"]   # few samples cap the bits
    big = scaled_defaults(784, 10, 60_000)
    assert big["kind"] == "ternary" and round(big["density"] * 784) == 24
    assert big["tables"] * big["bits_per_table"] <= 1024 and big["epochs"] == 10


def test_resolve_uses_the_rule_only_without_a_preset():
    mine = resolve(TrainConfig(dataset="mine"), "features", (30,), "mine", classes=2, samples=455)
    assert (mine.num_bits, mine.fc, mine.kind) == (120, [], "binary")
    # the built-in presets keep their measured settings (README numbers and golden files depend on them)
    digits = resolve(TrainConfig(), "image", (8, 8), "digits", classes=10, samples=1437)
    assert (digits.tables, digits.bits_per_table, digits.fc, digits.epochs) == (20, 8, [128], 40)
    # a user's option wins over the rule
    narrow = resolve(TrainConfig(dataset="mine", fc=[64]), "features", (30,), "mine", classes=2, samples=455)
    assert narrow.fc == [64] and narrow.num_bits == 120
