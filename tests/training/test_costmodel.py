"""The cost model: its terms, its fit, and its predictions against real benches on mps2-an386."""

from __future__ import annotations

import pytest

from pnetc.errors import PnetcError
from pnetc.measure import costmodel
from pnetc.measure.costmodel import Candidate

BOARD = "mps2-an386"
# the error the docs state for this board's held-out candidates (docs/training.md); a real bench of a
# candidate outside the calibration grid must land within it
STATED_ERROR = {"flash_bytes": 0.15, "ram_bytes": 0.25, "instructions": 0.10}


def _needs_board():
    from pnetc.targets.boards import get_board

    missing = get_board(BOARD).missing_tools()
    if missing:
        pytest.skip(f"{BOARD}: {', '.join(missing)} not installed")


def test_sizes_and_counts_parse():
    assert costmodel.parse_size("32K", "--max-flash") == 32 * 1024
    assert costmodel.parse_size("8KB", "--max-ram") == 8192
    assert costmodel.parse_count("100k", "--max-instructions") == 100_000
    assert costmodel.parse_count(5000, "--max-instructions") == 5000
    for bad in ("lots", "-3K", "0"):
        with pytest.raises(PnetcError, match="--max-flash"):
            costmodel.parse_size(bad, "--max-flash")


def test_the_board_is_calibrated_with_a_stated_heldout_error():
    cal = costmodel.calibration(BOARD)
    assert len(cal.measurements) >= 20 and cal.command.startswith("python scripts/calibrate_costmodel.py")
    for target, bound in STATED_ERROR.items():
        assert cal.heldout[target]["mean"] <= bound, (target, cal.heldout[target])
    with pytest.raises(PnetcError, match="no cost model for board"):
        costmodel.calibration("no-such-board")


def test_costs_grow_with_the_model():
    small = Candidate(64, 10, tables=4, bits_per_table=8)
    wider = Candidate(64, 10, tables=16, bits_per_table=8, fc=(64,))
    a, b = costmodel.predict(small, BOARD), costmodel.predict(wider, BOARD)
    assert b.flash_bytes > a.flash_bytes and b.instructions > a.instructions
    ternary = Candidate(784, 10, tables=16, bits_per_table=8, kind="ternary", density=0.03)
    binary = Candidate(784, 10, tables=16, bits_per_table=8)
    assert costmodel.predict(ternary, BOARD).instructions < costmodel.predict(binary, BOARD).instructions


def test_the_fit_recovers_a_linear_cost():
    """Measurements made from known coefficients are fitted back exactly (the fitter, not the board)."""
    cands = [Candidate(64, 10, tables=t, bits_per_table=8, fc=fc) for t in (2, 4, 8, 16) for fc in ((), (32,))]
    rows = []
    for c in cands:
        t = costmodel.terms(c)
        rows.append({"candidate": c.to_dict(), "flash_bytes": 1000 + 1.0 * t["weight_bytes_int8"] + 9 * t["outputs"],
                     "ram_bytes": 200 + t["widest_pair"], "instructions": 500 + 3 * t["binary_adds"]})
    cal = costmodel.fit("fake", rows)
    errors = costmodel.relative_errors(cal, rows)
    assert all(errors[k]["max"] < 1e-3 for k in costmodel.TARGETS), errors


@pytest.mark.parametrize("family", ["projection", "mlp"])
def test_predictions_match_real_benches(tmp_path, family):
    """Train a candidate the calibration grid does not hold (one epoch: costs do not depend on the
    weights' values), bench it on the board, compare."""
    _needs_board()
    from pnetc import api

    if family == "projection":
        c = Candidate(64, 10, tables=12, bits_per_table=8, fc=(48,))
        r = api.train("digits", tmp_path / "m", trainer="none", tables=12, bits_per_table=8, fc=[48], epochs=1,
                      progress=False)
        model, calib = r.model, None
    else:
        from pnetc.training.student import train_mlp

        c = Candidate(64, 10, family="mlp", fc=(24,))
        r = train_mlp("digits", tmp_path / "m", hidden=[24], epochs=1, subset=500)
        model, calib = r["model"], r["calib"]
    bench = api.bench(model, BOARD, n=2, dataset="digits", calib=calib, progress=False)
    predicted = costmodel.predict(c, BOARD)
    measured = {"flash_bytes": bench.flash_bytes, "ram_bytes": bench.ram_bytes,
                "instructions": bench.instructions_per_inference}
    for target, bound in STATED_ERROR.items():
        error = abs(getattr(predicted, target) - measured[target]) / measured[target]
        assert error <= bound, (target, getattr(predicted, target), measured[target])


