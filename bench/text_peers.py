"""Language identification side by side: a pnetc langid model, langid.py and CLD3 on the
same rows (the langid test split as spans and as whole texts, and the out-of-domain
package-description set).

    python -m bench.text_peers MODEL [--limit N] [--json]

Both peers know many more languages than the eleven of the langid data set. Two scores
each: `open`, their own answer, where an answer outside the eleven counts as wrong; and
`restricted`, their best answer among the eleven (langid.py: `set_languages`; CLD3: the
first of its top-N answers that is one of the eleven, N = NUM_CLD3_CANDIDATES). A peer
that is not installed is reported as missing (`pip install -r bench/requirements.txt`).
pnetc's numbers are the int8 golden interpreter's (bit-exact with the firmware).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field

import numpy as np

LANGUAGES = ("bg", "cs", "de", "en", "eo", "es", "ga", "it", "pl", "pt", "ru")
NUM_CLD3_CANDIDATES = 10  # CLD3's top-N answers searched for one of the eleven


@dataclass
class Scores:
    name: str
    open: dict[str, float] = field(default_factory=dict)  # set name -> accuracy
    restricted: dict[str, float] = field(default_factory=dict)
    missing: str | None = None  # why the peer did not run


def peer_code(code: str) -> str:
    """A peer's language code -> the langid label it means (pt-BR, pt_PT, ... -> pt)."""
    return code.replace("_", "-").split("-")[0].lower()


class LangidPy:
    name = "langid.py"

    def __init__(self):
        from langid.langid import LanguageIdentifier, model

        self.open_model = LanguageIdentifier.from_modelstring(model)
        self.restricted_model = LanguageIdentifier.from_modelstring(model)
        self.restricted_model.set_languages(list(LANGUAGES))

    def predict(self, text: str, restricted: bool) -> str:
        m = self.restricted_model if restricted else self.open_model
        return peer_code(m.classify(text)[0])


class CLD3:
    name = "CLD3"

    def __init__(self):
        import gcld3

        self.model = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)

    def predict(self, text: str, restricted: bool) -> str:
        if not restricted:
            return peer_code(self.model.FindLanguage(text=text).language)
        for r in self.model.FindTopNMostFreqLangs(text=text, num_langs=NUM_CLD3_CANDIDATES):
            code = peer_code(r.language)
            if code in LANGUAGES:
                return code
        return "und"


PEERS = (LangidPy, CLD3)


def load_peers() -> list:
    """Every peer that imports; a missing one becomes a Scores with `missing` set."""
    out = []
    for cls in PEERS:
        try:
            out.append(cls())
        except ImportError as exc:
            out.append(Scores(cls.name, missing=f"not installed ({exc.name})"))
    return out


def accuracy(pred: list[str], truth: list[str]) -> float:
    return float(np.mean([p == t for p, t in zip(pred, truth)])) if truth else float("nan")


def score_peer(peer, sets: dict[str, tuple[list[bytes], list[str]]]) -> Scores:
    if isinstance(peer, Scores):
        return peer
    s = Scores(peer.name)
    for set_name, (texts, truth) in sets.items():
        strings = [t.decode("utf-8", errors="replace") for t in texts]
        s.open[set_name] = accuracy([peer.predict(t, False) for t in strings], truth)
        s.restricted[set_name] = accuracy([peer.predict(t, True) for t in strings], truth)
    return s


def pnetc_predictions(model: str, texts: list[bytes]) -> list[str]:
    """The int8 golden interpreter's labels (bits from the vectorised featurizer, which the
    tests hold equal to the reference)."""
    from pnetc import hashing
    from pnetc.compiler import build_graph
    from pnetc.ir.interpret import Reference
    from pnetc.training import data as tdata

    graph = build_graph(model, precision="int8")
    p = graph.projection
    bits = tdata.text_projection_bits(texts, p.seed, p.num_bits, hashing.TextFeatureSpec(p.char_max_n, p.words),
                                      hashing.TextProjectionSpec(p.proj_kind, p.hashes))
    pred = Reference(graph).run(texts, packed_bits=hashing.pack_bits(bits)).predictions
    return [str(graph.info.labels[i]) for i in pred]


def evaluation_sets(limit: int | None = None) -> dict[str, tuple[list[bytes], list[str]]]:
    """{"test": the langid test split (spans), "texts": the same test texts whole (langid-texts),
    "ood": package descriptions}, each as (texts, codes)."""
    from pnetc.datasets import load_dataset
    from pnetc.datasets.descriptions import load_langid_ood

    sets = {}
    for set_name, dataset in (("test", "langid"), ("texts", "langid-texts")):
        ds = load_dataset(dataset)
        sets[set_name] = (list(ds.x_test), [ds.labels[i] for i in ds.y_test])
    ood = load_langid_ood()
    sets["ood"] = (list(ood[0]), list(ood[1]))
    if limit:
        sets = {k: (t[:limit], y[:limit]) for k, (t, y) in sets.items()}
    return sets


def compare(model: str, sets: dict[str, tuple[list[bytes], list[str]]]) -> list[Scores]:
    ours = Scores("pnetc")
    for set_name, (texts, truth) in sets.items():
        ours.open[set_name] = accuracy(pnetc_predictions(model, texts), truth)
    ours.restricted = dict(ours.open)  # pnetc only knows the eleven
    return [ours] + [score_peer(p, sets) for p in load_peers()]


def table(rows: list[Scores], sets: dict) -> list[str]:
    sizes = {k: len(v[1]) for k, v in sets.items()}
    head = "| system | " + " | ".join(f"{k} ({sizes[k]}) open | {k} restricted" for k in sizes) + " |"
    lines = [head, "|---|" + "---:|" * (2 * len(sizes))]
    for r in rows:
        if r.missing:
            lines.append(f"| {r.name} | " + " | ".join([r.missing] + [""] * (2 * len(sizes) - 1)) + " |")
            continue
        cells = [f"{r.open[k]:.3f} | {r.restricted[k]:.3f}" for k in sizes]
        lines.append(f"| {r.name} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.text_peers", description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="a pnetc langid model.onnx")
    ap.add_argument("--limit", type=int, default=None, help="first N rows of each set")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    from pnetc.errors import PnetcError

    try:
        sets = evaluation_sets(args.limit)
        rows = compare(args.model, sets)
    except PnetcError as exc:
        print(f"pnetc: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([r.__dict__ for r in rows]))
    else:
        print("\n".join(table(rows, sets)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
