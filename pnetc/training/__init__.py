"""Training stage (the only place torch is imported): models, joint loss, loop, ONNX export.

`run_from_cli` is the single entry point of `pnetc train`; the modules are
config (options), data (dataset -> bits), models, loss, loop, export.
"""

from __future__ import annotations

from pathlib import Path


def run_from_cli(
    *,
    dataset: str,
    out: str | None,
    data_dir: str | None = None,
    trainer: str | None = None,
    tables: int | None = None,
    bits_per_table: int | None = None,
    kind: str | None = None,
    density: float | None = None,
    fc: list[int] | None = None,
    lambdas: str | None = None,
    temperature: float = 1.0,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    device: str = "auto",
    center: bool = True,
    balance: bool | None = None,
    qat: bool = False,
    weight_bits: int = 8,
    first_layer_bits: int = 8,
    projection_only: bool = False,
    trainer_only: bool = False,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    quiet: bool = False,
    char_max_n: int | None = None,
    words: bool | None = None,
) -> dict:
    """Turn CLI options into a TrainConfig, train, and return the results (see loop.train)."""
    from pnetc.errors import PnetcError
    from pnetc.training.config import DEFAULT_LAMBDAS, DEVICES, TrainConfig, parse_lambdas

    if projection_only and trainer_only:
        raise PnetcError("--projection-only and --trainer-only exclude each other; pick one")
    if device not in DEVICES:  # checked before loading data: fail fast
        raise PnetcError(f"--device must be one of {', '.join(DEVICES)}, got {device!r}")
    if fc is not None:
        if len(fc) == 1 and fc[0] == 0:
            fc = []  # --fc 0: no hidden layer, a linear model on the bits
        elif any(w <= 0 for w in fc):
            raise PnetcError(f"--fc widths must be positive (use a single --fc 0 for none), got {fc}")
    config = TrainConfig(
        dataset=dataset,
        data_dir=data_dir,
        trainer=trainer,
        tables=tables,
        bits_per_table=bits_per_table,
        kind=kind,
        density=density,
        fc=None if fc is None else list(fc),
        lambdas=parse_lambdas(lambdas) if lambdas is not None else DEFAULT_LAMBDAS,
        temperature=temperature,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        device=device,
        center=center,
        balance=balance,
        qat=qat,
        weight_bits=weight_bits,
        first_layer_bits=first_layer_bits,
        mode="projection-only" if projection_only else "trainer-only" if trainer_only else "joint",
        text_char_max_n=char_max_n,
        text_words=words,
    )
    _precheck(config)
    from pnetc.training.loop import train

    if out is None:  # runs/<dataset name>, e.g. runs/digits or runs/mydata for mydata.csv
        out = str(Path("runs") / (Path(dataset).stem or "model"))
    result = train(config, Path(out), resume=resume, force=force, progress=progress and not quiet)
    return result


def _precheck(config) -> None:
    """Cheap checks that need no data, so obvious mistakes fail before the dataset loads."""
    from pnetc.errors import PnetcError

    for value, flag in ((config.tables, "-T"), (config.bits_per_table, "-d"), (config.epochs, "--epochs"),
                        (config.batch_size, "--batch-size")):
        if value is not None and value <= 0:
            raise PnetcError(f"{flag} must be a positive integer, got {value}")
    from pnetc.training.config import TRAINERS

    if config.trainer is not None and config.trainer not in TRAINERS:
        raise PnetcError(f"unknown trainer {config.trainer!r}; choose one of {', '.join(TRAINERS)}")
    if config.kind is not None and config.kind not in ("binary", "ternary"):
        raise PnetcError(f"--kind must be binary or ternary, got {config.kind!r}")
    if not config.temperature > 0:
        raise PnetcError(f"--temperature must be > 0, got {config.temperature}")
    if config.lr is not None and not config.lr > 0:
        raise PnetcError(f"--lr must be > 0, got {config.lr}")
    if config.density is not None and not 0 < config.density <= 1:
        raise PnetcError(f"--density must be in (0, 1], got {config.density}")
    if config.text_char_max_n is not None and not 0 <= config.text_char_max_n <= 5:
        raise PnetcError(f"--char-max-n must be in 0..5, got {config.text_char_max_n}")

