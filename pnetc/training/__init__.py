"""Training stage (the only place torch is imported): models, joint loss, loop, ONNX export.

`train_with_options` is the single entry point of `pnetc train` and `pnetc.train`; the modules
are options (the option schema), config (the resolved configuration), data (dataset -> bits),
models, loss, loop, export.
"""

from __future__ import annotations

from pathlib import Path


def train_with_options(given: dict, data=None):
    """Train with the given option values (names as in options.OPTIONS; the others take their
    defaults): check them all before any data loads, build the TrainConfig, run the loop.
    `data`: a loaded `pnetc.datasets.Dataset` to train on instead of loading `dataset` by name.
    Returns the loop's result (None on a torchrun rank other than 0)."""
    from pnetc.training.options import config_fields, parse

    values = parse(given)
    from pnetc.training.config import TrainConfig
    from pnetc.training.loop import train

    config = TrainConfig(**config_fields(values))
    out = values["out"]
    if out is None:  # runs/<dataset name>, e.g. runs/digits or runs/mydata for mydata.csv
        out = Path("runs") / (Path(values["dataset"]).stem or "model")
    return train(config, Path(out), resume=values["resume"], force=values["force"], progress=values["progress"],
                 dataset=data)
