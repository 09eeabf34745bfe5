"""The one fit loop used by every torch model in ``likely``."""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from sklearn.base import BaseEstimator

from likely._checks import fraction, instance, options, positive, validate_params
from likely._io import remove_temporaries
from likely.nn.checkpoint import load_safely, save_atomic
from likely.nn.distributed import Shard
from likely.nn.progress import progress_bar

__all__ = ["Trainer", "History"]

log = logging.getLogger(__name__)

Batch = tuple[torch.Tensor | None, ...]
LossFn = Callable[..., torch.Tensor]
MonitorFn = Callable[..., Mapping[str, torch.Tensor]]


@dataclass
class History:
    """Per-epoch record of a fit: mean losses, learning rate, wall time (s) and the model's
    monitored quantities (``monitors``: name -> one value per epoch, see :meth:`Trainer.fit`)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False
    monitors: dict[str, list[float]] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def as_dict(self) -> dict:
        return asdict(self)


def _select(tensors: Sequence[torch.Tensor | None], index: torch.Tensor) -> Batch:
    return tuple(None if t is None else t[index] for t in tensors)


def _slice(tensors: Sequence[torch.Tensor | None], start: int, stop: int) -> Batch:
    return tuple(None if t is None else t[start:stop] for t in tensors)


class Trainer(BaseEstimator):
    """Mini-batch training with AdamW, a learning-rate schedule, early stopping and checkpoints.

    The constructor only stores settings; :meth:`fit` trains a module in place. Estimators
    take a ``Trainer`` as their ``trainer`` hyperparameter, so every model shares this loop.

    Parameters
    ----------
    epochs : int
        Maximum number of passes over the training data.
    batch_size : int
        Events per gradient step: consecutive rows of one shuffle of the data per pass.
    max_steps_per_epoch : int or None
        Cap on the gradient steps of one epoch (None: one pass over the data). With more
        rows than ``batch_size * max_steps_per_epoch``, an epoch takes the next batches of
        the shuffled data and the following epoch goes on from there (a new shuffle after
        each full pass), so the cost of an epoch, and of the fit, no longer grows with the
        sample: a 1M-event sample trains in the time of a 50k-event one, on fresh events
        in every batch. The held-out validation set is then also at most
        ``max_steps_per_epoch * batch_size`` rows (the rest is trained on).
    lr, weight_decay : float
        AdamW learning rate (peak rate for ``"onecycle"``) and decoupled weight decay.
    schedule : {"cosine", "onecycle", "constant"}
        Learning-rate schedule, stepped once per batch.
    max_grad_norm : float or None
        Clip the global gradient norm to this value (None disables clipping).
    val_fraction : float
        Fraction of the training data held out for validation when no validation data
        are given (0 disables validation and early stopping).
    patience : int or None
        Stop after this many epochs without a lower validation loss and restore the best
        state; None trains for all ``epochs`` (the best state is still restored).
    eval_batch_size : int or None
        Events per forward pass of the validation loss and the monitored quantities; None:
        ``max(batch_size, 4096)``. Lower it for networks with large feature maps (seed 004's
        CoDAE on 58 × 72 images needs gigabytes per thousand images).
    progress : bool
        Show a progress bar over epochs.
    checkpoint : str, path or None
        File written atomically after every epoch. If it exists when :meth:`fit` starts,
        training resumes from it, so a killed run loses at most one epoch.
    """

    _parameter_constraints = {
        "epochs": positive(integer=True),
        "batch_size": positive(integer=True),
        "max_steps_per_epoch": positive(integer=True) | None,
        "lr": positive(),
        "weight_decay": positive(allow_zero=True),
        "schedule": options("cosine", "onecycle", "constant"),
        "max_grad_norm": positive() | None,
        "val_fraction": fraction(),
        "patience": positive(integer=True) | None,
        "eval_batch_size": positive(integer=True) | None,
        "progress": instance(bool),
    }

    def __init__(
        self,
        *,
        epochs: int = 100,
        batch_size: int = 256,
        max_steps_per_epoch: int | None = None,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        schedule: str = "cosine",
        max_grad_norm: float | None = 5.0,
        val_fraction: float = 0.2,
        patience: int | None = 10,
        eval_batch_size: int | None = None,
        progress: bool = True,
        checkpoint: str | os.PathLike | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.max_steps_per_epoch = max_steps_per_epoch
        self.lr = lr
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.max_grad_norm = max_grad_norm
        self.val_fraction = val_fraction
        self.patience = patience
        self.eval_batch_size = eval_batch_size
        self.progress = progress
        self.checkpoint = checkpoint

    # ------------------------------------------------------------------ public
    def fit(
        self,
        module: torch.nn.Module,
        loss_fn: LossFn,
        data: Sequence[torch.Tensor | None],
        val_data: Sequence[torch.Tensor | None] | None = None,
        *,
        random_state: int | None = None,
        monitor: MonitorFn | None = None,
        augment: Callable[..., Sequence[torch.Tensor | None]] | None = None,
    ) -> History:
        """Train ``module`` in place by minimizing ``loss_fn(*batch)``.

        Parameters
        ----------
        module : torch.nn.Module
            Already on the device of ``data``.
        loss_fn : callable
            ``loss_fn(*batch) -> scalar tensor``, the mean loss of a batch; ``batch`` holds
            the rows of every tensor in ``data`` (None entries stay None).
        data, val_data : sequence of tensors or None
            Tensors sharing their first dimension (N events). Without ``val_data`` a
            random ``val_fraction`` of ``data`` is held out.
        random_state : int or None
            Seeds the validation split and the shuffling.
        monitor : callable or None
            ``monitor(*batch) -> {name: scalar tensor}``, batch means of quantities to
            record (e.g. a VAE's KL term): after every epoch it runs on the validation data
            (the training data without validation) and ``History.monitors[name]`` gets
            the mean over all rows.
        augment : callable or None
            ``augment(*batch) -> batch``, applied to every training batch before the loss
            (e.g. a random augmentation of each event, drawn anew every epoch); validation
            batches are used as they are. Its own random state is not checkpointed.

        Returns
        -------
        History
        """
        validate_params(self)
        shard = Shard.current()
        shard.broadcast_state(module)
        seed = int(random_state) if random_state is not None else int(torch.seed() % 2**63)
        generator = torch.Generator().manual_seed(shard.broadcast_seed(seed))
        data, val_data = self._split(data, val_data, generator)
        n_rows = _n_rows(data)
        optimizer = torch.optim.AdamW(module.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        steps_per_epoch = math.ceil(n_rows / self.batch_size)
        if self.max_steps_per_epoch is not None:
            steps_per_epoch = min(steps_per_epoch, self.max_steps_per_epoch)
        scheduler = self._scheduler(optimizer, steps_per_epoch)
        state = _LoopState(best_state=copy.deepcopy(module.state_dict()))
        fingerprint = [n_rows, _n_rows(val_data) if val_data else 0, *_widths(data)]
        if self.checkpoint is not None:
            checkpoint = Path(self.checkpoint)
            remove_temporaries(checkpoint.parent, checkpoint.name)  # left by a killed save
            if checkpoint.is_file():
                state = self._resume(module, optimizer, scheduler, generator, fingerprint)

        bar = progress_bar(total=self.epochs, initial=state.epoch, desc="training",
                           enabled=self.progress and shard.rank == 0)
        try:
            while state.epoch < self.epochs and not state.finished:
                start = time.perf_counter()
                train_loss = self._train_epoch(module, loss_fn, data, state, steps_per_epoch, optimizer, scheduler,
                                               generator, augment, shard)
                val_loss = self._evaluate(module, loss_fn, val_data) if val_data else train_loss
                monitored = {} if monitor is None else self._monitor(module, monitor, val_data or data)
                state.record(module, train_loss, val_loss, optimizer, time.perf_counter() - start, self.patience,
                             monitored)
                if self.checkpoint is not None and shard.rank == 0:
                    self._save(module, optimizer, scheduler, generator, state, fingerprint)
                bar.update(1)
                bar.set_postfix(train=f"{train_loss:.4g}", val=f"{val_loss:.4g}")
        finally:
            bar.close()
        module.load_state_dict(state.best_state)
        if not state.finished:
            state.finished = True
            if self.checkpoint is not None and shard.rank == 0:
                self._save(module, optimizer, scheduler, generator, state, fingerprint)
        log.info(
            "trained %d epochs (best %d, val loss %.5g)",
            state.history.epochs, state.history.best_epoch, state.best_loss,
        )
        return state.history

    # ----------------------------------------------------------------- helpers
    def _split(self, data, val_data, generator):
        data = tuple(data)
        n_rows = _n_rows(data)
        if n_rows == 0:
            raise ValueError("data is empty: nothing to train on")
        if val_data is not None:
            val_data = tuple(val_data)
            if _n_rows(val_data) == 0:
                raise ValueError("val_data is empty")
            return data, val_data
        n_val = int(round(self.val_fraction * n_rows))
        if self.max_steps_per_epoch is not None:  # validate on at most what an epoch trains on
            n_val = min(n_val, self.max_steps_per_epoch * self.batch_size)
        if n_val == 0 or n_val == n_rows:
            return data, None
        order = torch.randperm(n_rows, generator=generator).to(_device(data))
        return _select(data, order[n_val:]), _select(data, order[:n_val])

    def _scheduler(self, optimizer, steps_per_epoch):
        total = self.epochs * steps_per_epoch
        if self.schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
        if self.schedule == "onecycle":
            return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.lr, total_steps=total)
        return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)

    def _train_epoch(self, module, loss_fn, data, state: _LoopState, steps: int, optimizer, scheduler, generator,
                     augment, shard: Shard) -> float:
        """``steps`` batches of the shuffled ``data`` (one pass unless ``max_steps_per_epoch`` cuts it);
        with a process group each rank takes its share of every batch and the gradients are summed,
        weighted by rows (likely.nn.distributed)."""
        module.train()
        n_rows, device = _n_rows(data), _device(data)
        total = torch.zeros((), device=device)
        n_seen = 0
        for _ in range(steps):
            rows = state.next_rows(self.batch_size, n_rows, generator, device)
            mine = shard.rows(len(rows))
            batch = _select(data, rows[mine.start:mine.stop])
            optimizer.zero_grad(set_to_none=True)
            if mine.stop > mine.start:  # a rank may get no row of a last batch smaller than the group
                if augment is not None:
                    batch = tuple(augment(*batch))
                loss = loss_fn(*batch)
                (loss * ((mine.stop - mine.start) / len(rows))).backward()
                total += loss.detach() * (mine.stop - mine.start)
            shard.sum_gradients(module)
            if self.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(module.parameters(), self.max_grad_norm)
            optimizer.step()
            scheduler.step()
            n_seen += len(rows)
        # checked once per epoch: a per-step check would stall a GPU on every batch
        mean = shard.sum(total).item() / n_seen
        if not math.isfinite(mean):
            raise FloatingPointError(
                f"training loss became {mean}; lower lr, check the preprocessing or the inputs' ranges"
            )
        return mean

    def _eval_size(self) -> int:
        return max(self.batch_size, 4096) if self.eval_batch_size is None else self.eval_batch_size

    @torch.no_grad()
    def _evaluate(self, module, loss_fn, data) -> float:
        module.eval()
        n_rows, size = _n_rows(data), self._eval_size()
        total = sum(
            loss_fn(*_slice(data, start, start + size)).item() * min(size, n_rows - start)
            for start in range(0, n_rows, size)
        )
        return total / n_rows

    @torch.no_grad()
    def _monitor(self, module, monitor, data) -> dict[str, float]:
        module.eval()
        n_rows, size = _n_rows(data), self._eval_size()
        totals: dict[str, float] = {}
        for start in range(0, n_rows, size):
            batch = _slice(data, start, start + size)
            for name, value in monitor(*batch).items():
                totals[name] = totals.get(name, 0.0) + float(value) * _n_rows(batch)
        return {name: total / n_rows for name, total in totals.items()}

    def _save(self, module, optimizer, scheduler, generator, state, fingerprint) -> None:
        save_atomic(
            {
                "module": module.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "fingerprint": fingerprint,
                **state.as_dict(),
            },
            self.checkpoint,
        )

    def _resume(self, module, optimizer, scheduler, generator, fingerprint) -> _LoopState:
        saved = load_safely(self.checkpoint, map_location=_param_device(module))
        if saved["fingerprint"] != fingerprint:
            raise ValueError(
                f"checkpoint {self.checkpoint} was written for data of shape {saved['fingerprint']}, "
                f"not {fingerprint}; delete it or pass another checkpoint path"
            )
        module.load_state_dict(saved["module"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        generator.set_state(saved["generator"].cpu())
        torch.set_rng_state(saved["torch_rng"].cpu())
        state = _LoopState.from_dict(saved)
        log.info("resuming from %s after epoch %d", self.checkpoint, state.epoch)
        return state


@dataclass
class _LoopState:
    """What the loop must remember between epochs (and across a resume)."""

    best_state: dict
    best_loss: float = math.inf
    bad_epochs: int = 0
    finished: bool = False
    history: History = field(default_factory=History)
    order: torch.Tensor | None = None  # the shuffled rows of the current pass over the data
    cursor: int = 0  # how many of them were taken

    @property
    def epoch(self) -> int:
        return self.history.epochs

    def next_rows(self, batch_size: int, n_rows: int, generator: torch.Generator, device) -> torch.Tensor:
        """The next batch's row indices; a new shuffle when the pass is done."""
        if self.order is None or self.cursor >= n_rows:
            self.order, self.cursor = torch.randperm(n_rows, generator=generator).to(device), 0
        rows = self.order[self.cursor:self.cursor + batch_size]
        self.cursor += len(rows)
        return rows

    def record(self, module, train_loss, val_loss, optimizer, seconds, patience, monitored) -> None:
        history = self.history
        for name, value in monitored.items():
            history.monitors.setdefault(name, []).append(value)
        history.train_loss.append(train_loss)
        history.val_loss.append(val_loss)
        history.lr.append(optimizer.param_groups[0]["lr"])
        history.seconds.append(seconds)
        if val_loss < self.best_loss:
            self.best_loss, self.bad_epochs = val_loss, 0
            history.best_epoch = history.epochs - 1
            self.best_state = copy.deepcopy(module.state_dict())
        else:
            self.bad_epochs += 1
            if patience is not None and self.bad_epochs >= patience:
                self.finished = history.stopped_early = True

    def as_dict(self) -> dict:
        return {
            "best_state": self.best_state,
            "best_loss": self.best_loss,
            "bad_epochs": self.bad_epochs,
            "finished": self.finished,
            "history": self.history.as_dict(),
            # a finished pass needs no order: the next batch reshuffles
            "order": self.order if self.order is not None and self.cursor < len(self.order) else None,
            "cursor": self.cursor,
        }

    @classmethod
    def from_dict(cls, saved: dict) -> _LoopState:
        return cls(
            best_state=saved["best_state"],
            best_loss=saved["best_loss"],
            bad_epochs=saved["bad_epochs"],
            finished=saved["finished"],
            history=History(**saved["history"]),
            order=saved.get("order"),
            cursor=saved.get("cursor", 0),
        )


def _n_rows(tensors: Sequence[torch.Tensor | None]) -> int:
    return next(t.shape[0] for t in tensors if t is not None)


def _widths(tensors: Sequence[torch.Tensor | None]) -> list[int]:
    return [-1 if t is None else int(t[0].numel()) for t in tensors]


def _device(tensors: Sequence[torch.Tensor | None]) -> torch.device:
    return next(t.device for t in tensors if t is not None)


def _param_device(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device
