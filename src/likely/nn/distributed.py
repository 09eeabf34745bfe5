"""Data-parallel training with ``torch.distributed``: several processes share every batch.

When a process group is initialized (:func:`data_parallel` does it), :class:`~likely.nn.Trainer`
trains data-parallel: every process draws the same shuffled batches (the shuffling generator
and the initial parameters are broadcast from rank 0), takes its contiguous share of each
batch's rows, and the gradients are summed over processes, each share weighted by its
rows, before one identical optimizer step everywhere. The result is the single-process
training with the same batch size up to floating-point summation order
(``tests/test_distributed.py``). The gloo backend runs on CPU processes; nccl the same code
on GPUs. Only rank 0 writes checkpoints and shows progress.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["Shard", "data_parallel"]


@dataclass(frozen=True)
class Shard:
    """This process's place in the group: ``rank`` of ``world`` (0 of 1 without a group)."""

    rank: int = 0
    world: int = 1

    @classmethod
    def current(cls) -> Shard:
        """The initialized process group's rank and size, or a single process."""
        if dist.is_available() and dist.is_initialized():
            return cls(dist.get_rank(), dist.get_world_size())
        return cls()

    @property
    def parallel(self) -> bool:
        return self.world > 1

    def rows(self, n_rows: int) -> slice:
        """This rank's contiguous share of ``n_rows`` rows (the first ranks get one more when uneven)."""
        size, extra = divmod(n_rows, self.world)
        start = self.rank * size + min(self.rank, extra)
        return slice(start, start + size + (self.rank < extra))

    def sum(self, value: torch.Tensor) -> torch.Tensor:
        """``value`` summed over the group (in place; itself without a group)."""
        if self.parallel:
            dist.all_reduce(value, op=dist.ReduceOp.SUM)
        return value

    def sum_gradients(self, module: torch.nn.Module) -> None:
        """Sum the parameters' gradients over the group, in one flat all-reduce (one call per
        tensor costs a round trip each); a missing gradient counts as zero."""
        if not self.parallel:
            return
        parameters = [p for p in module.parameters() if p.requires_grad]
        for parameter in parameters:
            if parameter.grad is None:
                parameter.grad = torch.zeros_like(parameter)
        flat = torch.cat([parameter.grad.reshape(-1) for parameter in parameters])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        for parameter, part in zip(parameters, flat.split([p.numel() for p in parameters])):
            parameter.grad.copy_(part.view_as(parameter.grad))

    def broadcast_state(self, module: torch.nn.Module) -> None:
        """Give every rank rank 0's parameters and buffers."""
        if self.parallel:
            for tensor in module.state_dict().values():
                dist.broadcast(tensor, src=0)

    def broadcast_seed(self, seed: int) -> int:
        """Rank 0's ``seed`` on every rank."""
        if not self.parallel:
            return seed
        value = torch.tensor([seed], dtype=torch.int64)
        dist.broadcast(value, src=0)
        return int(value.item())


def data_parallel(fn: Callable[..., Any], *args: Any, processes: int = 2, backend: str = "gloo") -> Any:
    """Run ``fn(*args)`` in ``processes`` processes forming one group; rank 0's return value.

    Inside ``fn``, every :meth:`Trainer.fit <likely.nn.Trainer.fit>` trains data-parallel
    (module docstring). ``fn`` and ``args`` must be picklable (``fn`` a module-level
    function); each process gets ``torch.get_num_threads() // processes`` threads (at least
    one). ``backend``: ``"gloo"`` (CPU) or ``"nccl"`` (one GPU per process, device = rank).
    """
    if not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes must be a positive integer; got {processes!r}")
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo' or 'nccl'; got {backend!r}")
    context = torch.multiprocessing.get_context("spawn")
    results = context.SimpleQueue()
    address = ("127.0.0.1", _free_port())
    threads = max(1, torch.get_num_threads() // processes)
    workers = [context.Process(target=_run_rank, args=(rank, processes, backend, address, threads, fn, args, results))
               for rank in range(processes)]
    for worker in workers:
        worker.start()
    _join(workers)
    failed = [rank for rank, worker in enumerate(workers) if worker.exitcode != 0]
    outcome = results.get() if not results.empty() else None
    if failed or outcome is None:
        error = outcome[1] if outcome and outcome[0] == "error" else f"rank(s) {failed} exited abnormally"
        raise RuntimeError(f"data-parallel run failed: {error}")
    return outcome[1]


def _join(workers: list) -> None:
    """Wait for every process; when one fails, stop the others (they would wait for it forever)."""
    while any(worker.is_alive() for worker in workers):
        if any(worker.exitcode not in (None, 0) for worker in workers):
            for worker in workers:
                worker.terminate()
        for worker in workers:
            worker.join(timeout=0.2)


def _run_rank(rank: int, world: int, backend: str, address: tuple[str, int], threads: int, fn, args, results) -> None:
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = address[0], str(address[1])
    torch.set_num_threads(threads)
    if backend == "nccl":
        torch.cuda.set_device(rank)
    dist.init_process_group(backend, rank=rank, world_size=world)
    try:
        value = fn(*args)
        dist.barrier()  # no rank leaves (and closes its connections) while another still talks
        if rank == 0:
            results.put(("ok", value))
    except Exception as error:
        results.put(("error", f"rank {rank}: {type(error).__name__}: {error}"))
        raise
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
