"""`pnetc sweep`: grid parsing, a tiny digits sweep (CSV rows, PNG), and resuming."""

from __future__ import annotations

import csv
import importlib
import json

import pytest

from pnetc.cli import main
from pnetc.errors import PnetcError
from pnetc.training.sweep import COLUMNS, parse_grid, parse_modes


def test_parse_grid_forms():
    assert parse_grid("T=8,10,60 d=10,12 fc=0,128,256-128") == {
        "T": [8, 10, 60], "d": [10, 12], "fc": [(), (128,), (256, 128)]}
    assert parse_grid(["T=8", "fc=64,64"]) == {"T": [8], "d": [None], "fc": [(64,)]}
    assert parse_modes("alone") == ["alone"] and parse_modes(None) == ["joint", "alone"]


@pytest.mark.parametrize(
    "grid,needle",
    [
        ("T8", "KEY=VALUES"),
        ("x=1", "unknown grid key 'x'"),
        ("T=8,a", "'a' is not an integer"),
        ("T=0", "positive"),
        ("d=-3", "positive"),
        ("T=8, d=", "empty value"),
        ("T=8,,10", "empty value"),
        ("T=8 T=10", "given twice"),
        ("fc=128-0", "no hidden layer"),
    ],
)
def test_bad_grid_is_one_clear_error(grid, needle):
    with pytest.raises(PnetcError, match=needle):
        parse_grid(grid)


def _run(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main(["sweep", *args])
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--grid", "T=2,x"], "is not an integer"),
        (["--modes", "joint,both"], "unknown mode 'both'"),
        (["--grid", "T=300 d=300"], "too many"),
    ],
)
def test_cli_bad_options_exit_2_with_one_line(tmp_path, capsys, args, needle):
    code, out, err = _run(capsys, "--dataset", "digits", "--out", str(tmp_path / "s"), *args)
    assert code == 2
    assert err.startswith("pnetc: error: ") and needle in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not (tmp_path / "s" / "sweep.csv").exists()


def _csv(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_tiny_sweep_rows_plot_and_resume(tmp_path, capsys, monkeypatch):
    out = tmp_path / "sweep"
    args = ["--dataset", "digits", "--out", str(out), "--grid", "T=2,4", "d=8", "fc=0", "--epochs", "1",
            "--json"]  # the grid as in the docs: one --grid value, then more KEY=VALUES items
    code, stdout, _ = _run(capsys, *args)
    assert code == 0
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["trained"] == 5 and result["skipped"] == 0

    rows = _csv(out / "sweep.csv")
    assert tuple(rows[0].keys()) == COLUMNS
    got = sorted((r["mode"], r["T"], r["d"], r["fc"]) for r in rows)
    assert got == sorted([("trainer", "", "", "")] + [(m, t, "8", "0") for m in ("joint", "alone") for t in ("2", "4")])
    for r in rows:
        assert r["dataset"] == "digits" and r["epochs"] == "1" and r["lambdas"] == "1/0.1/1"
        assert 0.0 <= float(r["accuracy"]) <= 1.0
        assert (out / r["model"]).is_file()
        if r["mode"] == "trainer":
            assert r["accuracy"] == r["trainer_accuracy"] and r["weight_bytes"] == r["trainer_weight_bytes"]
            continue
        bits = int(r["T"]) * int(r["d"])
        assert int(r["bits"]) == bits
        assert int(r["weight_bytes"]) == 4 * (bits * 10 + 10)  # fc=0: one float32 Gemm bits -> 10 classes
        assert (r["trainer_accuracy"] == "") == (r["mode"] == "alone")
    assert not list(out.rglob("checkpoint.pt"))  # finished runs leave only their models
    png = (out / "sweep.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000

    # rerun: everything is done, nothing retrains, the CSV is untouched
    before = (out / "sweep.csv").read_bytes()
    code, stdout, _ = _run(capsys, *args)
    assert code == 0
    result = json.loads(stdout.strip().splitlines()[-1])
    assert (result["trained"], result["skipped"]) == (0, 5)
    assert (out / "sweep.csv").read_bytes() == before

    # an interrupted sweep (Ctrl-C after its last run, before the row) trains just that run again;
    # sweep.csv is pnetc's file, so editing it by hand would make it yours (docs/hardening.md)
    sweep_module = importlib.import_module("pnetc.training.sweep")

    other = tmp_path / "interrupted"
    other_args = [other.as_posix() if a == str(out) else a for a in args]
    real_append, appended = sweep_module.append_row, []

    def append_then_interrupt(folder, row):
        if len(appended) == 4:
            raise KeyboardInterrupt
        appended.append(row)
        real_append(folder, row)

    monkeypatch.setattr(sweep_module, "append_row", append_then_interrupt)
    code, _, err = _run(capsys, *other_args)
    assert code == 130 and err.strip().splitlines()[-1] == "pnetc: error: interrupted"
    monkeypatch.setattr(sweep_module, "append_row", real_append)
    code, stdout, _ = _run(capsys, *other_args)
    result = json.loads(stdout.strip().splitlines()[-1])
    assert (result["trained"], result["skipped"]) == (1, 4)
    def timeless(rows):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    # same seed: the same numbers again
    assert timeless(_csv(other / "sweep.csv")) == timeless(_csv_text(before))

    # other shared options into the same directory are refused, not mixed in
    code, _, err = _run(capsys, *[a if a != "1" else "2" for a in args])
    assert code == 2 and "epochs=1" in err and "other options" in err
    code, _, err = _run(capsys, *args, "--lambdas", "1,1,1")
    assert code == 2 and "lambdas='1/0.1/1'" in err


def _csv_text(data: bytes):
    return list(csv.DictReader(data.decode().splitlines()))


def test_sweep_refuses_torchrun(tmp_path, monkeypatch):
    from pnetc.training.sweep import run_sweep

    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(PnetcError, match="without torchrun"):
        run_sweep(dataset="digits", out=tmp_path / "s", grid="T=2")
    assert not (tmp_path / "s").exists()
