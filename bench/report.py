"""docs/benchmarks.md and its charts, rendered from the raw results (docs/benchmarks.json)."""

from __future__ import annotations

from pathlib import Path

PRIMARY_BOARD = "mps2-an386"
TARGET_RATIO = 0.25          # issue target: projection net <= 0.25x the peers' instructions on mps2-an386
TARGET_MAC_FACTOR = 1.5      # issue target: int8 dense layers within 1.5x of the MAC lower bound


def fmt_int(v) -> str:
    return "—" if v is None else f"{int(round(v)):,}"


def fmt_acc(v) -> str:
    return "—" if v is None else f"{100 * v:.2f} %"


def row_name(r: dict) -> str:
    return f"{r['label']} ({r['precision']})" if r.get("precision") else r["label"]


def board_cell(r: dict, board: str, key: str):
    b = r.get("boards", {}).get(board) or {}
    return b.get(key)


def device_accuracy(r: dict, boards: list[str]):
    """(accuracy, where): the first board that ran the row, else the reference."""
    for b in boards:
        acc = board_cell(r, b, "accuracy_device")
        if acc is not None:
            return acc, b
    return r.get("accuracy_reference"), "reference"


def find(rows: list[dict], key: str) -> dict | None:
    return next((r for r in rows if r["key"] == key), None)


def instr(rows: list[dict], key: str, board: str = PRIMARY_BOARD):
    r = find(rows, key)
    return board_cell(r, board, "instructions_mean") if r else None


def main_table(entry: dict, boards: list[str]) -> list[str]:
    rows = entry["rows"]
    base = instr(rows, "pnetc-int8")
    cols = ["row", "model", "accuracy", f"flash bytes ({PRIMARY_BOARD})", f"RAM bytes ({PRIMARY_BOARD})",
            *[f"instructions / inference ({b})" for b in boards], f"× pnetc int8 ({PRIMARY_BOARD})"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * 2 + "---:|" * (len(cols) - 2)]
    notes = []
    for r in rows:
        if r.get("unavailable"):
            out.append(f"| {row_name(r)} | {r.get('model') or '—'} | cannot: see note | — | — | "
                       + " | ".join("—" for _ in boards) + " | — |")
            notes.append(f"{row_name(r)}: {r['unavailable']}")
            continue
        acc, where = device_accuracy(r, boards)
        flash = board_cell(r, PRIMARY_BOARD, "flash_bytes")
        ram = board_cell(r, PRIMARY_BOARD, "ram_bytes")
        counts = [board_cell(r, b, "instructions_mean") for b in boards]
        ratio = counts[boards.index(PRIMARY_BOARD)] / base if base and PRIMARY_BOARD in boards and counts[
            boards.index(PRIMARY_BOARD)] else None
        acc_cell = fmt_acc(acc) + ("" if where == PRIMARY_BOARD else f" ({where})")
        out.append(f"| {row_name(r)} | {r['model']} | {acc_cell} | {fmt_int(flash)} | {fmt_int(ram)} | "
                   + " | ".join(fmt_int(c) for c in counts) + f" | {'—' if ratio is None else f'{ratio:.2f}×'} |")
        for b in boards:
            err = board_cell(r, b, "error")
            if err:
                notes.append(f"{row_name(r)} on {b}: {err}")
    return out + ([""] + [f"* {n}" for n in notes] if notes else [])


def detail_table(entry: dict, boards: list[str]) -> list[str]:
    cols = ["row", "board", "accuracy on board", "answers ≠ own reference", "reference accuracy",
            "flash: text + rodata + data", "RAM: static + stack", "instructions min … max", "weights (bytes)"]
    out = ["| " + " | ".join(cols) + " |", "|---|---|" + "---:|" * (len(cols) - 2)]
    for r in entry["rows"]:
        if r.get("unavailable"):
            continue
        for b in boards:
            d = (r.get("boards") or {}).get(b)
            if not d or "error" in d:
                continue
            s = d["flash_sections"]
            out.append(
                f"| {row_name(r)} | {b} | {fmt_acc(d['accuracy_device'])} | {d['reference_disagreements']} "
                f"({r.get('reference_name', '')}) | {fmt_acc(r.get('accuracy_reference'))} | "
                f"{s['text']:,} + {s['rodata']:,} + {s['data']:,} = {d['flash_bytes']:,} | "
                f"{d['ram_static_bytes']:,} + {d['stack_bytes']:,} = {d['ram_bytes']:,} | "
                f"{d['instructions_min']:,} … {d['instructions_max']:,} | {fmt_int(r.get('weight_bytes'))} |")
    return out


