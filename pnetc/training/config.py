"""Training options: one dataclass, validated once, with per-dataset defaults.

No torch here, so the CLI can validate options (and fail with one line) cheaply.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from pnetc.errors import PnetcError
from pnetc.hashing import MASK32, PROJECTION_KINDS

TRAINERS = ("mlp", "cnn", "lstm", "none")
TEXT_TRAINERS = ("lstm", "none")
# The trainer when none is named: for text, the projection net alone ("none") trained as
# well as with an LSTM teacher, in a fraction of the time (docs/training.md, "Text trainers").
DEFAULT_TRAINER = {"text": "none"}
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

# Defaults chosen per dataset (measured; see docs/training.md). Anything not listed
# falls back to GENERIC_DEFAULTS. Keys are TrainConfig field names.
DATASET_DEFAULTS: dict[str, dict] = {
    "digits": dict(tables=20, bits_per_table=8, kind="binary", fc=[128], epochs=40, batch_size=64, lr=2e-3),
    "fashion-mnist": dict(tables=60, bits_per_table=12, kind="ternary", density=0.03, fc=[256], epochs=15),
    # 1024 bits x FC48: about 55 KB of flash on a Cortex-M (docs/benchmarks.md, "Text").
    "langid": dict(tables=64, bits_per_table=16, fc=[48], epochs=8, batch_size=128, balance=True),
}
GENERIC_DEFAULTS = dict(
    tables=60, bits_per_table=12, kind="binary", fc=[256], epochs=10, batch_size=128, lr=1e-3, balance=False,
    text_char_max_n=3, text_words=True,
)


@dataclass
class TrainConfig:
    """Everything that determines a training run (and so goes into the checkpoint)."""

    dataset: str = "digits"
    data_dir: str | None = None
    trainer: str | None = None  # None: DEFAULT_TRAINER (mlp for images/features); "none": projection net alone
    tables: int | None = None  # T
    bits_per_table: int | None = None  # d
    kind: str | None = None  # "binary" | "ternary"
    density: float | None = None  # ternary only
    fc: list[int] | None = None  # hidden layer widths of the projection net ([] = linear)
    lambdas: tuple[float, float, float] = DEFAULT_LAMBDAS
    temperature: float = 1.0
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int = 0
    center: bool = True
    balance: bool | None = None  # class-weighted CE on the label terms (n / (C * count_c))
    qat: bool = False
    weight_bits: int = 8  # hidden layers after the first: 8 (int8), 4 (int4) or 1 (+-alpha), trained by STE
    first_layer_bits: int = 8  # the layer over the bits: 8, or 1 (+-alpha by STE, for --precision binary)
    qat_epochs: int | None = None  # None: the last max(1, epochs // 4) epochs
    mode: str = "joint"  # "joint" | "projection-only" | "trainer-only"
    device: str = "auto"
    text_char_max_n: int | None = None  # char n-grams of orders 1..n (0: none); text only
    text_words: bool | None = None  # word unigrams, bigrams and skip-grams; text only
    extra: dict = field(default_factory=dict)

    @property
    def num_bits(self) -> int:
        return int(self.tables) * int(self.bits_per_table)

    @property
    def effective_lambdas(self) -> tuple[float, float, float]:
        l1, l2, l3 = self.lambdas
        if self.mode == "projection-only":
            return (0.0, 0.0, l3)
        if self.mode == "trainer-only":
            return (l1, 0.0, 0.0)
        return (l1, l2, l3)

    @property
    def trains_trainer(self) -> bool:
        return self.mode != "projection-only"

    @property
    def trains_projection(self) -> bool:
        return self.mode != "trainer-only"

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["lambdas"] = list(self.lambdas)
        return d


def parse_lambdas(text: str) -> tuple[float, float, float]:
    """'a,b,c' -> three non-negative floats."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 3:
        raise PnetcError(f"--lambdas must be three comma-separated numbers like 1.0,0.1,1.0, got {text!r}")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise PnetcError(f"--lambdas must be three comma-separated numbers like 1.0,0.1,1.0, got {text!r}") from None
    if any(v < 0 or v != v or v == float("inf") for v in values):
        raise PnetcError(f"--lambdas must be finite and >= 0, got {text!r}")
    return values  # type: ignore[return-value]


def resolve(config: TrainConfig, task: str, input_shape: tuple, dataset_name: str) -> TrainConfig:
    """Fill unset options from the dataset defaults and validate everything.

    Raises PnetcError naming the bad option.
    """
    c = dataclasses.replace(config, lambdas=tuple(config.lambdas), fc=None if config.fc is None else list(config.fc))
    defaults = dict(GENERIC_DEFAULTS)
    defaults.update(DATASET_DEFAULTS.get(dataset_name, {}))
    if c.kind is None and c.density is not None:
        c.kind = "ternary"  # --density alone implies a ternary projection
    for key, value in defaults.items():
        if key == "density" and c.kind not in (None, "ternary"):
            continue  # the dataset's default density belongs to its default (ternary) kind
        if getattr(c, key) is None:
            setattr(c, key, list(value) if isinstance(value, list) else value)
    if c.kind == "ternary" and c.density is None:
        c.density = 0.03
    if c.trainer is None:
        c.trainer = DEFAULT_TRAINER.get(task, "mlp")
    if c.trainer == "none" and c.mode == "joint":
        c.mode = "projection-only"  # no teacher: the projection net learns from the labels alone
    validate(c, task, input_shape)
    return c


