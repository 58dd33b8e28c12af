"""bench.text_peers on a few rows: code mapping, both peers (skipped when not installed), a
missing peer, and the pnetc row from a tiny trained model."""

from __future__ import annotations

import importlib.util

import pytest

from bench import text_peers

ROWS = {
    "few": (
        [b"The weather is really nice today, so we are all going outside for a long walk.",
         "Das Wetter ist heute wirklich schön, also gehen wir alle nach draußen spazieren.".encode(),
         "Сегодня очень хорошая погода, поэтому мы все идём гулять на улицу.".encode()],
        ["en", "de", "ru"],
    )
}


def test_peer_codes_map_to_the_eleven():
    assert text_peers.peer_code("pt-BR") == "pt" and text_peers.peer_code("pt_PT") == "pt"
    assert text_peers.peer_code("DE") == "de" and text_peers.peer_code("und") == "und"


@pytest.mark.parametrize("peer_cls", text_peers.PEERS, ids=lambda c: c.name)
def test_each_installed_peer_scores_clear_rows(peer_cls):
    module = {"langid.py": "langid", "CLD3": "gcld3"}[peer_cls.name]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -r bench/requirements.txt)")
    scores = text_peers.score_peer(peer_cls(), ROWS)
    assert scores.open["few"] == 1.0 and scores.restricted["few"] == 1.0 and scores.missing is None
    # a language outside the eleven counts as wrong in the open score
    french = {"fr": (["Bonjour à tous, comment allez-vous aujourd'hui ?".encode()], ["en"])}
    assert text_peers.score_peer(peer_cls(), french).open["fr"] == 0.0


def test_a_missing_peer_is_reported_not_raised(monkeypatch):
    class Absent:
        name = "absent"

        def __init__(self):
            raise ModuleNotFoundError("no", name="absentmod")

    monkeypatch.setattr(text_peers, "PEERS", (Absent,))
    (row,) = text_peers.load_peers()
    assert row.missing == "not installed (absentmod)"
    lines = text_peers.table([row], ROWS)
    assert "not installed (absentmod)" in lines[-1]


def test_pnetc_row_from_a_trained_model(tmp_path):
    pytest.importorskip("torch")
    from pnetc import api

    rows = ["text,label"]
    for i in range(40):
        rows += [f"the weather is nice and we walk outside {i},en", f"das wetter ist schön und wir gehen raus {i},de",
                 f"сегодня хорошая погода и мы гуляем {i},ru"]
    csv = tmp_path / "tiny.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    model = api.train(str(csv), tmp_path / "m", tables=4, bits_per_table=16, fc=[0], epochs=5, progress=False).model
    from pnetc.compiler import build_graph
    from pnetc.ir.interpret import Reference

    texts = ROWS["few"][0] + [r.split(",")[0].encode() for r in rows[1:7]]
    graph = build_graph(model, precision="int8")
    # the golden interpreter featurizing each text itself (the per-byte reference path)
    expected = [graph.info.labels[i] for i in Reference(graph).run(texts).predictions]
    assert text_peers.pnetc_predictions(str(model), texts) == expected
    assert set(expected) <= {"en", "de", "ru"}
