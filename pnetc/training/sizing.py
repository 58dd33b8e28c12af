"""Default sizes that scale with the input: T, d, kind, hidden widths and epochs from the number of
features N, classes C and training samples n (dense inputs without a preset; docs/training.md).

The rule (each step says why):
* bits B = 4 N, rounded up to whole tables of d = 8 bits, within [64, 1024], and at most max(64, n / 4):
  a few bits per feature carry the input; few samples cannot fit many more weights.
* kind: binary up to N = 256 features (its cost is B N adds); ternary above, with about 24 nonzeros
  per bit (the measured Fashion-MNIST density, 0.03 x 784).
* hidden layer: none below 1,000 samples (a linear layer over the bits already separates small
  tables); else one of 8 C units (a power of two within [32, 256]): 128 for 10 classes.
* epochs: 40,000 / n within [10, 60], so small data sets see enough steps; batch 64 and lr 2e-3 below
  5,000 samples, else 128 and 1e-3 (the digits and generic settings).

Text data without a preset (a CSV of texts) take char n-grams up to 5 (and words), a presence
projection of 16,384 bits (hashes per feature: config.DEFAULT_TEXT_HASHES) and a linear layer over
them: a linear model on hashed n-grams, which is what closes the gap to TF-IDF + logistic
regression (docs/results.md, "Text: a generic multi-class CSV"); and 160,000 / n epochs within
[10, 100], since a linear layer from scratch needs about a thousand steps (package sections, char
n <= 3: 0.827 after 10 epochs, 0.833 after 20; code snippets, 726 rows: 0.749 after 20, 0.763
after 100).
"""

from __future__ import annotations

import math

BITS_PER_TABLE = 8
MIN_BITS, MAX_BITS = 64, 1024
BINARY_MAX_FEATURES = 256
TERNARY_NONZEROS = 24
HIDDEN_MIN_SAMPLES = 1000


def scaled_defaults(features: int, classes: int, samples: int) -> dict:
    """TrainConfig defaults (field -> value) for a dense data set of this shape."""
    n_feat, n_cls, n = max(1, int(features)), max(2, int(classes)), max(1, int(samples))
    bits = min(MAX_BITS, max(MIN_BITS, 4 * n_feat), max(MIN_BITS, n // 4))
    tables = max(1, math.ceil(bits / BITS_PER_TABLE))
    out = dict(tables=tables, bits_per_table=BITS_PER_TABLE)
    if n_feat <= BINARY_MAX_FEATURES:
        out["kind"] = "binary"
    else:
        out.update(kind="ternary", density=round(min(1.0, TERNARY_NONZEROS / n_feat), 4))
    if n < HIDDEN_MIN_SAMPLES:
        out["fc"] = []
    else:
        width = 2 ** round(math.log2(8 * n_cls))
        out["fc"] = [min(256, max(32, width))]
    out["epochs"] = min(60, max(10, round(40_000 / n)))
    out.update(batch_size=64, lr=2e-3) if n < 5000 else out.update(batch_size=128, lr=1e-3)
    return out


TEXT_BITS = 16_384  # T x d = 512 x 32
TEXT_EPOCH_SAMPLES = 160_000
TEXT_CHAR_MAX_N = 5  # code snippets 0.763 -> 0.790 over 3 seeds (char n <= 3 -> 5), package sections 0.832 -> 0.836


def scaled_text_defaults(samples: int | None) -> dict:
    """TrainConfig defaults for a text data set without a preset (presence projection, linear);
    10 epochs when the number of samples is not known yet."""
    epochs = 10 if not samples else min(100, max(10, round(TEXT_EPOCH_SAMPLES / int(samples))))
    return dict(tables=TEXT_BITS // 32, bits_per_table=32, text_projection="presence",
                text_char_max_n=TEXT_CHAR_MAX_N, fc=[], epochs=epochs)


def describe(config, features: int, classes: int, samples: int) -> str:
    """One line: the sizes train chose and from what."""
    fc = "-".join(str(w) for w in config.fc) or "0"
    kind = config.kind if config.kind == "binary" else f"ternary density {config.density:g}"
    return (f"defaults for {features} features, {classes} classes, {samples} samples: "
            f"T={config.tables} d={config.bits_per_table} ({config.num_bits} bits, {kind}) fc={fc} "
            f"epochs={config.epochs} batch={config.batch_size} lr={config.lr:g}")