def test_stem_sizes():
    conv = Candidate(784, 10, tables=64, bits_per_table=16, fc=(48,), stem="conv:8,16", shape=(28, 28))
    layers = costmodel.stem_layers(conv)
    assert [s.weights for s in layers] == [1 * 8 * 9, 8 * 16 * 9]
    assert [s.macs for s in layers] == [8 * 9 * 28 * 28, 8 * 16 * 9 * 14 * 14]
    assert conv.projection_inputs == 16 * 7 * 7 and conv.nonzeros_per_bit == 784
    dense = Candidate(784, 10, tables=8, bits_per_table=16, stem="dense:32")
    assert dense.projection_inputs == 32 and costmodel.terms(dense)["binary_adds"] == 128 * 32
    assert Candidate.from_dict(conv.to_dict()) == conv
    with pytest.raises(PnetcError, match="image shape"):
        costmodel.stem_layers(Candidate(784, 10, tables=8, bits_per_table=16, stem="conv:4"))


def test_fit_stem_keeps_every_other_prediction():
    """The stem terms are fitted on stem benches alone: a model without a stem costs what it did."""
    base = costmodel.calibration(BOARD)
    plain = Candidate(784, 10, tables=20, bits_per_table=8, fc=(32,))
    stems = [Candidate(784, 10, tables=t, bits_per_table=16, fc=fc, stem=s, shape=(28, 28))
             for s in ("conv:4,8", "conv:8,16", "dense:32") for t, fc in ((32, ()), (64, (48,)))]
    rows = []
    for c in stems:  # made from the base prediction plus known stem costs
        t, p = costmodel.terms(c), base.predict(c)
        rows.append({"candidate": c.to_dict(), "flash_bytes": p.flash_bytes + 1500 * t["conv_stem"] + 900 * t["dense_stem"],
                     "ram_bytes": p.ram_bytes + t["stem_activation_bytes"],
                     "instructions": p.instructions + 4 * t["conv_stem_macs"] + 2 * t["dense_stem_macs"]})
    cal = costmodel.fit_stem(base, rows)
    assert cal.predict(plain) == base.predict(plain)
    errors = costmodel.relative_errors(cal, rows)
    assert all(errors[k]["max"] < 0.01 for k in costmodel.TARGETS), errors


# the stem terms' error on held-out stem benches (costmodel.json, "stem"; docs/training.md)
STEM_STATED_ERROR = {"flash_bytes": 0.30, "ram_bytes": 0.15, "instructions": 0.25}


def test_stem_prediction_matches_a_real_bench(tmp_path):
    _needs_board()
    from pnetc import api

    assert costmodel.has_stem_terms(costmodel.calibration(BOARD))
    c = Candidate(64, 10, tables=12, bits_per_table=8, fc=(24,), stem="conv:6", shape=(8, 8))
    r = api.train("digits", tmp_path / "m", trainer="none", tables=12, bits_per_table=8, fc=[24], stem="conv:6",
                  epochs=1, progress=False)
    bench = api.bench(r.model, BOARD, n=2, dataset="digits", progress=False)
    predicted = costmodel.predict(c, BOARD)
    measured = {"flash_bytes": bench.flash_bytes, "ram_bytes": bench.ram_bytes,
                "instructions": bench.instructions_per_inference}
    for target, bound in STEM_STATED_ERROR.items():
        error = abs(getattr(predicted, target) - measured[target]) / measured[target]
        assert error <= bound, (target, getattr(predicted, target), measured[target])
