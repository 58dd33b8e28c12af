"""The model card: `train` writes model.md beside model.onnx, a page a person can read to know
what the model was trained on, how it was split, how well it does per class, how big it is and
which options made it. Markdown, built from the training result only (no torch here)."""

from __future__ import annotations

from typing import Optional


def _pct(v: Optional[float]) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def _fig(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.4f}"


def _cell(text) -> str:
    """A markdown table cell: pipes and line breaks of user labels kept out of the table syntax."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def model_card(*, model_sha256: str, data: dict, split: dict, figures: dict, result: dict,
               options: dict, labels: list[str]) -> str:
    """data: name, source, file ({path, sha256} or None), identity sha256. split: train, test, how.
    figures: metrics.classification_report of the float32 projection net on the test split.
    result: the training result (accuracies, bits, weight bytes). options: the resolved options."""
    lines = [f"# Model card: {_cell(data['name'])}", "",
             "Written by `pnetc train`. Figures are on the test split, which training never saw.", "",
             "## Files", "",
             "| file | sha256 |", "|---|---|",
             f"| model.onnx | `{model_sha256}` |"]
    if data.get("file"):
        lines.append(f"| data: {_cell(data['file']['path'])} (relative to this folder) | `{data['file']['sha256']}` |")
    lines += ["", "## Data", "",
              f"- data set: {_cell(data['name'])}" + (f" ({_cell(data['source'])})" if data.get("source") else ""),
              f"- task: {data['task']}, {len(labels)} classes",
              f"- split: {split['train']:,} training and {split['test']:,} test samples ({split['how']})",
              f"- samples and labels sha256: `{data['identity']}`", "",
              "## Accuracy", "",
              "| model | test accuracy |", "|---|---|",
              f"| projection net, float32 | {_pct(result.get('projection_accuracy'))} |",
              f"| projection net, int8 (fake-quantized estimate; `pnetc eval --precision int8` is exact) "
              f"| {_pct(result.get('projection_accuracy_int8_sim'))} |"]
    if result.get("trainer_accuracy") is not None:
        lines.append(f"| trainer ({_cell(options.get('trainer'))}), float32 | {_pct(result['trainer_accuracy'])} |")
    lines += ["", f"Macro F1 (float32): {_fig(figures.get('macro_f1'))}", "",
              "## Per class (float32 projection net)", "",
              "| class | samples | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
    for label, v in figures["per_class"].items():
        lines.append(f"| {_cell(label)} | {v['samples']} | {_fig(v['precision'])} | {_fig(v['recall'])} | "
                     f"{_fig(v['f1'])} |")
    weights = int(result.get("weight_bytes") or 0)
    lines += ["", "## Size", "",
              f"- projection: {result.get('projection_bits')} bits "
              f"(T={options.get('tables')} x d={options.get('bits_per_table')}, {options.get('kind')})",
              f"- projection net: {weights // 4:,} parameters, {weights:,} bytes as float32 "
              f"(about {weights // 4:,} bytes of int8 weights; `pnetc compile` gives the exact figure)",
              f"- trainer: {int(result.get('trainer_weight_bytes') or 0):,} bytes as float32 (not deployed)", "",
              "## Options", "", "| option | value |", "|---|---|"]
    for key, value in options.items():
        lines.append(f"| {_cell(key)} | {_cell(value)} |")
    return "\n".join(lines) + "\n"
