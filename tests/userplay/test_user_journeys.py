"""A new user's whole journey, on data and models pnetc's own data sets never use, through the CLI
the docs describe: train (or bring a model) -> compile a CMake package -> verify -> run on
microbit and mps2-an386 -> the user's own C program built from the package alone, run under QEMU.

Every step must agree with the Python reference: 0 mismatches in verify and run, and the user's
program (raw floats through the generated NAME_quantize, or raw text bytes) answers exactly what
`pnetc predict` answers, label strings included. The accuracies are printed (`-s`) for the record.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.userplay import userdata

BOARDS = ("microbit", "mps2-an386")
APP = Path(__file__).parent / "user_app"
RUN_LIMIT = 60  # samples per board run under QEMU (verify checks the whole test split on the host)

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not all(shutil.which(t) for t in ("cmake", "arm-none-eabi-gcc", "qemu-system-arm")),
                       reason="needs cmake, arm-none-eabi-gcc and qemu-system-arm"),
]


def pnetc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "pnetc", *map(str, args)], capture_output=True, text=True,
                       cwd=cwd, timeout=900, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, f"pnetc {' '.join(map(str, args))}\n{r.stdout}\n{r.stderr}"
    return r


def last_json(r: subprocess.CompletedProcess) -> dict:
    return json.loads(r.stdout.strip().splitlines()[-1])


def samples_header(texts=None, features=None) -> str:
    """The user's raw test data as C: texts as escaped byte strings, features as float32 literals
    that round-trip exactly (9 significant digits)."""
    from pnetc.codegen.escape import c_string

    lines = ['#include "clf.h"']
    if texts is not None:
        lines.append(f"#define NUM_SAMPLES {len(texts)}")
        lines.append("static const char *const texts[NUM_SAMPLES] = {")
        lines += [f"    {c_string(t)}," for t in texts]
        lines.append("};")
        lines.append("static const unsigned text_len[NUM_SAMPLES] = {" + ", ".join(str(len(t)) for t in texts) + "};")
    else:
        x = np.asarray(features, np.float32)
        lines.append(f"#define NUM_SAMPLES {len(x)}")
        lines.append(f"static const float inputs[NUM_SAMPLES][CLF_INPUT_SIZE] = {{")
        lines += ["    {" + ", ".join(f"{float(v):.8e}f" for v in row) + "}," for row in x]
        lines.append("};")
    return "\n".join(lines) + "\n"


def user_program(work: Path, package: Path, board: str, header: str) -> list[tuple[int, str]]:
    """Build the user's program from the package alone (its toolchain file, pnetc::board, no build
    type) and run it under QEMU; its (class, label) answers."""
    from pnetc.targets.boards import get_board
    from pnetc.targets.qemu import system_command

    src = work / f"app-{board}"
    shutil.copytree(APP, src)
    (src / "samples.h").write_text(header)
    build = work / f"build-{board}"
    for cmd in (["cmake", "-S", src, "-B", build, f"-DCMAKE_TOOLCHAIN_FILE={package / 'cmake' / f'{board}.cmake'}",
                 f"-DPNETC_PACKAGE={package}"], ["cmake", "--build", build]):
        r = subprocess.run(list(map(str, cmd)), capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    run = subprocess.run(system_command(get_board(board), build / "app"), capture_output=True, text=True,
                         timeout=300, cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [ln for ln in (run.stdout + run.stderr).splitlines() if ln.startswith(("P ", "E "))]
    assert lines and lines[-1].startswith("E "), run.stdout + run.stderr
    answers = []
    for ln in lines[:-1]:
        parts = ln.split(" ")  # P class label... permille
        assert 0 <= int(parts[-1]) <= 1000, ln
        answers.append((int(parts[1]), " ".join(parts[2:-1])))
    return answers


def journey(work: Path, model: Path, *, data: Path | None, calib: Path | None, texts=None, features=None) -> dict:
    """compile -> verify -> run on each board -> the user's program on each board; the figures."""
    calib_args = ["--calib", calib] if calib is not None else []
    data_args = ["--data", data] if data is not None else []  # None: the data file train recorded
    compiled = pnetc("compile", model, "-o", work / "pkg", "--package", "cmake", "--name", "clf", *calib_args, cwd=work)
    verified = last_json(pnetc("verify", model, *data_args, *calib_args, "--json", cwd=work))
    assert verified["mismatches"] == 0, verified
    figures = {"verify_samples": verified["samples"], "accuracy_int8": verified["accuracy_reference"],
               "accuracy_float32": verified["accuracy_float"], "compile_warnings": compiled.stderr.strip()}
    if features is not None:  # the very samples the user's program classifies
        np.savez(work / "user_samples.npz", x=np.asarray(features, np.float32))
    predicted = last_json(pnetc("predict", model, "--precision", "int8", *calib_args, "--json",
                                *(["--data", work / "user_samples.npz"] if features is not None else []),
                                *(texts or []), cwd=work))
    want = [(p["class"], p["label"]) for p in predicted["predictions"]]
    for board in BOARDS:
        ran = last_json(pnetc("run", model, "--board", board, *data_args, *calib_args, "--limit", RUN_LIMIT,
                              "--json", cwd=work))
        assert ran["mismatches"] == 0 and ran["samples"] > 0, ran
        figures[f"run_{board}"] = (ran["samples"], ran["accuracy_device"])
        header = samples_header(texts=[t.encode() for t in texts] if texts else None, features=features)
        assert user_program(work, work / "pkg", board, header) == want, board
    print(f"\n{model.name}: {figures}")
    return figures


