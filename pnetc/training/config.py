"""The resolved training configuration: TrainConfig (its fields come from the option schema in
options.py), per-dataset defaults, and the rules that need the data set.

No torch here, so the CLI can validate options (and fail with one line) cheaply.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Optional

from pnetc.errors import PnetcError
from pnetc.training.options import BY_FIELD, OPTIONS, check

# For text every trainer reads the raw bytes: mlp is a hashed byte n-gram MLP, cnn a CNN over
# the bytes, lstm an LSTM (pnetc/training/models.py).
# The trainer when none is named: for text, the projection net alone ("none") trained as
# well as with an LSTM teacher, in a fraction of the time (docs/training.md, "Text trainers").
DEFAULT_TRAINER = {"text": "none"}

# Defaults chosen per dataset (measured; see docs/training.md). Anything not listed
# falls back to GENERIC_DEFAULTS. Keys are TrainConfig field names.
DATASET_DEFAULTS: dict[str, dict] = {
    "digits": dict(tables=20, bits_per_table=8, kind="binary", fc=[128], epochs=40, batch_size=64, lr=2e-3),
    "fashion-mnist": dict(tables=60, bits_per_table=12, kind="ternary", density=0.03, fc=[256], epochs=15),
    # 4096 presence bits (1 hash per feature) and a linear layer: 48.5 KB of flash on a Cortex-M,
    # 0.978 on the test spans, 635 instructions per byte (docs/results.md, "Text: language
    # identification runs"); the simhash default before it (2048 bits x FC24) scored 0.952.
    "langid": dict(tables=128, bits_per_table=32, fc=[], epochs=8, batch_size=128, balance=True,
                   text_projection="presence", text_hashes=1),
}
GENERIC_DEFAULTS = dict(
    tables=60, bits_per_table=12, kind="binary", fc=[256], epochs=10, batch_size=128, lr=1e-3, balance=False,
    text_char_max_n=3, text_words=True, text_projection="simhash",
)
# The options that only a text data set reads (a dense one would silently ignore them).
TEXT_ONLY_FIELDS = ("text_char_max_n", "text_words", "text_projection", "text_hashes")
DEFAULT_TEXT_HASHES = 2  # bits a feature sets in a presence projection, when --text-hashes is not given
# (langid: 1 and 2 hashes score the same; package sections: 2 at 0.827, 3 at 0.830, 1 at 0.817)


class _TrainConfigBase:
    """Everything that determines a training run (and so goes into the checkpoint). The option
    fields come from options.OPTIONS; `mode`, `qat_epochs` and `extra` are set by the code."""

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


TrainConfig = dataclasses.make_dataclass(
    "TrainConfig",
    [(o.config_field, o.type, field(default=o.config_value(o.default))) for o in OPTIONS if o.config_field]
    + [("mode", str, field(default="joint")),  # "joint" | "projection-only" | "trainer-only"
       ("qat_epochs", Optional[int], field(default=None)),  # None: the last max(1, epochs // 4) epochs
       ("extra", dict, field(default_factory=dict))],
    bases=(_TrainConfigBase,),
)
TrainConfig.__module__ = __name__
TrainConfig.__doc__ = _TrainConfigBase.__doc__


def scales_with_input(task: str, dataset_name: str) -> bool:
    """Dense data without a preset take sizes from their shape (pnetc.training.sizing)."""
    return task != "text" and dataset_name not in DATASET_DEFAULTS


def resolve(config: TrainConfig, task: str, input_shape: tuple, dataset_name: str, *,
            classes: int | None = None, samples: int | None = None) -> TrainConfig:
    """Fill unset options from the dataset defaults and validate everything. Dense data without a
    preset (given `classes` and `samples`) take sizes that scale with the input; text data without
    a preset a presence projection of sizing.TEXT_BITS and epochs that scale with `samples`.

    Raises PnetcError naming the bad option.
    """
    c = dataclasses.replace(config, lambdas=tuple(config.lambdas), fc=None if config.fc is None else list(config.fc))
    if task != "text":  # checked before the defaults fill these fields in, after their values
        check({name: getattr(c, name) for name in TEXT_ONLY_FIELDS})
        given = [BY_FIELD[name].cli_flags[0] for name in TEXT_ONLY_FIELDS if getattr(c, name) is not None]
        if given:
            raise PnetcError(f"{', '.join(given)} set{'s' if len(given) == 1 else ''} the text featurizer or "
                             f"projection; this data set is {task!r}, so drop {'it' if len(given) == 1 else 'them'}")
    defaults = dict(GENERIC_DEFAULTS)
    defaults.update(DATASET_DEFAULTS.get(dataset_name, {}))
    if classes and samples and scales_with_input(task, dataset_name):
        from pnetc.training.sizing import scaled_defaults

        features = 1
        for dim in input_shape:
            features *= int(dim)
        defaults.update(scaled_defaults(features, classes, samples))
    if task == "text" and dataset_name not in DATASET_DEFAULTS and c.text_projection != "simhash":
        from pnetc.training.sizing import scaled_text_defaults  # presence unless simhash is asked for

        defaults.update(scaled_text_defaults(samples))
    if c.kind is None and c.density is not None:
        c.kind = "ternary"  # --density alone implies a ternary projection
    for key, value in defaults.items():
        if task != "text" and key in TEXT_ONLY_FIELDS:
            continue  # unread off text, and left unset so that a resolved config resolves again alike
        if key == "density" and c.kind not in (None, "ternary"):
            continue  # the dataset's default density belongs to its default (ternary) kind
        if key == "text_hashes" and c.text_projection not in (None, "presence"):
            continue  # and its default hashes to its default (presence) text projection
        if getattr(c, key) is None:
            setattr(c, key, list(value) if isinstance(value, list) else value)
    if c.kind == "ternary" and c.density is None:
        c.density = 0.03
    if c.text_projection == "presence" and c.text_hashes is None:
        c.text_hashes = DEFAULT_TEXT_HASHES
    if c.trainer is None:
        c.trainer = DEFAULT_TRAINER.get(task, "mlp")
    if c.trainer == "none" and c.mode == "joint":
        c.mode = "projection-only"  # no teacher: the projection net learns from the labels alone
    validate(c, task, input_shape)
    return c


def validate(c: TrainConfig, task: str, input_shape: tuple) -> None:
    """The option checks (options.check) on the resolved values, then the rules that need the
    data set or several options together."""
    def bad(msg: str) -> None:
        raise PnetcError(msg)

    check({name: getattr(c, name) for name in BY_FIELD})
    if c.trainer == "none" and c.mode == "trainer-only":
        bad("--trainer none trains no trainer; --trainer-only needs one")
    if task != "text" and c.trainer == "lstm":
        bad(f"trainer 'lstm' is for text datasets; this dataset is {task!r}, use --trainer mlp or cnn")
    if c.trainer == "cnn" and task != "text" and len(input_shape) not in (2, 3):
        bad(f"trainer 'cnn' needs image inputs (H, W); this dataset's input shape is {tuple(input_shape)}")
    if task == "text" and c.kind != "binary":
        bad("text projections are always binary (+-1); drop --kind ternary"
            + (" and --density" if c.density is not None else ""))
    if c.kind == "binary" and c.density is not None:
        bad("--density applies to --kind ternary only")
    if task == "text" and c.text_projection == "simhash" and c.text_hashes is not None:
        bad("--text-hashes sets a presence projection; drop it or add --text-projection presence")
    if task == "text" and c.text_char_max_n == 0 and not c.text_words:
        bad("the text featurizer needs a feature: --char-max-n 0 and --no-words together leave none")
    if c.stem is not None:
        from pnetc.training.stemspec import check_stem_input, parse_stem

        if task == "text":
            bad("--stem is for dense inputs; a text projection reads the text itself")
        check_stem_input(parse_stem(c.stem), tuple(input_shape))
    if c.mode not in ("joint", "projection-only", "trainer-only"):
        bad(f"unknown mode {c.mode!r}")
    if c.qat_epochs is not None and not (0 < c.qat_epochs <= c.epochs):
        bad(f"QAT epochs must be in 1..{c.epochs}, got {c.qat_epochs}")
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
