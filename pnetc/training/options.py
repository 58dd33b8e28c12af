"""The training options, declared once.

Each `Option` below is the whole truth about one option: the keyword of `pnetc.train(...)`, the
flag and `--help` line of `pnetc train` (and of `pnetc sweep` for the shared ones), its type and
default, the check of its value, and the `TrainConfig` field it sets. The CLI builds its Typer
signature from OPTIONS, the API accepts exactly these keywords, `TrainConfig` takes its fields
from them, and `check` is the one validator of their values (called before any data loads, and
again on the values a data set's defaults filled in).

Adding an option is one entry in OPTIONS (then read `config.<field>` where it acts): see
docs/architecture.md, "Adding a training option". No torch here, so a bad option fails at once.
"""

from __future__ import annotations

import difflib
import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from pnetc.errors import PnetcError
from pnetc.ir.limits import (MAX_BITS, MAX_CHAR_N, MAX_DENSE_WEIGHTS, MAX_LAYER_WIDTH, MAX_SEED, MAX_TEXT_HASHES,
                             TEXT_PROJECTIONS)

TRAINERS = ("mlp", "cnn", "lstm", "none")
DEVICES = ("auto", "cpu", "cuda")
# Loss weights (trainer CE, distillation, projection CE). No distillation by default: over 5 seeds on
# digits no trainer (MLP, CNN), lambda2 (0.1..1) or temperature (1, 4) moved the projection net beyond
# run-to-run noise (docs/results.md, "Distillation ablation"); the trainer is still trained, as the
# float reference model (trainer.onnx).
DEFAULT_LAMBDAS = (1.0, 0.0, 1.0)
# What `pnetc sweep` compares its "alone" runs with: joint training with a distillation term.
DISTILL_LAMBDAS = (1.0, 0.1, 1.0)
# weight bits of the hidden layers after the first (the compiler reads them: pnetc/ir/passes/lowbit.py)
WEIGHT_BITS = (1, 4, 8)
FIRST_LAYER_BITS = (1, 8)


@dataclass(frozen=True)
class Option:
    """One training option. `check` returns what is wrong with a value (in its config form), or None."""

    name: str                                   # keyword of pnetc.train and parameter of `pnetc train`
    type: Any                                   # int, float, str, bool or list[int]; Optional when default is None
    default: Any
    help: str
    flags: tuple[str, ...] = ()                 # CLI spelling; () means --name-with-dashes (--x/--no-x for bools)
    check: Optional[Callable[[Any], Optional[str]]] = None
    choices: tuple[str, ...] = ()
    field: Optional[str] = ""                   # TrainConfig field it sets; "" the same name; None none (run option)
    to_config: Optional[Callable[[Any], Any]] = None  # given value -> the field's value
    sweep: bool = False                         # `pnetc sweep` takes it too
    sweep_help: Optional[str] = None            # its --help there, when it differs
    cli: bool = True                            # False: an API keyword only

    @property
    def cli_flags(self) -> tuple[str, ...]:
        if self.flags:
            return self.flags
        long = "--" + self.name.replace("_", "-")
        switch = self.type in (bool, Optional[bool]) and self.default is not False  # --x/--no-x
        return (f"{long}/--no-{long[2:]}",) if switch else (long,)

    @property
    def flag(self) -> str:
        """How messages name the option: its first flag (`-T`, `--fc`)."""
        return self.cli_flags[0].split("/")[0]

    @property
    def config_field(self) -> Optional[str]:
        return self.name if self.field == "" else self.field

    def config_value(self, value: Any) -> Any:
        return self.to_config(value) if self.to_config is not None else value

    def problem(self, value: Any) -> Optional[str]:
        """What is wrong with a config-form value (None is always fine: the data set's default)."""
        if value is None:
            return None
        if self.choices and value not in self.choices:
            return f"{self.flag} must be one of {', '.join(self.choices)}, got {value!r}"
        return self.check(value) if self.check is not None else None


# ---- value checks (each returns a message or None) -------------------------------------------


def _positive_int(flag: str) -> Callable[[Any], Optional[str]]:
    def check(v):
        if not _is_int(v) or v <= 0:
            return f"{flag} must be a positive integer, got {v!r}"
        return None
    return check


def _positive_float(flag: str) -> Callable[[Any], Optional[str]]:
    def check(v):
        if not (_is_number(v) and 0 < v < math.inf):
            return f"{flag} must be > 0, got {v!r}"
        return None
    return check


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _kind(v):
    from pnetc.hashing import PROJECTION_KINDS  # numpy: loaded when a value is checked, not for --help

    return None if v in PROJECTION_KINDS else f"--kind must be one of {', '.join(PROJECTION_KINDS)}, got {v!r}"