def validate(c: TrainConfig, task: str, input_shape: tuple) -> None:
    def bad(msg: str) -> None:
        raise PnetcError(msg)

    if c.trainer not in TRAINERS:
        bad(f"unknown trainer {c.trainer!r}; choose one of {', '.join(TRAINERS)}")
    if task == "text" and c.trainer not in TEXT_TRAINERS:
        bad(f"trainer {c.trainer!r} needs dense inputs; use --trainer {' or '.join(TEXT_TRAINERS)} for text datasets")
    if c.trainer == "none" and c.mode == "trainer-only":
        bad("--trainer none trains no trainer; --trainer-only needs one")
    if task != "text" and c.trainer == "lstm":
        bad(f"trainer 'lstm' is for text datasets; this dataset is {task!r}, use --trainer mlp or cnn")
    if c.trainer == "cnn" and len(input_shape) not in (2, 3):
        bad(f"trainer 'cnn' needs image inputs (H, W); this dataset's input shape is {tuple(input_shape)}")
    for name, flag in (("tables", "-T"), ("bits_per_table", "-d")):
        v = getattr(c, name)
        if not isinstance(v, int) or v <= 0:
            bad(f"{flag} must be a positive integer, got {v!r}")
    if c.num_bits > 1 << 16:
        bad(f"T*d = {c.num_bits} bits is too many (at most 65536)")
    if c.kind not in PROJECTION_KINDS:
        bad(f"--kind must be one of {', '.join(PROJECTION_KINDS)}, got {c.kind!r}")
    if task == "text" and c.kind != "binary":
        bad("text projections are always binary (+-1); drop --kind ternary")
    if c.kind == "ternary" and not (c.density is not None and 0.0 < c.density <= 1.0):
        bad(f"--density must be in (0, 1], got {c.density!r}")
    if c.kind == "binary" and c.density is not None:
        bad("--density applies to --kind ternary only")
    if not isinstance(c.text_char_max_n, int) or not 0 <= c.text_char_max_n <= 5:
        bad(f"--char-max-n must be an integer in 0..5, got {c.text_char_max_n!r}")
    if task == "text" and c.text_char_max_n == 0 and not c.text_words:
        bad("the text featurizer needs a feature: --char-max-n 0 and --no-words together leave none")
    if any((not isinstance(w, int)) or w <= 0 for w in c.fc):
        bad(f"--fc widths must be positive integers, got {c.fc!r}")
    if len(c.lambdas) != 3 or any(v < 0 for v in c.lambdas):
        bad(f"--lambdas must be three numbers >= 0, got {c.lambdas!r}")
    if not c.temperature > 0 or c.temperature == float("inf"):
        bad(f"--temperature must be > 0, got {c.temperature!r}")
    if not isinstance(c.epochs, int) or c.epochs <= 0:
        bad(f"--epochs must be a positive integer, got {c.epochs!r}")
    if not isinstance(c.batch_size, int) or c.batch_size <= 0:
        bad(f"--batch-size must be a positive integer, got {c.batch_size!r}")
    if not (c.lr > 0 and c.lr < float("inf")):
        bad(f"--lr must be > 0, got {c.lr!r}")
    if not 0 <= c.seed <= MASK32:
        bad(f"--seed must be in 0..{MASK32}, got {c.seed}")
    if c.mode not in ("joint", "projection-only", "trainer-only"):
        bad(f"unknown mode {c.mode!r}")
    if c.device not in DEVICES:
        bad(f"--device must be one of {', '.join(DEVICES)}, got {c.device!r}")
    if c.qat_epochs is not None and not (0 < c.qat_epochs <= c.epochs):
        bad(f"QAT epochs must be in 1..{c.epochs}, got {c.qat_epochs}")
    if isinstance(c.weight_bits, bool) or c.weight_bits not in WEIGHT_BITS:
        bad(f"--weight-bits must be one of {', '.join(map(str, WEIGHT_BITS))}, got {c.weight_bits!r}")
    if isinstance(c.first_layer_bits, bool) or c.first_layer_bits not in (1, 8):
        bad(f"--first-layer-bits must be 1 or 8, got {c.first_layer_bits!r}")
    if c.weight_bits != 8 and not c.fc:
        bad("--weight-bits sets the layers after the first; a linear net (--fc 0) has none")
    if c.qat and c.mode == "trainer-only":
        bad("--qat fine-tunes the projection net; it cannot be combined with --trainer-only")
    l1, l2, l3 = c.effective_lambdas
    if c.trains_projection and l2 + l3 == 0:
        bad("the projection net gets no loss: lambda2 + lambda3 must be > 0 (or use --trainer-only)")
    if c.trains_trainer and l1 == 0 and c.mode == "trainer-only":
        bad("--trainer-only needs lambda1 > 0")
    if c.mode == "joint" and l1 == 0 and l2 > 0:
        bad("distillation (lambda2 > 0) needs a trained trainer (lambda1 > 0)")
