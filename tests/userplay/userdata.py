"""Data and models a new user brings, none of which pnetc's own datasets use.

- a text CSV: which programming language a snippet of source is in (Python, C headers, Perl,
  shell), cut from the source files any Debian system carries;
- a float-feature NPZ: scikit-learn's wine table, as given (13 raw float features, 3 classes);
- a torch MLP with its normalisation inside the model, trained on the same wine floats;
- a torch CNN over 12x12 grey patches cut from scikit-learn's two sample photographs
  (which photo a patch comes from).

Everything is built from files already on the machine; nothing is downloaded.
"""

from __future__ import annotations

import csv
import glob
import hashlib
from pathlib import Path

import numpy as np

# (label, glob patterns, a line the file must start with or None)
CODE_SOURCES = [
    ("python", ["/usr/lib/python3*/*.py"], None),
    ("c", ["/usr/include/*.h"], None),
    ("perl", ["/usr/share/perl/5*/*.pm", "/usr/share/perl/5*/*/*.pm"], None),
    ("shell", ["/usr/bin/*", "/usr/sbin/*"], ("#!/bin/sh", "#! /bin/sh", "#!/bin/bash", "#!/usr/bin/env bash")),
]


def _source_files(patterns: list[str], shebangs) -> list[Path]:
    files = sorted({Path(p) for pat in patterns for p in glob.glob(pat)})
    out = []
    for f in files:
        if not f.is_file() or f.stat().st_size > 400_000:
            continue
        if shebangs is not None:
            with open(f, "rb") as fh:
                head = fh.read(32)
            if not head.startswith(tuple(s.encode() for s in shebangs)):
                continue
        out.append(f)
    return out


def code_snippets(per_class: int = 240, lines_per_snippet: int = 4) -> list[tuple[str, str]]:
    """(snippet, language) rows: runs of `lines_per_snippet` non-blank lines, at most `per_class`
    per language, spread over the files (a few per file) so one file cannot dominate."""
    rows = []
    for label, patterns, shebangs in CODE_SOURCES:
        files = _source_files(patterns, shebangs)
        if not files:
            raise RuntimeError(f"no {label} sources found on this machine ({patterns})")
        picked: list[str] = []
        per_file = max(1, per_class // len(files) + 1)
        for f in files:
            lines = [ln.strip() for ln in f.read_text("utf-8", errors="replace").splitlines() if ln.strip()]
            # start after the first lines (licence headers look alike in every language)
            chunks = [lines[i:i + lines_per_snippet] for i in range(10, len(lines) - lines_per_snippet, 37)]
            for chunk in chunks[:per_file]:
                picked.append(" ".join(chunk)[:300])
            if len(picked) >= per_class:
                break
        rows += [(s, label) for s in picked[:per_class]]
    return rows


def split_of(text: str, test_share: float = 0.25) -> str:
    """A stable split by hash of the row, as pnetc's own corpora do."""
    h = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    return "test" if h % 1000 < test_share * 1000 else "train"


def write_code_csv(path: Path) -> Path:
    """One CSV with columns text,label,split (pnetc keeps the `split` column's test rows apart)."""
    rows = code_snippets()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "split"])
        w.writerows([(text, label, split_of(text)) for text, label in rows])
    return path


def wine(seed: int = 0):
    """scikit-learn's wine table as given (float64 features), split 75/25 with a fixed seed."""
    from sklearn.datasets import load_wine

    d = load_wine()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(d.target))
    cut = int(0.75 * len(order))
    tr, te = order[:cut], order[cut:]
    names = [str(n) for n in d.target_names]
    return d.data[tr], d.target[tr], d.data[te], d.target[te], names


def write_wine_npz(folder: Path) -> tuple[Path, Path]:
    xtr, ytr, xte, yte, names = wine()
    train, test = folder / "wine_train.npz", folder / "wine_test.npz"
    np.savez(train, x=xtr, y=ytr, labels=np.array(names))
    np.savez(test, x=xte, y=yte, labels=np.array(names))
    return train, test


def photo_patches(size: int = 12, stride: int = 10):
    """Grey size x size patches of the two sample photos, label = which photo; split by position
    (left 3/4 of each photo for training, right 1/4 for testing) so no pixel is shared."""
    from sklearn.datasets import load_sample_images

    xs, ys, parts = [], [], []
    for label, img in enumerate(load_sample_images().images):
        grey = img.astype(np.float32).mean(axis=2) / 255.0
        h, w = grey.shape
        for top in range(0, h - size, stride):
            for left in range(0, w - size, stride):
                xs.append(grey[top:top + size, left:left + size])
                ys.append(label)
                parts.append("test" if left >= 0.75 * w else "train")
    x, y, parts = np.stack(xs)[:, None], np.array(ys), np.array(parts)
    return x[parts == "train"], y[parts == "train"], x[parts == "test"], y[parts == "test"]


def train_torch(net, x, y, epochs: int, lr: float = 1e-2, seed: int = 0, batch: int = 64):
    import torch

    torch.manual_seed(seed)
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=gen).split(batch):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
    return net.eval()


def torch_wine_mlp(folder: Path) -> Path:
    """A torch MLP with (x - mean) / std inside the model, on the raw wine floats."""
    import torch

    xtr, ytr, *_ = wine()

    class Normalised(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.as_tensor(xtr.mean(0), dtype=torch.float32))
            self.register_buffer("std", torch.as_tensor(xtr.std(0) + 1e-6, dtype=torch.float32))
            self.body = torch.nn.Sequential(torch.nn.Linear(13, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))

        def forward(self, x):
            return self.body((x - self.mean) / self.std)

    torch.manual_seed(0)
    net = train_torch(Normalised(), xtr, ytr, epochs=60)
    path = folder / "wine_mlp.onnx"
    torch.onnx.export(net, torch.as_tensor(xtr[:1], dtype=torch.float32), str(path), dynamo=False,
                      opset_version=17, input_names=["x"], output_names=["scores"],
                      dynamic_axes={"x": {0: "n"}, "scores": {0: "n"}})
    return path


def torch_patch_cnn(folder: Path) -> tuple[Path, Path, Path]:
    """A small torch CNN (Conv2d, BatchNorm, ReLU, MaxPool, Flatten, Linear) on the photo patches;
    returns the model (batch-1 export) and test/calibration NPZs of float patches."""
    import torch

    xtr, ytr, xte, yte = photo_patches()
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 3, padding=1), torch.nn.BatchNorm2d(6), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 8, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 2 * 2, 2))
    net = train_torch(net, xtr, ytr, epochs=8)
    path = folder / "patch_cnn.onnx"
    torch.onnx.export(net, torch.as_tensor(xtr[:1]), str(path), dynamo=False, opset_version=17)
    test, calib = folder / "patches_test.npz", folder / "patches_calib.npz"
    np.savez(test, x=xtr.reshape(len(xtr), -1), y=ytr, x_test=xte.reshape(len(xte), -1), y_test=yte)
    rng = np.random.default_rng(1)
    np.savez(calib, x=xtr[rng.choice(len(xtr), 200, replace=False)].reshape(200, -1))
    return path, test, calib