def _density(v):
    return None if _is_number(v) and 0.0 < v <= 1.0 else f"--density must be in (0, 1], got {v!r}"


def _widths(fc):
    if any(not _is_int(w) or w <= 0 for w in fc):
        return f"--fc widths must be positive integers (a single --fc 0 for none), got {fc!r}"
    if any(w > MAX_LAYER_WIDTH for w in fc):
        return f"--fc widths must be at most {MAX_LAYER_WIDTH:,}, got {fc!r}"
    return None


def _lambdas(v):
    if len(v) != 3 or any(not _is_number(x) or not 0 <= x < math.inf for x in v):
        return f"--lambdas must be three finite numbers >= 0, got {v!r}"
    return None


def _bits_choice(flag: str, allowed: tuple[int, ...]) -> Callable[[Any], Optional[str]]:
    def check(v):
        if not _is_int(v) or v not in allowed:
            names = " or ".join(map(str, allowed)) if len(allowed) == 2 else "one of " + ", ".join(map(str, allowed))
            return f"{flag} must be {names}, got {v!r}"
        return None
    return check


def _seed(v):
    return None if _is_int(v) and 0 <= v <= MAX_SEED else f"--seed must be in 0..{MAX_SEED}, got {v!r}"


def _stem(v):
    from pnetc.training.stemspec import stem_problem

    return stem_problem(v)


def _char_max_n(v):
    ok = _is_int(v) and 0 <= v <= MAX_CHAR_N
    return None if ok else f"--char-max-n must be an integer in 0..{MAX_CHAR_N}, got {v!r}"


def _text_hashes(v):
    ok = _is_int(v) and 1 <= v <= MAX_TEXT_HASHES
    return None if ok else f"--text-hashes must be an integer in 1..{MAX_TEXT_HASHES}, got {v!r}"


# ---- conversions to the config's form --------------------------------------------------------


def parse_lambdas(value) -> tuple[float, float, float]:
    """'a,b,c' (or three numbers) -> three floats; None -> the default weights."""
    if value is None:
        return DEFAULT_LAMBDAS
    parts = [p.strip() for p in value.split(",")] if isinstance(value, str) else list(value)
    try:
        values = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3:
        raise PnetcError(f"--lambdas must be three comma-separated numbers like 1.0,0.1,1.0, got {value!r}")
    return values  # type: ignore[return-value]


def _hidden_widths(fc):
    """--fc 0 (or an empty list): no hidden layer, a linear model on the bits."""
    if fc is None:
        return None
    fc = list(fc)
    return [] if fc in ([], [0]) else fc


def _text(v):
    return None if v is None else str(v)


# ---- the schema ------------------------------------------------------------------------------

