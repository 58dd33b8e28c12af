"""The training loop: prepare data, train trainer and projection net jointly, checkpoint each
epoch, calibrate, export.

One function per job: `prepare` (data -> bits), `start_session` (seeded models and optimiser),
`resume_session` / `_save_checkpoint` (checkpoint), `epoch_order` (batches), `train_epoch` (one
pass), `evaluate_epoch` (test accuracy), `_progress` / `_epoch_line` (progress and log), `_finish`
(calibrate and export); `train` claims the folder and `_train` runs the epochs.

Determinism: one seed drives the weight init (torch.manual_seed), the projection seed and the
data order (a fresh generator per epoch, seeded from (seed, epoch), so a resumed run sees
exactly the batches an uninterrupted run would). Deterministic algorithms are enforced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pnetc.datasets import DATASET_NAMES
from pnetc.datasets.recorded import data_file_record
from pnetc.errors import PnetcError
from pnetc.hashing import MASK32, ProjectionSpec, TextFeatureSpec, TextProjectionSpec
from pnetc.training import data as tdata
from pnetc.training import distributed
from pnetc.training.config import TrainConfig, resolve, scales_with_input
from pnetc.training.loss import joint_loss
from pnetc.training.models import DenseProjection, ProjectionHead, build_trainer, trainer_weight_bytes

CHECKPOINT = "checkpoint.pt"
EVAL_BATCH = 1024


@dataclass
class Prepared:
    """A dataset turned into tensors: projection bits, trainer inputs and labels."""

    dataset: Any
    config: TrainConfig
    spec: ProjectionSpec | None  # dense inputs
    text_spec: TextFeatureSpec | None  # text inputs
    mean: np.ndarray | None  # int16 [N] (zeros with --no-center; None with a stem: the net holds its own)
    bits_train: torch.Tensor  # float32 {0,1} [n, B]; with a stem, the net's inputs (the quantized values)
    bits_test: torch.Tensor
    xt_train: Any  # trainer inputs: float32 [n, N], or (ids, lengths) for text
    xt_test: Any
    y_train: torch.Tensor
    y_test: torch.Tensor
    sizing: str | None = None  # the line stating sizes chosen from the input's shape

    @property
    def num_classes(self) -> int:
        return len(self.dataset.labels)


def load(config: TrainConfig):
    """Load the dataset named by the config (pnetc.datasets raises PnetcError on bad input)."""
    from pnetc.datasets import load_dataset

    return load_dataset(config.dataset, data_dir=config.data_dir)


def dense_bits(projection: DenseProjection, x: np.ndarray, chunk: int = 4096) -> torch.Tensor:
    out = [projection(torch.from_numpy(x[i : i + chunk].astype(np.int32))) for i in range(0, len(x), chunk)]
    return torch.cat(out) if out else torch.zeros((0, projection.spec.num_bits))


def text_projection_spec(config: TrainConfig) -> TextProjectionSpec:
    """The text projection the resolved options name (simhash, or presence with its hashes)."""
    if config.text_projection == "presence":
        return TextProjectionSpec("presence", int(config.text_hashes))
    return TextProjectionSpec()


def prepare(dataset, config: TrainConfig) -> Prepared:
    """Resolve options against the dataset and compute the exact bits for both splits."""
    task = dataset.task
    config = resolve(config, task, tuple(dataset.input_shape), dataset.name, classes=len(dataset.labels),
                     samples=len(dataset.y_train))
    y_train = torch.as_tensor(np.asarray(dataset.y_train, dtype=np.int64))
    y_test = torch.as_tensor(np.asarray(dataset.y_test, dtype=np.int64))
    if len(y_train) == 0:
        raise PnetcError(f"dataset {dataset.name!r} has no training samples")
    seed = config.seed & MASK32
    if task == "text":
        tspec = TextFeatureSpec(char_max_n=config.text_char_max_n, words=config.text_words)
        tproj = text_projection_spec(config)
        bits_train = torch.from_numpy(tdata.text_projection_bits(dataset.x_train, seed, config.num_bits, tspec, tproj))
        bits_test = torch.from_numpy(tdata.text_projection_bits(dataset.x_test, seed, config.num_bits, tspec, tproj))
        bits_train, bits_test = bits_train.float(), bits_test.float()
        xt_train, xt_test = tdata.encode_bytes(dataset.x_train), tdata.encode_bytes(dataset.x_test)
        return Prepared(dataset, config, None, tspec, None, bits_train, bits_test, xt_train, xt_test, y_train, y_test)
    x_train = np.asarray(dataset.x_train)
    x_test = np.asarray(dataset.x_test)
    if x_train.dtype not in (np.uint8, np.int8):
        raise PnetcError(f"dense inputs must be uint8 or int8, got {x_train.dtype}")
    x_train = x_train.reshape(len(x_train), -1)
    x_test = x_test.reshape(len(x_test), -1)
    n_in = x_train.shape[1]
    if config.stem is not None:  # the bits depend on the stem, which trains: the net reads the values
        from pnetc.training.stemspec import parse_stem

        if dataset.encoding is not None:
            raise PnetcError("--stem reads the data set's values as they are; this one holds float features "
                             "(quantized per feature for the projection), so train it without --stem")
        spec = tdata.projection_spec(config.num_bits, config.kind, seed,
                                     parse_stem(config.stem).output_size(tuple(dataset.input_shape)), config.density)
        xt_train = torch.from_numpy(x_train.astype(np.float32))
        xt_test = torch.from_numpy(x_test.astype(np.float32))
        return Prepared(dataset, config, spec, None, None, xt_train, xt_test, xt_train, xt_test, y_train, y_test)
    mean = tdata.integer_mean(x_train) if config.center else np.zeros(n_in, dtype=np.int16)
    spec = tdata.projection_spec(config.num_bits, config.kind, seed, n_in, config.density)
    projection = DenseProjection(spec, mean)
    bits_train, bits_test = dense_bits(projection, x_train), dense_bits(projection, x_test)
    xt_train = torch.from_numpy(x_train.astype(np.float32))
    xt_test = torch.from_numpy(x_test.astype(np.float32))
    sizing = None
    if scales_with_input(task, dataset.name):
        from pnetc.training.sizing import describe

        sizing = describe(config, int(np.prod(dataset.input_shape)), len(dataset.labels), len(dataset.y_train))
    return Prepared(dataset, config, spec, None, mean, bits_train, bits_test, xt_train, xt_test, y_train, y_test,
                    sizing)


# ---------------------------------------------------------------------------


def _take(x, idx):
    if isinstance(x, tuple):  # (ids, lengths): also trim padding to the longest text in the batch
        ids, lengths = x[0][idx], x[1][idx]
        return ids[:, : int(lengths.max())], lengths
    return x[idx]


def _to(x, device):
    return tuple(t.to(device) for t in x) if isinstance(x, tuple) else x.to(device)


def _size(x) -> int:
    return len(x[0]) if isinstance(x, tuple) else len(x)


def predict(model: nn.Module, x, device) -> torch.Tensor:
    """Argmax predictions in eval mode, batched."""
    model.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, _size(x), EVAL_BATCH):
            idx = torch.arange(i, min(i + EVAL_BATCH, _size(x)))
            xb = _to(_take(x, idx), device)
            preds.append(model(xb).argmax(1).cpu())
    return torch.cat(preds) if preds else torch.zeros(0, dtype=torch.int64)


def calibrate(head: ProjectionHead, bits: torch.Tensor, device) -> dict[str, dict[str, float]]:
    """min/max of every tensor after the projection, over the given (training) bits, float forward."""
    head.eval()
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}
    with torch.no_grad():
        for i in range(0, len(bits), EVAL_BATCH):
            rec: dict[str, torch.Tensor] = {}
            head(bits[i : i + EVAL_BATCH].to(device), record=rec)
            for name, t in rec.items():
                lo[name] = min(lo.get(name, float("inf")), float(t.min()))
                hi[name] = max(hi.get(name, float("-inf")), float(t.max()))
    return {name: {"min": lo[name], "max": hi[name]} for name in head.tensor_names()}


def per_class_accuracy(pred: torch.Tensor, y: torch.Tensor, labels: list[str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for c, name in enumerate(labels):
        m = y == c
        out[str(name)] = round(float((pred[m] == c).float().mean()), 6) if bool(m.any()) else None
    return out


def _device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise PnetcError("--device cuda requested but no CUDA device is available; use --device cpu")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return console, Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}  acc {task.fields[acc]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )


_SAVED_FIELDS = ("dataset", "data_dir", "device")  # may differ between a run and its resume


def _comparable(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if k not in _SAVED_FIELDS}


def dataset_identity(ds) -> dict:
    """What a checkpoint records of its data: the name, the sample counts and a sha256 of every
    sample, label and class name, so --resume on other data is refused however the path is spelt."""
    h = hashlib.sha256()
    for part in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        if isinstance(part, np.ndarray):
            h.update(f"{part.dtype}{part.shape}".encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:  # text: a sequence of byte strings
            for item in part:
                item = bytes(item)
                h.update(len(item).to_bytes(8, "little") + item)
    h.update(json.dumps([str(label) for label in ds.labels]).encode())
    return {"name": str(ds.name), "train": len(ds.y_train), "test": len(ds.y_test), "sha256": h.hexdigest()}


def train(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    dataset=None,
    prepared: Prepared | None = None,
    stop_after: int | None = None,
) -> dict | None:
    """Train, checkpoint every epoch, export DIR/model.onnx (+ DIR/trainer.onnx); return the results.

    DIR is locked while training (a second run into it is refused). A DIR that holds a run needs
    `resume` (continue it; same data and options) or `force` (start over); files pnetc did not write
    are never replaced or deleted (pnetc/outdir.py).
    stop_after: run at most this many epochs in this call, then return None without exporting
    (time-boxed training; `resume=True` continues from the checkpoint).
    """
    from contextlib import nullcontext

    from pnetc import outdir

    started = time.monotonic()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise PnetcError(f"--out {out} exists and is not a directory")
    if prepared is None:
        prepared = prepare(dataset if dataset is not None else load(config), config)
    world = distributed.join(_device(prepared.config.device))  # single-process unless started by torchrun
    # only rank 0 writes; the other ranks of a torchrun job read the checkpoint at most
    with outdir.workspace(out, command="train", force=force) if world.is_main else nullcontext() as folder:
        if folder is not None:
            _claim(folder, resume=resume, force=force)
        try:
            return _train(prepared, world, out, folder, resume=resume, progress=progress, stop_after=stop_after,
                          started=started)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(_interrupted(out / CHECKPOINT)) from None


RUN_FILES = (CHECKPOINT, "model.onnx", "trainer.onnx", "model.md")


def _claim(folder, *, resume: bool, force: bool) -> None:
    """Refuse to mix two runs in one folder: continue one (resume) or start over (force)."""
    folder.refuse_conflicts(RUN_FILES)  # a file of yours named like these is never replaced
    ckpt_path = folder.root / CHECKPOINT
    if resume:
        if not folder.owns(CHECKPOINT):
            raise PnetcError(f"--resume: no checkpoint at {ckpt_path}; run without --resume first")
        return
    previous = [name for name in RUN_FILES if folder.owns(name)]
    if previous and not force:
        shown = [name + (_checkpoint_epoch(ckpt_path) if name == CHECKPOINT else "") for name in previous]
        raise PnetcError(f"--out {folder.root} holds a training run ({', '.join(shown)}); pass --resume "
                         f"to continue it or --force to start over")
    for name in previous:  # --force: the old run's files go; files pnetc did not write stay
        folder.remove(name)


def _checkpoint_epoch(path: Path) -> str:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        return f" at epoch {int(ckpt['epoch'])} of {int(ckpt['config']['epochs'])}"
    except Exception:  # the message is only a courtesy
        return ""


def _interrupted(ckpt_path: Path) -> str:
    return (f"interrupted; {ckpt_path} holds the last finished epoch (pnetc train --resume continues)"
            if ckpt_path.is_file() else "interrupted before the first epoch finished; nothing was saved")


@dataclass
class Session:
    """The models and optimiser state of one run: what a checkpoint holds."""

    trainer: nn.Module
    head: ProjectionHead
    optimizer: torch.optim.Optimizer
    scheduler: Any
    history: list[dict]
    start_epoch: int = 0


def start_session(prepared: Prepared, device) -> Session:
    """Deterministic torch, the seeded models, and their optimiser (only what this mode trains)."""
    cfg = prepared.config
    torch.use_deterministic_algorithms(True)
    # One intra-op thread: the per-batch matrices are small, and on a 2-core machine shared with
    # other work, thread synchronisation cost 5x more wall time than it saved (measured on digits).
    torch.set_num_threads(1)
    torch.manual_seed(cfg.seed)
    ds = prepared.dataset
    trainer = build_trainer(cfg.trainer, ds.x_train, tuple(ds.input_shape), prepared.num_classes).to(device)
    head = ProjectionHead(cfg.num_bits, list(cfg.fc), prepared.num_classes, cfg.weight_bits,
                          cfg.first_layer_bits)
    if cfg.stem is not None:
        from pnetc.training.stem import build_stem_net, input_scale_for
        from pnetc.training.stemspec import parse_stem

        head = build_stem_net(parse_stem(cfg.stem), tuple(ds.input_shape), prepared.bits_train.shape[1],
                              input_scale_for(ds.x_train), prepared.spec, head)
    head = head.to(device)
    params = []
    if cfg.trains_trainer:
        params += list(trainer.parameters())
    if cfg.trains_projection:
        params += list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    return Session(trainer, head, optimizer, scheduler, history=[])


def resume_session(session: Session, ckpt_path: Path, cfg: TrainConfig, data: dict, device) -> None:
    """Load the checkpoint into the session; refuse other data or other options."""
    if not ckpt_path.is_file():
        raise PnetcError(f"--resume: no checkpoint at {ckpt_path}; run without --resume first")
    ckpt = torch.load(ckpt_path, map_location=device, weights_only=True)  # never unpickle code from a folder
    _check_same_data(ckpt_path, ckpt.get("data"), data)
    if _comparable(ckpt["config"]) != _comparable(cfg.to_dict()):
        diff = sorted(k for k, v in _comparable(cfg.to_dict()).items() if ckpt["config"].get(k) != v)
        raise PnetcError(f"--resume: options differ from the checkpoint's ({', '.join(diff)}); use the same options")
    session.trainer.load_state_dict(ckpt["trainer"])
    session.head.load_state_dict(ckpt["head"])
    session.optimizer.load_state_dict(ckpt["optimizer"])
    session.scheduler.load_state_dict(ckpt["scheduler"])
    session.head.qat_ranges = ckpt["qat_ranges"]
    session.history = ckpt["history"]
    session.start_epoch = ckpt["epoch"]


def epoch_order(n: int, cfg: TrainConfig, world, epoch: int) -> torch.Tensor:
    """The sample order of an epoch: a fresh generator seeded from (seed, epoch), so a resumed run
    sees exactly the batches an uninterrupted one would (this rank's share when distributed)."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed((cfg.seed << 20) + epoch))
    return world.epoch_order(order, epoch, cfg.seed)


def train_epoch(session: Session, prepared: Prepared, steps_of, order: torch.Tensor, steps: int, device,
                class_weight, on_step) -> tuple[float, int, int]:
    """One pass over the batches of `order`; returns (summed loss, correct, seen) of this rank.
    steps_of: the (trainer, head) forward functions (DDP-wrapped when distributed)."""
    cfg = prepared.config
    lambdas = cfg.effective_lambdas
    trainer_step, head_step = steps_of
    session.trainer.train(cfg.trains_trainer)
    session.head.train(cfg.trains_projection)
    total_loss, correct, seen = 0.0, 0, 0
    for s in range(steps):
        idx = order[s * cfg.batch_size : (s + 1) * cfg.batch_size]
        y = prepared.y_train[idx].to(device)
        t_logits = trainer_step(_to(_take(prepared.xt_train, idx), device)) if lambdas[0] + lambdas[1] > 0 else None
        p_logits = head_step(prepared.bits_train[idx].to(device)) if lambdas[1] + lambdas[2] > 0 else None
        loss, _ = joint_loss(t_logits, p_logits, y, lambdas, cfg.temperature, class_weight)
        session.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        session.optimizer.step()
        shown = p_logits if p_logits is not None else t_logits
        correct += int((shown.argmax(1) == y).sum())
        seen += len(y)
        total_loss += float(loss.detach()) * len(y)
        on_step(total_loss / seen, correct / seen)
    session.scheduler.step()
    return total_loss, correct, seen


def evaluate_epoch(session: Session, prepared: Prepared, device, epoch: int, loss: float) -> dict:
    """The history record of an epoch: mean loss and the test accuracy of each trained model."""
    cfg = prepared.config
    record = {"epoch": epoch + 1, "loss": round(loss, 6)}
    if cfg.trains_trainer:
        record["trainer_accuracy"] = _accuracy(session.trainer, prepared.xt_test, prepared.y_test, device)
    if cfg.trains_projection:
        record["projection_accuracy"] = _accuracy(session.head, prepared.bits_test, prepared.y_test, device)
    return record


def _epoch_line(record: dict) -> str:
    return (f"epoch {record['epoch']}: loss {record['loss']:.4f}"
            + "".join(f"  {k} {v:.4f}" for k, v in record.items() if k.endswith("accuracy")))


def _train(prepared: Prepared, world, out: Path, folder, *, resume: bool, progress: bool, stop_after: int | None,
           started: float) -> dict | None:
    """Epochs from the start (or the checkpoint) to the end, a checkpoint after each; then export."""
    cfg = prepared.config
    data = dataset_identity(prepared.dataset)
    device = world.device
    progress = progress and world.is_main
    session = start_session(prepared, device)
    qat_start = cfg.epochs - (cfg.qat_epochs or max(1, cfg.epochs // 4)) if cfg.qat else None
    if resume:
        resume_session(session, out / CHECKPOINT, cfg, data, device)
    head = session.head
    class_weight = balanced_weights(prepared.y_train, prepared.num_classes).to(device) if cfg.balance else None
    n = len(prepared.y_train)
    steps = world.num_steps(n, cfg.batch_size)
    steps_of = (world.wrap(session.trainer), world.wrap(head))  # DDP-wrapped when distributed
    console, bar = _progress(progress)
    with bar:
        task = bar.add_task("train", total=steps, loss=0.0, acc="-")
        for epoch in range(session.start_epoch, cfg.epochs):
            if cfg.stem is not None and epoch >= stem_freeze_epoch(cfg) and not head.frozen:
                head.freeze(prepared.bits_train.to(device))  # the int8 grid and centre the compiler uses
            if qat_start is not None and epoch >= qat_start and head.qat_ranges is None:
                cal = calibrate(head, prepared.bits_train, device)
                head.qat_ranges = {k: (v["min"], v["max"]) for k, v in cal.items() if k != "bits"}
            order = epoch_order(n, cfg, world, epoch)
            bar.reset(task, total=steps, description=f"epoch {epoch + 1}/{cfg.epochs}", loss=0.0, acc="-")
            total_loss, correct, seen = train_epoch(
                session, prepared, steps_of, order, steps, device, class_weight,
                on_step=lambda loss, acc: bar.update(task, advance=1, loss=loss, acc=f"{acc:.4f}"))
            total_loss, correct, seen = world.sum_metrics(total_loss, correct, seen)
            record = evaluate_epoch(session, prepared, device, epoch, total_loss / seen)
            session.history.append(record)
            if progress:
                console.print(_epoch_line(record))
            if world.is_main:
                _save_checkpoint(folder, cfg, data, epoch + 1, session)
            if stop_after is not None and epoch + 1 - session.start_epoch >= stop_after and epoch + 1 < cfg.epochs:
                return None

    return world.finish(lambda: _finish(prepared, session.trainer, head, device, out, folder, session.history,
                                        started), session.history, session.trainer, head)


def stem_freeze_epoch(cfg: TrainConfig) -> int:
    """The epoch from which a stem's output grid and centre are fixed: the last quarter fine-tunes on them."""
    return cfg.epochs - max(1, cfg.epochs // 4) if cfg.epochs > 1 else 0


def _check_same_data(ckpt_path: Path, saved: dict | None, data: dict) -> None:
    if saved is None:
        raise PnetcError(f"--resume: {ckpt_path} does not record its data set (an older pnetc wrote it); "
                         f"start over with --force or use another --out")
    if saved.get("sha256") != data["sha256"]:
        same = saved.get("name") == data["name"]
        was = f"{saved.get('name')!r} ({saved.get('train')} training samples)"
        now = f"{data['name']!r} ({data['train']} training samples)"
        raise PnetcError(f"--resume: {ckpt_path} was trained on {was}, " +
                         (f"whose data has changed to {now}" if same else f"not on {now}") +
                         "; resume with the same data, or use --force or another --out to start over")


def balanced_weights(y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Per-class loss weights n / (C * count_c), so every class weighs the same in total (0 if absent)."""
    counts = torch.bincount(y, minlength=num_classes).to(torch.float32)
    present = counts > 0
    w = torch.zeros(num_classes, dtype=torch.float32)
    w[present] = len(y) / (int(present.sum()) * counts[present])
    return w


def _accuracy(model, x, y, device) -> float:
    return round(float((predict(model, x, device) == y).float().mean()), 6) if len(y) else float("nan")


def _save_checkpoint(folder, cfg, data: dict, epoch: int, session: Session) -> None:
    state = {
        "config": cfg.to_dict(),
        "data": data,
        "epoch": epoch,
        "trainer": session.trainer.state_dict(),
        "head": session.head.state_dict(),
        "optimizer": session.optimizer.state_dict(),
        "scheduler": session.scheduler.state_dict(),
        "qat_ranges": session.head.qat_ranges,
        "history": session.history,
    }
    with folder.writing(CHECKPOINT) as tmp:  # an interrupted save leaves the previous checkpoint intact
        torch.save(state, tmp)


def _finish(prepared: Prepared, trainer, head, device, out: Path, folder, history: list[dict], started: float) -> dict:
    from pnetc import outdir
    from pnetc.training import export

    cfg = prepared.config
    ds = prepared.dataset
    labels = [str(label) for label in ds.labels]
    result: dict[str, Any] = {
        "dataset": ds.name,
        "trainer": cfg.trainer,
        "mode": cfg.mode,
        "trainer_accuracy": None,
        "projection_accuracy": None,
        "projection_bits": cfg.num_bits,
        "weight_bytes": head.weight_bytes(),
        "trainer_weight_bytes": trainer_weight_bytes(trainer),
    }
    if prepared.sizing:
        result["defaults"] = prepared.sizing
    if cfg.trains_trainer:
        pred = predict(trainer, prepared.xt_test, device)
        result["trainer_accuracy"] = round(float((pred == prepared.y_test).float().mean()), 6)
        trainer_path = out / "trainer.onnx"
        with folder.writing("trainer.onnx") as tmp:
            export.export_trainer(trainer.cpu(), prepared.xt_test, tmp)
        result["trainer_model"] = str(trainer_path)
    if cfg.trains_projection:
        pred = predict(head, prepared.bits_test, device)
        result["projection_accuracy"] = round(float((pred == prepared.y_test).float().mean()), 6)
        result["per_class_accuracy"] = per_class_accuracy(pred, prepared.y_test, labels)
        calibration = calibrate(head, prepared.bits_train, device)
        sim = _fake_int8_accuracy(head, calibration, prepared, device)
        result["projection_accuracy_int8_sim"] = sim
        training = {k: result[k] for k in ("trainer_accuracy", "projection_accuracy", "projection_accuracy_int8_sim")}
        training.update(
            per_class_accuracy=result["per_class_accuracy"],
            dataset=ds.name,
            trainer=cfg.trainer,
            mode=cfg.mode,
            lambdas=list(cfg.effective_lambdas),
            temperature=cfg.temperature,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            seed=cfg.seed,
            fc=list(cfg.fc),
            qat=cfg.qat,
            center=cfg.center,
            balance=cfg.balance,
            history=history,
        )
        if cfg.weight_bits != 8:  # read by the compiler (pnetc/ir/passes/lowbit.py); absent means int8
            training["weight_bits"] = cfg.weight_bits
        if cfg.first_layer_bits != 8:  # informational: --precision binary compiles these +-alpha exactly
            training["first_layer_bits"] = cfg.first_layer_bits
        if cfg.stem is not None:
            training["stem"] = cfg.stem
        data_file = data_file_record(cfg.dataset, out)
        if data_file is not None:  # eval, verify, run and bench find it again (pnetc.datasets.recorded)
            training["data_file"] = data_file
        model_path = out / "model.onnx"
        with folder.writing("model.onnx") as tmp:
            export.export_projection_model(
                tmp,
                head.cpu(),
                task=ds.task,
                labels=labels,
                input_info=_input_info(ds, prepared),
                tables=cfg.tables,
                bits_per_table=cfg.bits_per_table,
                spec=prepared.spec,
                text_spec=prepared.text_spec,
                text_projection=text_projection_spec(cfg) if prepared.text_spec is not None else None,
                seed=cfg.seed & MASK32,
                density=cfg.density,
                mean=prepared.mean,
                calibration=calibration,
                training=training,
            )
        result["model"] = str(model_path)
        _write_card(folder, prepared, pred, result, data_file, outdir.sha256_file(model_path))
    else:
        result["model"] = result["trainer_model"]
    result["epochs"] = cfg.epochs
    result["seconds"] = round(time.monotonic() - started, 2)
    return result


def _write_card(folder, prepared: Prepared, pred: torch.Tensor, result: dict, data_file, model_sha256: str) -> None:
    """model.md beside model.onnx (pnetc.training.card), written through the run's workspace."""
    from pnetc.metrics import classification_report
    from pnetc.training.card import model_card

    ds, cfg = prepared.dataset, prepared.config
    labels = [str(label) for label in ds.labels]
    builtin = cfg.dataset in DATASET_NAMES
    how = ("the data set's own split" if builtin else
           "the file's split column or x_test/y_test arrays when given, else a stratified 80/20 split by each "
           "sample's sha256")
    options = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("dataset", "data_dir", "device", "extra")}
    options["lambdas"] = list(cfg.effective_lambdas)
    if ds.task != "text":
        options = {k: v for k, v in options.items() if not k.startswith("text_")}
    text = model_card(
        model_sha256=model_sha256,
        data={"name": ds.name, "source": getattr(ds, "source", ""), "task": ds.task, "file": data_file,
              "identity": dataset_identity(ds)["sha256"]},
        split={"train": len(ds.y_train), "test": len(ds.y_test), "how": how},
        figures=classification_report(prepared.y_test.numpy(), pred.cpu().numpy(), labels),
        result=result, options=options, labels=labels)
    folder.write_text("model.md", text)


def _fake_int8_accuracy(head: ProjectionHead, calibration: dict, prepared: Prepared, device) -> float:
    """Accuracy with int8 per-channel weights and int8 per-tensor activations over the
    calibration ranges (fake quantization): an estimate of the int8 deployment."""
    saved, mode = head.qat_ranges, head.training
    head.qat_ranges = {k: (v["min"], v["max"]) for k, v in calibration.items() if k != "bits"}
    head.train(True)  # fake quant is active in train mode; the head has no dropout/batchnorm
    try:
        with torch.no_grad():
            preds = [
                head(prepared.bits_test[i : i + EVAL_BATCH].to(device)).argmax(1).cpu()
                for i in range(0, len(prepared.bits_test), EVAL_BATCH)
            ]
    finally:
        head.qat_ranges, head.training = saved, mode
        head.train(mode)
    pred = torch.cat(preds) if preds else torch.zeros(0, dtype=torch.int64)
    return round(float((pred == prepared.y_test).float().mean()), 6)


def _input_info(ds, prepared: Prepared) -> dict:
    if ds.task == "text":
        return {"dtype": "bytes"}
    x = np.asarray(ds.x_train)
    info = {
        "dtype": str(x.dtype),
        "size": int(prepared.xt_train.shape[1]),
        "shape": [int(s) for s in ds.input_shape],
        "scale": float(ds.scale),
        "zero_point": int(ds.zero_point),
    }
    if ds.encoding is not None:  # float features: one scale and zero point each (docs/format.md)
        info.update(ds.encoding.to_metadata())
    if prepared.config.stem is not None:  # a stem reads the values as float32 (the compiler quantizes them)
        info["dtype"] = "float32"
    return info
