"""scikit-learn's bundled 8x8 handwritten digits (1797 images, pixel values 0..16)."""

from __future__ import annotations

import numpy as np

from pnetc.datasets import Dataset, hash_split


def load_digits() -> Dataset:
    from sklearn.datasets import load_digits as sk_load_digits  # bundled with scikit-learn, no download

    bunch = sk_load_digits()
    x = np.asarray(bunch.data)
    if x.min() < 0 or x.max() > 16 or not np.array_equal(x, np.round(x)):
        raise ValueError("scikit-learn digits are expected to be integers 0..16")
    x = x.astype(np.uint8)
    y = np.asarray(bunch.target, dtype=np.int64)
    is_test = hash_split([row.tobytes() for row in x], y)
    return Dataset(
        name="digits",
        task="image",
        labels=[str(d) for d in range(10)],
        x_train=x[~is_test],
        y_train=y[~is_test],
        x_test=x[is_test],
        y_test=y[is_test],
        input_shape=(8, 8),
        scale=1.0 / 16.0,
        zero_point=0,
        source="scikit-learn load_digits",
    )