OPTIONS: tuple[Option, ...] = (
    Option("dataset", str, "digits", "digits, fashion-mnist, langid, or a CSV/JSONL/NPZ/IDX path.", sweep=True,
           to_config=str),
    Option("out", Optional[str], None,
           "Output directory for model.onnx, trainer.onnx, checkpoint.pt (default runs/<dataset>).",
           field=None, to_config=_text),
    Option("data_dir", Optional[str], None, "Where the dataset's files live.", sweep=True, to_config=_text),
    Option("trainer", Optional[str], None,
           "mlp | cnn | lstm | none (default: mlp; none for text: the projection net alone).", choices=TRAINERS,
           sweep=True, sweep_help="mlp | cnn | lstm (default: mlp, lstm for text)."),
    Option("tables", Optional[int], None, "T: projection functions.", flags=("-T", "--tables"),
           check=_positive_int("-T")),
    Option("bits_per_table", Optional[int], None, "d: bits per function.", flags=("-d", "--bits-per-table"),
           check=_positive_int("-d")),
    Option("kind", Optional[str], None, "binary | ternary projection.", check=_kind, sweep=True),
    Option("density", Optional[float], None, "Ternary density rho in (0, 1].", check=_density, sweep=True),
    Option("fc", Optional[list[int]], None, "Hidden layer width (repeat; --fc 0 for none).", check=_widths,
           to_config=_hidden_widths),
    Option("lambdas", Optional[str], None, "l1,l2,l3 loss weights (default 1.0,0.0,1.0: no distillation).",
           check=_lambdas,
           to_config=parse_lambdas, sweep=True,
           sweep_help="l1,l2,l3 of the joint runs (default 1.0,0.1,1.0)."),
    Option("temperature", float, 1.0, "Distillation temperature.", check=_positive_float("--temperature"),
           sweep=True, sweep_help="Distillation temperature of the joint runs."),
    Option("epochs", Optional[int], None, "Training epochs (default: the dataset's).",
           check=_positive_int("--epochs"), sweep=True, sweep_help="Epochs per run (default: the dataset's)."),
    Option("batch_size", Optional[int], None, "Samples per step (default: the dataset's).",
           check=_positive_int("--batch-size")),
    Option("lr", Optional[float], None, "Adam learning rate (default: the dataset's).",
           check=_positive_float("--lr")),
    Option("seed", int, 0, "Seeds the weights, the projection and the data order.", check=_seed, sweep=True),
    Option("device", str, "auto", "auto | cpu | cuda", choices=DEVICES, sweep=True),
    Option("center", bool, True, "Subtract the integer training mean."),
    Option("balance", Optional[bool], None, "Class-weighted loss (default: on for langid, off otherwise)."),
    Option("qat", bool, False, "Int8 quantization-aware fine-tuning in the last epochs."),
    Option("weight_bits", int, 8, "Layers after the first: 8 (int8), 4 (packed int4) or 1 (+-1), trained on "
                                  "their grid.", check=_bits_choice("--weight-bits", WEIGHT_BITS)),
    Option("first_layer_bits", int, 8, "The layer over the bits: 8, or 1 (+-1, trained for --precision binary).",
           check=_bits_choice("--first-layer-bits", FIRST_LAYER_BITS)),
    Option("stem", Optional[str], None, "A learned stem before the projection, trained jointly: dense:H (a dense "
                                        "layer) or conv:C1[,C2] (3x3 conv + ReLU + 2x2 max-pool each, images).",
           check=_stem, to_config=_text),
    Option("projection_only", bool, False, "Train the projection net alone.", field=None),
    Option("trainer_only", bool, False, "Train the trainer alone.", field=None),
    Option("resume", bool, False, "Continue from DIR/checkpoint.pt.", field=None),
    Option("force", bool, False, "Start over in a DIR that holds a run, or write beside files pnetc did not "
                                 "write (never over them).", field=None),
    Option("char_max_n", Optional[int], None, "Text: char n-grams of orders 1..N (0: none).",
           field="text_char_max_n", check=_char_max_n),
    Option("words", Optional[bool], None, "Text: word uni/bi/skip-gram features.", field="text_words"),
    Option("text_projection", Optional[str], None,
           "Text: presence (each feature sets --text-hashes bits) or simhash (every feature moves every bit).",
           choices=TEXT_PROJECTIONS),
    Option("text_hashes", Optional[int], None, "Text, presence projection: bits each feature sets (1..8).",
           check=_text_hashes),
    Option("board", Optional[str], None, "Search the model family within a budget on BOARD (pnetc/budget.py).",
           field=None),
    Option("max_flash", Optional[str], None, "Budget: model flash, e.g. 32K.", field=None),
    Option("max_ram", Optional[str], None, "Budget: model RAM (static + stack), e.g. 8K.", field=None),
    Option("max_instructions", Optional[str], None, "Budget: instructions per inference, e.g. 100k.", field=None),
    Option("plot", Optional[str], None, "Budget search: the frontier as a PNG.", field=None, to_config=_text),
    Option("progress", Optional[bool], None, "Progress bars (None: when stderr is a terminal; the CLI's "
                                             "--quiet turns them off).", field=None, cli=False),
)

BY_NAME = {o.name: o for o in OPTIONS}
BUDGET_LIMITS = ("max_flash", "max_ram", "max_instructions")
# a budget search chooses these itself (pnetc/budget.py)
CHOSEN_BY_BUDGET = ("tables", "bits_per_table", "kind", "density", "fc", "stem")
BY_FIELD = {o.config_field: o for o in OPTIONS if o.config_field}


def for_command(command: str) -> tuple[Option, ...]:
    """The options of `train` (all) or `sweep` (the shared ones)."""
    return OPTIONS if command == "train" else tuple(o for o in OPTIONS if o.sweep)


