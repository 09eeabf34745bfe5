"""The shared training loop: convergence, early stopping, checkpoints and resume."""

import numpy as np
import pytest
import torch

from likely.nn import MLP, Trainer, load_safely, save_atomic


def _regression(n=2000, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(n, 1, generator=generator)
    return x, y


def _problem(seed=0):
    torch.manual_seed(seed)
    model = MLP(3, 1, hidden=(16,))
    return model, (lambda x, y: (model(x) - y).square().mean())


def test_converges_on_linear_regression():
    model, loss = _problem()
    history = Trainer(epochs=30, lr=1e-2, progress=False).fit(model, loss, _regression(), random_state=0)
    assert history.val_loss[history.best_epoch] < 0.05  # noise variance is 0.01
    assert history.train_loss[-1] < history.train_loss[0] / 10
    assert len(history.lr) == history.epochs and history.lr[-1] < history.lr[0]


def test_same_seed_same_weights():
    weights = []
    for _ in range(2):
        model, loss = _problem()
        Trainer(epochs=3, progress=False).fit(model, loss, _regression(), random_state=7)
        weights.append(torch.cat([p.flatten() for p in model.parameters()]))
    torch.testing.assert_close(weights[0], weights[1], rtol=0, atol=0)


def test_early_stopping_restores_best_state():
    x, y = _regression()
    x_val, y_val = _regression(seed=1)
    y_val = y_val + 3.0  # validation loss grows as the fit to training data improves
    model, loss = _problem()
    history = Trainer(epochs=50, lr=1e-2, patience=3, progress=False).fit(
        model, loss, (x, y), (x_val, y_val), random_state=0
    )
    assert history.stopped_early and history.epochs == history.best_epoch + 4
    with torch.no_grad():
        restored = loss(x_val, y_val).item()
    assert restored == pytest.approx(history.val_loss[history.best_epoch], rel=1e-5)
    assert restored < history.val_loss[-1]


def test_monitor_records_the_validation_mean_per_epoch():
    x, y = _regression(n=500)
    x_val, y_val = _regression(n=300, seed=1)
    model, loss = _problem()
    history = Trainer(epochs=3, batch_size=64, progress=False).fit(
        model, loss, (x, y), (x_val, y_val), monitor=lambda x, y: {"mse": loss(x, y), "mean_y": y.mean()})
    assert set(history.monitors) == {"mse", "mean_y"} and len(history.monitors["mse"]) == 3
    assert history.monitors["mse"] == pytest.approx(history.val_loss, rel=1e-6)  # the same quantity
    assert history.monitors["mean_y"] == pytest.approx([y_val.mean().item()] * 3, rel=1e-6)


def test_eval_batch_size_bounds_the_evaluation_passes_and_keeps_the_means():
    x, y = _regression(n=200)
    x_val, y_val = _regression(n=130, seed=1)
    histories, sizes = [], []
    for eval_batch_size in (None, 32):
        model, loss = _problem()
        sizes.append([])

        def monitor(x, y, seen=sizes[-1]):
            seen.append(len(x))
            return {"mean_y": y.mean()}

        trainer = Trainer(epochs=2, batch_size=64, eval_batch_size=eval_batch_size, progress=False)
        histories.append(trainer.fit(model, loss, (x, y), (x_val, y_val), monitor=monitor, random_state=0))
    assert sizes[0] == [130, 130] and sizes[1] == [32, 32, 32, 32, 2] * 2
    assert histories[1].val_loss == pytest.approx(histories[0].val_loss, rel=1e-5)
    assert histories[1].monitors["mean_y"] == pytest.approx(histories[0].monitors["mean_y"], rel=1e-5)


def test_no_validation_uses_training_loss():
    model, loss = _problem()
    history = Trainer(epochs=2, val_fraction=0.0, progress=False).fit(model, loss, _regression())
    assert history.val_loss == history.train_loss


def test_none_entries_pass_through_batches():
    seen = []
    model, _ = _problem()

    def loss(x, nothing, y):
        seen.append(nothing)
        return (model(x) - y).square().mean()

    x, y = _regression(n=100)
    Trainer(epochs=1, batch_size=32, progress=False).fit(model, loss, (x, None, y), random_state=0)
    assert seen and all(item is None for item in seen)


class _Killed(Exception):
    pass


def _fit_with_checkpoint(path, kill_after_steps=None, schedule="cosine", max_steps_per_epoch=None):
    model, loss = _problem()
    steps = [0]

    def counting_loss(x, y):
        steps[0] += torch.is_grad_enabled()  # count gradient steps, not validation passes
        if kill_after_steps is not None and steps[0] > kill_after_steps:
            raise _Killed
        return loss(x, y)

    trainer = Trainer(epochs=6, batch_size=100, max_steps_per_epoch=max_steps_per_epoch, lr=1e-2, schedule=schedule,
                      patience=None, checkpoint=path, progress=False)
    history = trainer.fit(model, counting_loss, _regression(n=1000), random_state=3)
    return model, history, steps[0]


@pytest.mark.parametrize("schedule", ["cosine", "onecycle"])
def test_resume_after_kill_matches_uninterrupted_run(tmp_path, schedule):
    reference, reference_history, _ = _fit_with_checkpoint(tmp_path / "a.pt", schedule=schedule)
    # 8 steps per epoch with 800 training events: killed during epoch 4
    with pytest.raises(_Killed):
        _fit_with_checkpoint(tmp_path / "b.pt", kill_after_steps=8 * 3 + 5, schedule=schedule)
    assert len(load_safely(tmp_path / "b.pt")["history"]["train_loss"]) == 3
    resumed, history, steps = _fit_with_checkpoint(tmp_path / "b.pt", schedule=schedule)
    assert steps == 8 * 3  # only the lost epoch and the remaining ones were run
    assert history.train_loss == pytest.approx(reference_history.train_loss, rel=1e-6)
    for a, b in zip(reference.parameters(), resumed.parameters()):
        torch.testing.assert_close(a, b)


def test_resume_in_the_middle_of_a_pass_matches_uninterrupted_run(tmp_path):
    # 3 steps per epoch, 8 per pass over the 800 training events: a pass spans epochs
    reference, reference_history, _ = _fit_with_checkpoint(tmp_path / "a.pt", max_steps_per_epoch=3)
    with pytest.raises(_Killed):
        _fit_with_checkpoint(tmp_path / "b.pt", kill_after_steps=3 * 3 + 1, max_steps_per_epoch=3)
    resumed, history, steps = _fit_with_checkpoint(tmp_path / "b.pt", max_steps_per_epoch=3)
    assert steps == 3 * 3
    assert history.train_loss == pytest.approx(reference_history.train_loss, rel=1e-6)
    for a, b in zip(reference.parameters(), resumed.parameters()):
        torch.testing.assert_close(a, b)


def test_finished_checkpoint_is_not_retrained(tmp_path):
    _fit_with_checkpoint(tmp_path / "c.pt")
    _, history, steps = _fit_with_checkpoint(tmp_path / "c.pt")
    assert steps == 0 and history.epochs == 6


def test_checkpoint_for_other_data_is_refused(tmp_path):
    _fit_with_checkpoint(tmp_path / "d.pt")
    model, loss = _problem()
    trainer = Trainer(epochs=2, checkpoint=tmp_path / "d.pt", progress=False)
    with pytest.raises(ValueError, match="checkpoint"):
        trainer.fit(model, loss, _regression(n=500), random_state=3)


def test_non_finite_loss_is_reported():
    model, _ = _problem()
    x, y = _regression(n=100)
    with pytest.raises(FloatingPointError, match="lr"):
        Trainer(epochs=1, progress=False).fit(model, lambda x, y: model(x).sum() * np.inf, (x, y))


@pytest.mark.parametrize(
    "setting, value",
    [("epochs", 0), ("batch_size", 1.5), ("lr", -1.0), ("schedule", "step"),
     ("val_fraction", 1.0), ("patience", 0), ("max_grad_norm", 0.0), ("eval_batch_size", 0)],
)
def test_bad_settings_are_named(setting, value):
    model, loss = _problem()
    with pytest.raises((ValueError, TypeError), match=setting):
        Trainer(**{setting: value}, progress=False).fit(model, loss, _regression(n=50))


def test_empty_data_is_refused():
    model, loss = _problem()
    with pytest.raises(ValueError, match="empty"):
        Trainer(progress=False).fit(model, loss, (torch.zeros(0, 3), torch.zeros(0, 1)))


def test_atomic_save_keeps_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "state.pt"
    save_atomic({"value": torch.ones(2)}, path)
    with pytest.raises(Exception):
        save_atomic({"value": lambda: None}, path)  # a lambda cannot be pickled
    torch.testing.assert_close(load_safely(path)["value"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]


def test_load_safely_refuses_code(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"object": _Killed()}, path)
    with pytest.raises(Exception, match="(?i)weights_only|unsupported"):
        load_safely(path)


def test_atomic_files_get_ordinary_permissions(tmp_path):
    import os

    path = save_atomic({"value": torch.ones(1)}, tmp_path / "x.pt")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_progress_bars_can_be_switched_off_globally(capsys):
    from likely.nn import set_progress_bars

    model, loss = _problem()
    set_progress_bars(False)
    try:
        Trainer(epochs=2, progress=True).fit(model, loss, _regression(n=100))
    finally:
        set_progress_bars(True)
    assert "training" not in capsys.readouterr().err
    Trainer(epochs=2, progress=True).fit(model, loss, _regression(n=100))
    assert "training" in capsys.readouterr().err


def test_augment_transforms_every_training_batch_and_no_validation_batch():
    x = torch.zeros(100, 1)
    model = MLP(1, 1, hidden=(4,))
    seen = {"train": [], "eval": []}

    def loss(batch):
        seen["train" if model.training else "eval"].append(batch)
        return model(batch).square().mean()

    Trainer(epochs=2, batch_size=32, val_fraction=0.2, progress=False).fit(
        model, loss, (x,), random_state=0, augment=lambda batch: (batch + 1,))
    assert [len(b) for b in seen["train"]] == [32, 32, 16] * 2 and all((b == 1).all() for b in seen["train"])
    assert len(seen["eval"]) == 2 and all((b == 0).all() for b in seen["eval"])


def test_max_steps_per_epoch_walks_through_the_data_across_epochs():
    x, y = _regression(n=1000)
    x[:, 0] = torch.arange(1000.0)  # row ids
    x_val, y_val = _regression(n=100, seed=1)
    model, loss = _problem()
    batches = []

    def recording(x, y):
        if torch.is_grad_enabled():
            batches.append(x[:, 0].long())
        return loss(x, y)

    history = Trainer(epochs=7, batch_size=300, max_steps_per_epoch=2, lr=1e-3, progress=False).fit(
        model, recording, (x, y), (x_val, y_val), random_state=0)
    assert history.epochs == 7 and len(batches) == 14  # 2 steps an epoch, not the 4 of a pass
    assert [len(b) for b in batches[:4]] == [300, 300, 300, 100]  # a pass ends with the rest of the rows
    for first in (0, 4, 8):  # every pass (over epochs) takes each row once, then reshuffles
        assert torch.equal(torch.cat(batches[first:first + 4]).sort().values, torch.arange(1000))
    assert not torch.equal(batches[0], batches[4])


def test_max_steps_per_epoch_bounds_the_held_out_rows():
    x, y = _regression(n=4000)
    model, loss = _problem()
    evaluated = []

    def recording(x, y):
        if not torch.is_grad_enabled():
            evaluated.append(len(x))
        return loss(x, y)

    Trainer(epochs=1, batch_size=100, max_steps_per_epoch=5, progress=False).fit(model, recording, (x, y),
                                                                                 random_state=0)
    assert sum(evaluated) == 500  # not the 800 of val_fraction=0.2


def test_without_max_steps_per_epoch_an_epoch_is_one_pass():
    x, y = _regression(n=1000)
    model, loss = _problem()
    steps = []
    Trainer(epochs=2, batch_size=300, lr=1e-3, val_fraction=0, progress=False).fit(
        model, lambda x, y: steps.append(len(x)) or loss(x, y), (x, y), random_state=0)
    assert steps == [300, 300, 300, 100] * 2
    with pytest.raises(ValueError, match="max_steps_per_epoch"):
        Trainer(max_steps_per_epoch=0, progress=False).fit(model, loss, (x, y))
