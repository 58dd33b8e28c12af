"""Budget-aware training: candidates within the budget, the chosen model measured within it on the
board, and one-line errors for bad budgets."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from pnetc import budget
from pnetc.measure import costmodel

BOARD = "mps2-an386"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pnetc", *args], capture_output=True, text=True, timeout=600)


def _needs_board():
    from pnetc.targets.boards import get_board

    missing = get_board(BOARD).missing_tools()
    if missing:
        pytest.skip(f"{BOARD}: {', '.join(missing)} not installed")


def test_enumeration_covers_both_families_and_the_filter_keeps_the_budget():
    cands = budget.enumerate_candidates(64, 10)
    assert {c.family for c in cands} == {"projection", "mlp"}
    assert any(c.kind == "ternary" for c in budget.enumerate_candidates(784, 10))
    limit = budget.Budget(BOARD, max_flash=8 * 1024, max_instructions=20_000)
    cal = costmodel.calibration(BOARD)
    rows = [budget.Row(c, cal.predict(c)) for c in cands]
    kept = [r for r in rows if limit.allows(r.predicted)]
    assert 0 < len(kept) < len(rows)
    assert all(r.predicted.flash_bytes <= 8192 and r.predicted.instructions <= 20_000 for r in kept)
    picked = budget.pick_for_proxy(kept, 2)
    assert all(r in kept for r in picked)
    assert {r.candidate for r in picked if r.candidate.family == "mlp"} == {
        r.candidate for r in kept if r.candidate.family == "mlp"}
    assert sum(r.candidate.family == "projection" for r in picked) == 2


def test_stem_candidates_join_the_family():
    images = budget.enumerate_candidates(784, 10, shape=(28, 28))
    assert {c.stem for c in images if c.stem} == {*budget.DENSE_STEMS, *budget.CONV_STEMS}
    flat = budget.enumerate_candidates(30, 3, shape=(30,))
    assert {c.stem for c in flat if c.stem} == set(budget.DENSE_STEMS)  # no conv stem without an image
    assert not any(c.stem for c in budget.enumerate_candidates(0, 3, text=True))
    rows = [budget.Row(c, costmodel.Cost(1000, 100, 1000)) for c in images]
    picked = [r.candidate for r in budget.pick_for_proxy(rows) if r.candidate.stem]
    # one of each stem kind, the most capable: the widest stem, most bits, widest hidden layer
    assert sorted(c.stem for c in picked) == ["conv:8,16", "dense:64"]
    assert all(c.num_bits == 16 * max(budget.STEM_TABLES) and c.fc == (64,) for c in picked)


def test_ranking_prefers_the_cheapest_of_the_statistically_tied():
    def row(acc, flash, instructions):
        r = budget.Row(costmodel.Candidate(64, 10), costmodel.Cost(flash, 100, instructions))
        r.proxy_accuracy = acc
        return r

    big, small, worse = row(0.970, 24_000, 50_000), row(0.962, 7_000, 13_000), row(0.90, 2_000, 3_000)
    # 359 test samples: one standard error at 97 % is 0.9 points, so big and small are tied
    assert budget.rank([big, worse, small], 359) == [small, big, worse]
    # with 100,000 test samples the 0.8 points are real
    assert budget.rank([big, worse, small], 100_000) == [big, small, worse]


def test_pareto_keeps_only_undominated_rows():
    def row(acc, flash):
        r = budget.Row(costmodel.Candidate(64, 10), costmodel.Cost(flash, 100, 1000))
        r.proxy_accuracy = acc
        return r

    a, b, c, d = row(0.90, 2000), row(0.95, 4000), row(0.93, 5000), row(0.97, 9000)
    assert budget.pareto([a, b, c, d], "flash_bytes") == [a, b, d]


def test_search_respects_the_budget_on_the_board(tmp_path):
    """A tight budget; short trainings. The chosen model's measured flash and instructions are within it."""
    _needs_board()
    limit = budget.Budget(BOARD, max_flash=6 * 1024, max_instructions=15_000)
    found = budget.search("digits", tmp_path, limit, epochs=2, proxy_epochs=1, per_family=1, progress=False,
                          plot=str(tmp_path / "frontier.png"))
    assert found.chosen is not None and found.chosen.fits
    m = found.chosen.measured
    assert m["flash_bytes"] <= 6 * 1024 and m["instructions"] <= 15_000 and m["mismatches"] == 0
    assert all(limit.allows(r.predicted) for r in found.rows)
    assert 0.1 < found.chosen.accuracy <= 1.0
    assert (tmp_path / "frontier.png").stat().st_size > 0
    saved = json.loads((tmp_path / "budget.json").read_text())
    assert saved["chosen"]["candidate"] == found.chosen.candidate.label()
    lines = budget.table_lines(found)
    assert any(line.startswith("*") for line in lines) and "chosen" in lines[-1]


@pytest.mark.parametrize("args, message", [
    (["--max-flash", "32K"], "need --board"),
    (["--board", BOARD, "--max-flash", "lots"], "--max-flash must be a number"),
    (["--board", BOARD, "--max-flash", "100"], "no candidate fits"),
    (["--board", "microbit-x", "--max-flash", "32K"], "microbit-x"),
    (["--board", BOARD, "--max-flash", "32K", "--fc", "64"], "chooses --fc itself"),
    (["--board", BOARD, "--max-flash", "32K", "--stem", "dense:8"], "chooses --stem itself; drop it or"),
    (["--stem", "conv:0"], "--stem must be"),
])
def test_bad_budgets_fail_in_one_line(tmp_path, args, message):
    p = _cli("train", "--dataset", "digits", "--out", str(tmp_path / "o"), *args)
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("pnetc: error:") and message in p.stderr


def test_train_states_the_sizes_it_chose(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(300, 30), dtype=np.uint8)
    y = (x[:, 0] > 127).astype(np.int64)
    np.savez(tmp_path / "table.npz", x=x, y=y)
    p = _cli("train", "--dataset", str(tmp_path / "table.npz"), "--out", str(tmp_path / "o"), "--trainer", "none",
             "--epochs", "1")
    assert p.returncode == 0, p.stderr
    first = p.stdout.splitlines()[0]
    assert first.startswith("defaults for 30 features, 2 classes, 240 samples: T=8 d=8 (64 bits, binary) fc=0")
