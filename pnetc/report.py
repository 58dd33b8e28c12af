"""What the command line prints: every table and summary of the CLI lives here.

The stages and the API return dataclasses and dicts; only the CLI (pnetc/cli.py) calls these."""

from __future__ import annotations


def print_sweep(result: dict) -> None:
    """The sweep as a table on stdout, cheapest first within each mode."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from pnetc.training.sweep.grid import TRAINER_MODE, cell

    table = Table(title=escape(f"{result['csv']}  ({result['trained']} trained, {result['skipped']} already done)"))
    for col in ("mode", "T", "d", "fc", "bits", "weight B", "accuracy", "int8 est."):
        table.add_column(col, justify="left" if col in ("mode", "fc") else "right")
    order = {TRAINER_MODE: 0, "joint": 1, "alone": 2}
    for r in sorted(result["rows"], key=lambda r: (order.get(r["mode"], 3), r["bits"] or 0, r["weight_bytes"] or 0)):
        table.add_row(r["mode"], cell(r["T"]), cell(r["d"]), cell(r["fc"]), cell(r["bits"]), cell(r["weight_bytes"]),
                      "" if r["accuracy"] is None else f"{r['accuracy']:.4f}",
                      "" if r["accuracy_int8_sim"] is None else f"{r['accuracy_int8_sim']:.4f}")
    Console().print(table)
    Console().print(f"plot: {escape(str(result['png']))}")
