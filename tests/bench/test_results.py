"""bench/results.py renders docs/results.md from sweep CSVs: checked on a tiny fake sweep (no training)."""

import csv

from bench import results

SWEEP_COLUMNS = (
    "dataset", "trainer", "kind", "density", "epochs", "seed", "lambdas", "temperature",
    "T", "d", "fc", "mode",
    "bits", "weight_bytes", "accuracy", "accuracy_int8_sim", "trainer_accuracy", "trainer_weight_bytes",
    "seconds", "model",
)


def _row(**kw):
    base = {"dataset": "fashion-mnist", "trainer": "mlp", "kind": "ternary", "density": "0.03", "epochs": "3",
            "seed": "0", "lambdas": "1/0.1/1", "temperature": "1.0", "trainer_weight_bytes": "1000000",
            "seconds": "60"}
    base.update({k: str(v) for k, v in kw.items()})
    return base


def _fake_sweep(path):
    rows = [
        _row(mode="trainer", weight_bytes=1000000, accuracy=0.9, trainer_accuracy=0.9, model="runs/trainer/trainer.onnx"),
        _row(T=60, d=12, fc="0", mode="joint", bits=720, weight_bytes=28840, accuracy=0.8312, trainer_accuracy=0.899,
             model="runs/joint-T60-d12-fc0/model.onnx"),
        _row(T=60, d=12, fc="0", mode="alone", bits=720, weight_bytes=28840, accuracy=0.8300,
             model="runs/alone-T60-d12-fc0/model.onnx"),
        _row(T=70, d=12, fc="256", mode="joint", bits=840, weight_bytes=100000, accuracy=0.86, trainer_accuracy=0.9,
             model="runs/joint-T70-d12-fc256/model.onnx"),
        _row(T=70, d=12, fc="256", mode="alone", bits=840, weight_bytes=100000, accuracy=0.8650,
             model="runs/alone-T70-d12-fc256/model.onnx"),
    ]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=SWEEP_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in SWEEP_COLUMNS})
    return results.read_sweep(path)


MEAS = {"runs/joint-T60-d12-fc0/model.onnx": {"source": "device (mps2-an386)", "flash_bytes": 8500,
                                               "flash_code_bytes": 1200, "flash_weight_bytes": 7300,
                                               "accuracy_c": 0.8311, "mismatches": 0},
        "runs/alone-T60-d12-fc0/model.onnx": {"source": "device (mps2-an386)", "flash_bytes": 8500,
                                               "flash_code_bytes": 1200, "flash_weight_bytes": 7300,
                                               "accuracy_c": 0.8299, "mismatches": 3}}


def _table_line(text, start):
    return next(line for line in text.splitlines() if line.startswith(start))


def test_read_sweep_types_numbers(tmp_path):
    rows = _fake_sweep(tmp_path / "sweep.csv")
    assert rows[0]["T"] is None and rows[0]["accuracy"] == 0.9
    assert rows[1]["T"] == 60 and rows[1]["bits"] == 720 and rows[1]["fc"] == "0"


def test_main_table_ratio_flash_and_missing_configs(tmp_path):
    rows = _fake_sweep(tmp_path / "sweep.csv")
    text = "\n".join(results.main_table("fashion-mnist", rows, MEAS))
    line = _table_line(text, "| [T=60,d=12] |")
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1] == "720" and cells[2] == "28,840"
    assert cells[3] == "35×"  # 1,000,000 / 28,840 = 34.7
    assert cells[4] == "8,500 (1,200 + 7,300)"
    assert cells[5] == "118×"  # 1,000,000 / 8,500: trainer float32 bytes per int8 flash byte
    assert cells[6] == "83.12" and cells[7] == "83.00" and cells[8] == "89.90"
    assert cells[9] == "83.11 / 82.99 (3 mismatches!)"  # a mismatch is never hidden
    assert _table_line(text, "| [T=70,d=12]+FC[256] |").split("|")[4].strip() == "10×"
    assert "not trained yet" in _table_line(text, "| [T=8,d=10] |")  # every paper config has a row
    assert _table_line(text, "| trainer mlp, alone |").split("|")[9].strip() == "90.00"


def test_paper_table_quotes_paper_as_unverified_and_compares_ratios(tmp_path):
    rows = _fake_sweep(tmp_path / "sweep.csv")
    text = results.render({"fashion-mnist": (rows, MEAS)})
    assert "reported, from memory, not verified" in text
    head = text[text.index("## Against the paper"):]
    line = _table_line(head, "| [T=60,d=12] |")
    assert "92.3 %, 0.933, ~388×" in line  # 92.3 / 98.9
    assert "83.12 %, 0.924, 35×" in line  # 0.8312 / 0.9
    assert "97.1 %, 0.982, ~13×" in _table_line(head, "| [T=70,d=12]+FC[256] |")