def dense_layers(entry: dict, boards: list[str]) -> list[str]:
    """pnetc int8 rows: instructions per MAC of each multiplying dense layer (from the stage marks)."""
    out = ["| row | board | layer (stage) | MACs | instructions | instructions / MAC |", "|---|---|---|---:|---:|---:|"]
    any_row = False
    for r in entry["rows"]:
        if r["tool"] != "pnetc" or r.get("precision") != "int8" or r.get("unavailable"):
            continue
        for b in boards:
            d = (r.get("boards") or {}).get(b) or {}
            stages = d.get("stages") or []
            for k, macs in enumerate(r.get("stage_macs") or []):
                if macs and k < len(stages):
                    any_row = True
                    out.append(f"| {row_name(r)} | {b} | {k} | {macs:,} | {stages[k]:,.0f} | {stages[k] / macs:.2f} |")
    return out if any_row else []


def stage_table(entry: dict, boards: list[str]) -> list[str]:
    """Mean instructions of every marked stage of the pnetc rows (projection, then each layer)."""
    lines = []
    for r in entry["rows"]:
        if r["tool"] != "pnetc" or r.get("unavailable"):
            continue
        for b in boards:
            stages = board_cell(r, b, "stages") or []
            if stages:
                names = [("projection" if macs is None and k == 0 and "projection" in r["model"] else
                          f"layer {k}" + ("" if macs else " (over bits)" if "projection" in r["model"] else ""))
                         for k, macs in enumerate((r.get("stage_macs") or []) + [None] * len(stages))][:len(stages)]
                cells = ", ".join(f"{n}: {v:,.0f}" for n, v in zip(names, stages))
                lines.append(f"| {row_name(r)} | {b} | {cells} |")
    return ["| row | board | instructions per stage (mean) |", "|---|---|---|", *lines] if lines else []


def targets(entry: dict) -> list[str]:
    rows = entry["rows"]
    ours = find(rows, "pnetc-int8")
    mine = instr(rows, "pnetc-int8")
    out = []
    our_acc = board_cell(ours, PRIMARY_BOARD, "accuracy_device") if ours else None
    for key, name in (("emlearn-float32", "emlearn (the trainer's shape)"),
                      ("emlearn-small-float32", "emlearn (small MLP at the projection net's accuracy)"),
                      ("emx-float32", "emx-onnx-cgen (the trainer MLP)")):
        peer = find(rows, key)
        theirs = instr(rows, key)
        if not mine or not theirs:
            out.append(f"* projection net int8 vs {name}: not measured")
            continue
        ratio = mine / theirs
        peer_acc = board_cell(peer, PRIMARY_BOARD, "accuracy_device")
        acc_ok = our_acc is not None and peer_acc is not None and our_acc >= peer_acc
        met = ratio <= TARGET_RATIO and acc_ok
        out.append(f"* projection net int8 vs {name} on {PRIMARY_BOARD}: {mine:,.0f} / {theirs:,.0f} = "
                   f"**{ratio:.3f}×** instructions (target ≤ {TARGET_RATIO}×), accuracy {fmt_acc(our_acc)} vs "
                   f"{fmt_acc(peer_acc)} (target: equal or better) → **{'met' if met else 'not met'}**")
    worst = None
    for r in rows:
        if r["tool"] != "pnetc" or r.get("precision") != "int8":
            continue
        stages = board_cell(r, PRIMARY_BOARD, "stages") or []
        for k, macs in enumerate(r.get("stage_macs") or []):
            if macs and k < len(stages):
                f = stages[k] / macs
                if worst is None or f > worst[0]:
                    worst = (f, row_name(r), k, macs)
    if worst:
        f, name, k, macs = worst
        out.append(f"* int8 dense layers within {TARGET_MAC_FACTOR}× of the MAC lower bound (taken as 1 instruction "
                   f"per MAC) on {PRIMARY_BOARD}: worst layer is {name} stage {k} ({macs:,} MACs) at **{f:.2f}** "
                   f"instructions per MAC → **{'met' if f <= TARGET_MAC_FACTOR else 'not met'}** (with the dual "
                   f"16-bit SMLAD of the M4 the bound is 0.5 per MAC; within 1.5× of that is ≤ 0.75)")
    return out