def test_text_csv_of_code_snippets(tmp_path):
    """Which language a snippet of source is in, from a CSV the user wrote (text,label,split)."""
    csv_path = userdata.write_code_csv(tmp_path / "code.csv")
    pnetc("train", "--dataset", csv_path, "--out", tmp_path / "model", cwd=tmp_path)
    assert (tmp_path / "model" / "model.md").is_file()  # the model card
    import csv

    with open(csv_path, encoding="utf-8") as fh:
        test_rows = [r for r in csv.DictReader(fh) if r["split"] == "test"]
    texts = [r["text"] for r in test_rows[:40]]
    f = journey(tmp_path, tmp_path / "model" / "model.onnx", data=None, calib=None, texts=texts)
    assert f["accuracy_int8"] > 0.5  # 4 classes: well above chance


def test_float_feature_npz(tmp_path):
    """scikit-learn's wine table as given (raw floats of very different ranges), as an NPZ."""
    xtr, ytr, xte, yte, names = userdata.wine()
    npz = tmp_path / "wine.npz"
    np.savez(npz, x=xtr, y=ytr, x_test=xte, y_test=yte, labels=np.array(names))
    pnetc("train", "--dataset", npz, "--out", tmp_path / "model", cwd=tmp_path)
    # no --data from here on: eval/verify/run use the data file train recorded (its x_test split)
    f = journey(tmp_path, tmp_path / "model" / "model.onnx", data=None, calib=None, features=xte)
    assert f["verify_samples"] == len(xte)
    assert f["accuracy_int8"] >= 0.85
    assert f["accuracy_int8"] >= f["accuracy_float32"] - 0.03  # per-feature levels keep the features apart


def test_torch_mlp_with_normalisation_inside(tmp_path):
    """A torch MLP on the raw wine floats with (x - mean) / std inside the model, int8 by --calib."""
    model = userdata.torch_wine_mlp(tmp_path)
    xtr, ytr, xte, yte, names = userdata.wine()
    test, calib = tmp_path / "test.npz", tmp_path / "calib.npz"
    # a torch model has no class names: the data's y are its class ids
    np.savez(test, x=xtr.astype(np.float32), y=ytr, x_test=xte.astype(np.float32), y_test=yte)
    np.savez(calib, x=xtr.astype(np.float32))
    f = journey(tmp_path, model, data=test, calib=calib, features=xte)
    # int8 within 1 point of float32: the input is quantized per feature (its first layer is dense)
    assert f["accuracy_int8"] >= f["accuracy_float32"] - 0.01, f


def test_torch_cnn_on_photo_patches(tmp_path):
    """A small torch CNN (Conv2d, BatchNorm, ReLU, MaxPool, Flatten, Linear) over 12x12 patches of
    scikit-learn's two sample photos; batch-1 export, int8 by --calib."""
    model, test, calib = userdata.torch_patch_cnn(tmp_path)
    with np.load(test) as d:
        xtr, ytr, xte, yte = d["x"], d["y"], d["x_test"], d["y_test"]
    pick = np.random.default_rng(0).choice(len(xte), 200, replace=False)
    small = tmp_path / "test_small.npz"
    train_pick = np.random.default_rng(1).choice(len(xtr), 200, replace=False)
    np.savez(small, x=xtr[train_pick], y=ytr[train_pick], x_test=xte[pick], y_test=yte[pick])
    f = journey(tmp_path, model, data=small, calib=calib, features=xte[pick][:40])
    assert f["accuracy_int8"] >= 0.7 and f["accuracy_int8"] >= f["accuracy_float32"] - 0.02, f
