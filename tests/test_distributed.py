"""Data-parallel training (likely.nn.distributed): two gloo processes train as one process does."""

import numpy as np
import pytest

from likely.density import Flow
from likely.nn import Trainer, data_parallel
from likely.nn.distributed import Shard


def fit_flow(batch_size: int) -> tuple[list[float], list[float], np.ndarray]:
    """A small MAF on correlated Gaussians: its loss curves and log-densities of fixed points."""
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal([0, 1], [[1, 0.8], [0.8, 1]], 1001).astype(np.float32)
    trainer = Trainer(epochs=4, batch_size=batch_size, lr=3e-3, patience=None, progress=False)
    flow = Flow(kind="maf", transforms=2, hidden=(16,), trainer=trainer, device="cpu", random_state=0).fit(X)
    return flow.history_.train_loss, flow.history_.val_loss, flow.log_prob(X[:5])


@pytest.mark.parametrize("batch_size", [100, 99])  # 99: uneven shares; the last batch is 9 rows
def test_two_processes_give_the_loss_curve_of_one(batch_size):
    train, val, logp = fit_flow(batch_size)
    train2, val2, logp2 = data_parallel(fit_flow, batch_size, processes=2)
    np.testing.assert_allclose(train2, train, rtol=1e-4)
    np.testing.assert_allclose(val2, val, rtol=1e-4)
    np.testing.assert_allclose(logp2, logp, rtol=1e-3, atol=1e-4)


def test_shares_cover_every_row_once():
    for n_rows in (0, 1, 7, 100):
        for world in (1, 2, 3):
            parts = [Shard(rank, world).rows(n_rows) for rank in range(world)]
            assert [p.start for p in parts[1:]] == [p.stop for p in parts[:-1]]
            assert parts[0].start == 0 and parts[-1].stop == n_rows
            assert max(p.stop - p.start for p in parts) - min(p.stop - p.start for p in parts) <= 1


def _fail(rank: int | None = None):
    """Fail on every rank, or only on ``rank`` while the others wait in a collective."""
    if rank is None or Shard.current().rank == rank:
        raise ValueError("planted")
    fit_flow(100)


def test_a_failing_rank_is_reported_and_bad_settings_named():
    with pytest.raises(RuntimeError, match="planted"):
        data_parallel(_fail, processes=2)
    with pytest.raises(RuntimeError, match="rank 1: ValueError: planted"):
        data_parallel(_fail, 1, processes=2)
    with pytest.raises(ValueError, match="processes must be a positive integer"):
        data_parallel(fit_flow, 100, processes=0)
    with pytest.raises(ValueError, match="backend must be"):
        data_parallel(fit_flow, 100, backend="mpi")