def with_option_keywords(command: str) -> Callable[[Callable], Callable]:
    """Decorator for `func(..., **options)`: its signature (help(), IDEs) lists its own parameters,
    then every option of `command` as a keyword."""
    def decorate(func: Callable) -> Callable:
        signature = inspect.signature(func)
        own = [p for p in signature.parameters.values() if p.kind != p.VAR_KEYWORD]
        names = {p.name for p in own}
        keywords = [inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=o.default, annotation=o.type)
                    for o in for_command(command) if o.name not in names]
        func.__signature__ = signature.replace(parameters=[*own, *keywords])  # type: ignore[attr-defined]
        return func
    return decorate


# ---- checking ----------------------------------------------------------------------------------


def _type_problem(option: Option, value: Any) -> Optional[str]:
    """The API takes Python values: refuse a wrong type in one line instead of failing deep inside."""
    base = option.type
    args = [a for a in getattr(base, "__args__", ()) if a is not type(None)]
    if getattr(base, "__origin__", None) is not None and len(args) == 1:  # Optional[X]
        base = args[0]
    if value is None:
        return None if option.default is None else f"{option.name} may not be None"
    if option.name == "lambdas" and not isinstance(value, str):
        return None if isinstance(value, (list, tuple)) else f"lambdas must be 'a,b,c' or three numbers, got {value!r}"
    if option.name in BUDGET_LIMITS:  # bytes or counts as numbers, or "32K" / "100k"
        return None if isinstance(value, str) or _is_int(value) else \
            f"{option.name} must be a number or a size like '32K', got {value!r}"
    if option.name in ("out", "data_dir", "plot"):
        return None if isinstance(value, (str, bytes)) or hasattr(value, "__fspath__") else \
            f"{option.name} must be a path, got {value!r}"
    if getattr(base, "__origin__", None) is list:
        if not isinstance(value, (list, tuple)) or not all(_is_int(w) for w in value):
            return f"{option.name} must be a list of integers, got {value!r}"
        return None
    if base is bool:
        return None if isinstance(value, bool) else f"{option.name} must be True or False, got {value!r}"
    if base is int:
        return None if _is_int(value) else f"{option.name} must be an integer, got {value!r}"
    if base is float:
        return None if _is_number(value) else f"{option.name} must be a number, got {value!r}"
    if base is str:
        return None if isinstance(value, str) else f"{option.name} must be a string, got {value!r}"
    return None


def parse(given: dict, command: str = "train") -> dict:
    """The full set of option values for `command`: unknown names and wrong types refused, defaults
    filled in, every value checked (in its config form). Needs no data and no torch."""
    options = for_command(command)
    known = {o.name for o in options}
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PnetcError(f"unknown {command} option {name!r}{hint}; the options are {', '.join(sorted(known))}")
    values = {o.name: given.get(o.name, o.default) for o in options}
    for o in options:
        wrong = _type_problem(o, values[o.name])
        if wrong:
            raise PnetcError(wrong)
    if values.get("projection_only") and values.get("trainer_only"):
        raise PnetcError("--projection-only and --trainer-only exclude each other; pick one")
    check({o.config_field: o.config_value(values[o.name]) for o in options if o.config_field})
    return values


def check(fields: dict) -> None:
    """The one validator of option values: `fields` maps TrainConfig field names to values (None:
    not known yet). Rules that need the data set (trainer vs task, ...) live in config.validate."""
    for name, value in fields.items():
        option = BY_FIELD.get(name)
        wrong = option.problem(value) if option is not None else None
        if wrong:
            raise PnetcError(wrong)
    tables, bits_per_table, fc = fields.get("tables"), fields.get("bits_per_table"), fields.get("fc")
    bits = tables * bits_per_table if tables is not None and bits_per_table is not None else None
    if bits is not None and bits > MAX_BITS:
        raise PnetcError(f"T*d = {bits} bits is too many (at most {MAX_BITS})")
    chain = ([bits] if bits else []) + list(fc or [])
    weights = sum(a * b for a, b in zip(chain, chain[1:]))
    if weights > MAX_DENSE_WEIGHTS:  # before torch tries to allocate it
        raise PnetcError(f"--fc {fc} needs {weights:,} weights; a compiled model may have at most "
                         f"{MAX_DENSE_WEIGHTS:,}")


def config_fields(values: dict) -> dict:
    """TrainConfig keyword arguments from parsed option values (mode from the two --*-only flags)."""
    fields = {o.config_field: o.config_value(values[o.name]) for o in OPTIONS
              if o.config_field and o.name in values}
    if values.get("projection_only"):
        fields["mode"] = "projection-only"
    elif values.get("trainer_only"):
        fields["mode"] = "trainer-only"
    return fields