def test_ablation_deltas_and_summary(tmp_path):
    rows = _fake_sweep(tmp_path / "sweep.csv")
    text = "\n".join(results.ablation_table({"fashion-mnist": (rows, MEAS)}))
    cells = [c.strip() for c in _table_line(text, "| fashion-mnist | [T=60,d=12] |").strip("|").split("|")]
    assert cells[4] == "+0.12" and cells[5] == "+12"  # 12 of 10,000 test samples
    cells = [c.strip() for c in _table_line(text, "| fashion-mnist | [T=70,d=12]+FC[256] |").strip("|").split("|")]
    assert cells[4] == "-0.50" and cells[5] == "-50"
    _, ents = results.entries(rows)
    s = results.ablation_summary(ents, 10000)
    assert (s["n"], s["wins"], s["losses"], s["ties"]) == (2, 1, 1, 0)
    assert abs(s["mean"] - (-0.19)) < 1e-9


def test_csv_summary_joins_measurements(tmp_path):
    rows = _fake_sweep(tmp_path / "sweep.csv")
    out = tmp_path / "results.csv"
    results.write_csv(out, {"fashion-mnist": (rows, MEAS)})
    got = list(csv.DictReader(out.open()))
    assert len(got) == 5
    joint = next(r for r in got if r["config"] == "[T=60,d=12]" and r["mode"] == "joint")
    assert joint["int8_flash_bytes"] == "8500" and joint["c_int8_accuracy"] == "0.8311"
    assert next(r for r in got if r["mode"] == "trainer")["config"] == "trainer"


def test_train_calls_pnetc_sweep_only_for_missing_configs(tmp_path, monkeypatch):
    _fake_sweep(tmp_path / "sweep.csv")  # [T=60,d=12] and [T=70,d=12]+FC[256], 3 epochs
    calls = []

    class Done:
        returncode = 0

    monkeypatch.setattr(results.subprocess, "run", lambda cmd, **kw: calls.append(cmd) or Done())
    results.train("fashion-mnist", tmp_path, epochs=3)
    grids = [c[c.index("--grid") + 1] for c in calls]
    assert len(grids) == 5 and "T=60 d=12 fc=0" not in grids and "T=70 d=12 fc=256" not in grids
    calls.clear()
    results.train("fashion-mnist", tmp_path, epochs=4)  # other epochs: pnetc sweep decides (and refuses)
    assert len(calls) == 7


def test_seed_repeats_summary_and_verdict(tmp_path):
    rows = _fake_sweep(tmp_path / "sweep.csv")  # seed 0: +0.12 and -0.50
    rows1 = [dict(r, seed=1) for r in rows]
    for r in rows1:
        if r["mode"] == "alone" and r["T"] == 60:
            r["accuracy"] = 0.8262  # seed 1, [T=60,d=12]: joint 0.8312 - alone 0.8262 = +0.50
    s = results.seed_summary({0: rows, 1: rows1})
    assert (s["n"], s["wins"], s["losses"], s["seeds"]) == (4, 2, 2, 2)
    assert abs(s["spread"] - (0.38 + 0.0) / 2) < 1e-9  # alone moves 0.38 points on one config, 0 on the other
    assert results.verdict(s).startswith("no consistent effect")
    assert results.verdict(dict(s, wins=4, losses=0, mean=0.4)).startswith("distillation helped consistently")
    assert results.verdict(dict(s, wins=0, losses=4, mean=-0.4)).startswith("distillation hurt consistently")
    assert results.verdict(dict(s, wins=4, losses=0, mean=0.02)).startswith("a consistent but negligible gain")
    text = results.render({"fashion-mnist": (rows, MEAS)}, seeds={"fashion-mnist": {0: rows, 1: rows1}})
    assert "| fashion-mnist | [T=60,d=12] | 1 | 90.00 | 83.12 | 82.62 | +0.50 |" in text
    assert "Over all 4 (configuration, seed) pairs of 2 seeds: 2 wins, 2 losses" in text


def test_main_writes_markdown_and_csv_from_the_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "fashion-mnist").mkdir(parents=True)
    _fake_sweep(cache / "fashion-mnist" / "sweep.csv")
    trained = []
    monkeypatch.setattr(results, "train", lambda ds, d, epochs, seed=0, configs=None: trained.append((ds, seed)))
    monkeypatch.setattr(results, "measure", lambda ds, d, rows, board, host: MEAS)
    out = tmp_path / "docs" / "results.md"
    assert results.main(["--cache", str(cache), "--out", str(out), "--datasets", "fashion-mnist"]) == 0
    assert trained == [("fashion-mnist", 0)] + [("fashion-mnist", s) for s in results.SEED_REPEATS["fashion-mnist"][0]]
    text = out.read_text()
    assert "`pnetc run --board mps2-an386`" in text and "{board}" not in text
    assert "| [T=60,d=12] | 720 | 28,840 | 35× |" in text
    assert (tmp_path / "docs" / "results.csv").is_file()
    # a rerun keeps the hand-measured sections after the marker, and only those
    out.write_text(text + "stale generated line\n" + results.HAND_MEASURED + "\n## Text runs\n| a | b |\n")
    assert results.main(["--cache", str(cache), "--out", str(out), "--datasets", "fashion-mnist"]) == 0
    again = out.read_text()
    assert again.endswith(results.HAND_MEASURED + "\n## Text runs\n| a | b |\n") and "stale generated" not in again
    assert again.startswith(text.rstrip("\n"))