def write_charts(results: dict, img_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    img_dir.mkdir(parents=True, exist_ok=True)
    boards = results["boards"]
    written = []
    thousands = FuncFormatter(lambda v, _pos=None: f"{v:,.0f}")
    for name, entry in results["datasets"].items():
        rows = [r for r in entry["rows"] if not r.get("unavailable") and r.get("boards")]
        if not rows:
            continue
        labels = [row_name(r).replace(": ", ":\n", 1) for r in rows]
        colors = ["#1f77b4" if r["tool"] == "pnetc" else "#d62728" for r in rows]
        shown = boards[:2] if len(boards) >= 2 else boards
        fig, axes = plt.subplots(1, len(shown) + 1, figsize=(6 * (len(shown) + 1), 0.55 * len(rows) + 2.6))
        for ax, board in zip(axes, shown):
            vals = [board_cell(r, board, "instructions_mean") or 0 for r in rows]
            ax.barh(range(len(rows)), vals, color=colors)
            ax.set_yticks(range(len(rows)), labels, fontsize=8)
            ax.invert_yaxis()
            ax.xaxis.set_major_formatter(thousands)
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.tick_params(axis="x", labelsize=7)
            ax.set_title(f"instructions / inference, {board}", fontsize=10)
            ax.set_xlim(0, 1.22 * max(vals + [1]))
            for i, v in enumerate(vals):
                ax.text(v, i, f" {v:,.0f}" if v else " not run", va="center", fontsize=7)
        ax = axes[-1]
        for i, (r, c) in enumerate(zip(rows, colors)):
            x = board_cell(r, PRIMARY_BOARD, "flash_bytes")
            acc, _ = device_accuracy(r, boards)
            if x and acc is not None:
                ax.scatter([x], [100 * acc], color=c, marker="os^Dv<>P"[i % 8], s=55, alpha=0.8, label=row_name(r))
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos=None: f"{v / 1000:,.0f} kB" if v >= 1000 else f"{v:.0f} B"))
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(f"flash bytes ({PRIMARY_BOARD}, size delta, log)")
        ax.set_ylabel("accuracy on the board (%)")
        ax.set_title("accuracy vs flash (blue: pnetc, red: peers)", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best", framealpha=0.6)
        fig.suptitle(f"{name}: whole test split, same harness, compiler and flags for every row")
        fig.tight_layout()
        path = img_dir / f"bench-{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def relative(path: Path, doc: Path) -> str:
    """The chart's path as the markdown file links it."""
    try:
        return path.resolve().relative_to(doc.parent.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def write_report(results: dict, out: Path, img_dir: Path) -> None:
    charts = write_charts(results, img_dir)
    boards = results["boards"]
    lines = [
        "# Benchmarks: pnetc against its peers",
        "",
        "Generated by one command from the repository root (it installs the peers from PyPI, trains any",
        "model missing from `--models-dir` with `pnetc train`, builds and runs every row):",
        "",
        "```",
        "python -m bench --install-peers            # docs/benchmarks.md, docs/benchmarks.json, docs/img/bench-*.png",
        "python -m bench --report-only              # redraw the tables and charts from docs/benchmarks.json",
        "```",
        "",
        "Runs behind this file: " + "; ".join(
            f"`{r['command']}` ({r['started']}{', commit ' + r['commit'] if r.get('commit') else ''})"
            for r in results.get("runs", [])
            or [{"command": results.get("command", "python -m bench"), "started": results.get("started", "")}])
        + ". Peers: " + ", ".join(f"{k} {v}" for k, v in sorted(results.get("versions", {}).items()) if v) + ".",
        "",
        "## Rows",
        "",
        "* **pnetc: projection net** — `model.onnx` of `pnetc train` (hashed projection + layers), compiled by",
        "  pnetc in int8 and float32.",
        "* **pnetc: trainer MLP** — the `trainer.onnx` trained with it (a plain float MLP on the pixels), compiled by",
        "  pnetc: int8 (calibrated on 2,000 training samples) and float32.",
        "* **emlearn: sklearn MLP** — an sklearn `MLPClassifier` of the trainer's hidden widths (adam, inputs scaled",
        "  to [0, 1]), converted by `emlearn.convert(mlp).save(file=..., name=...)` (float, emlearn's default net).",
        "* **emlearn: small sklearn MLP** — the same with one hidden layer, the smallest width of 16, 32, 64, 128, 256",
        "  whose test accuracy reaches the int8 projection net's: the usual network at the projection net's",
        "  accuracy (chosen on the test split, which favours the peer).",
        "* **emx-onnx-cgen: trainer MLP** — the same `trainer.onnx` compiled by `emx-onnx-cgen compile",
        "  --input-dim batch=1 --large-weight-threshold 0 --large-temp-threshold 0` (weights as C arrays, no heap).",
        "",
        "The peers are installed from PyPI by `--install-peers` (`bench/requirements.txt`, pinned); none of",
        "their code is kept in this repository.",
        "",
        "## How each number is measured",
        "",
        "* **Same harness for every row** (`bench/templates/harness_main.c.j2`): the board's own startup, linker",
        "  script, I/O and flags from `pnetc/targets`, one adapter `int bench_predict(const void *input)` per row",
        "  (`bench/adapters.py`), built with the same compiler and flags (`-O2`, the board's `cflags`) in the same",
        "  run. Each sample arrives already in the model's own input type (uint8 pixels for the projection net,",
        "  int8 for pnetc's int8 trainer, float for the float rows), prepared on the host, so no input conversion",
        "  is counted for anyone.",
        "* **Accuracy** is the firmware's own answers on the whole test split (every sample, on the board named),",
        "  not a reference; the detail table also counts the answers that differ from the row's own reference",
        "  (pnetc's golden interpreter, sklearn's `predict`, onnxruntime).",
        "* **Flash** = `size -A` delta (text + rodata + data) of the firmware against the same harness with a",
        "  stand-in adapter and no model; on Linux the delta is over symbol sizes (`nm -S`, docs/boards.md).",
        "  **RAM** = static delta (data + bss) plus the stack high-water mark of the inference (painted stack).",
        "* **Instructions per inference**: exact, from the QEMU TCG plugin of `pnetc bench` (`runtime/markers`),",
        "  between `pnet_bench_begin` and `pnet_bench_end` around `bench_predict`, markers' own cost removed;",
        "  mean over the test split (min … max in the detail table). Emulators count instructions, not time.",
        "",
        "Compilers: " + "; ".join(f"{b}: `{v}`" for b, v in results.get("compilers", {}).items()) + ".",
        "",
    ]
    for name, entry in results["datasets"].items():
        lines += [f"## {name} ({entry['samples']:,} test samples)", ""]
        lines += main_table(entry, boards)
        lines += [""]
        chart = img_dir / f"bench-{name}.png"
        if chart in charts:
            lines += [f"![{name}]({relative(chart, out)})", ""]
        lines += ["Targets (issue: projection net ≤ 0.25× the peers' instructions at equal or better accuracy; int8",
                  "dense layers within 1.5× of the MAC lower bound):", ""]
        lines += targets(entry) + [""]
        dl = dense_layers(entry, boards)
        if dl:
            lines += ["Instructions per multiply-accumulate of the int8 dense layers (stage counts from the marks):", ""]
            lines += dl + [""]
        st = stage_table(entry, boards)
        if st:
            lines += ["Where the pnetc rows spend their instructions (stage marks; a stage's marker cost removed):", ""]
            lines += st + [""]
        lines += ["Details:", ""] + detail_table(entry, boards) + [""]
        probe = entry.get("emx_projection_net")
        if probe:
            lines += [f"Can the peers express the projection net itself? emx-onnx-cgen on `model.onnx`: "
                      f"{'yes' if probe == 'compiles' else probe}. emlearn converts scikit-learn/Keras estimators "
                      f"only; it has no hashed projection layer.", ""]
        notes = sorted({n for r in entry["rows"] for n in r.get("notes", [])})
        if notes:
            lines += ["Notes: " + "; ".join(notes) + ".", ""]
    if results.get("bits"):
        from bench.bits import bits_section, plot_bits

        chart = plot_bits(results["bits"], img_dir / "bits.png")
        lines += bits_section(results["bits"], relative(chart, out) if chart is not None else None)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines).rstrip() + "\n")
