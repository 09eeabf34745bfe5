"""The set transformer: permutation invariance, masking, aggregation and its errors."""

import pytest
import torch

from likely.nn import SetTransformer


def sets(n=6, width=9, features=3, seed=0):
    """Random sets of 1 … width objects, padded with garbage that the mask must hide."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, width, features, generator=generator)
    counts = torch.randint(1, width + 1, (n,), generator=generator)
    mask = torch.arange(width) < counts[:, None]
    ids = torch.randint(0, 4, (n, width), generator=generator)
    return x, mask, ids


def model(**changes):
    torch.manual_seed(1)
    settings = dict(dim=16, out_features=8, layers=2, heads=4, feedforward=32, head_hidden=(16,), n_ids=4)
    return SetTransformer(3, **{**settings, **changes}).eval()


def test_permuting_the_objects_leaves_the_representation_unchanged():
    x, mask, ids = sets()
    net = model()
    order = torch.stack([torch.randperm(x.shape[1], generator=torch.Generator().manual_seed(k)) for k in range(6)])
    shuffled = [torch.take_along_dim(t, order if t.ndim == 2 else order[..., None], dim=1) for t in (x, mask, ids)]
    with torch.no_grad():
        torch.testing.assert_close(net(*shuffled), net(x, mask, ids), rtol=1e-5, atol=1e-5)


def test_more_padding_changes_nothing_whatever_it_holds():
    x, mask, ids = sets()
    net = model()
    extra = 5
    padded = (torch.cat([x, 1e3 * torch.randn(len(x), extra, 3)], 1), torch.cat([mask, torch.zeros(len(x), extra, dtype=bool)], 1),
              torch.cat([ids, torch.full((len(x), extra), -1)], 1))
    with torch.no_grad():
        torch.testing.assert_close(net(*padded), net(x, mask, ids), rtol=1e-5, atol=1e-5)
        changed = x.clone()
        changed[~mask] = 7.0  # garbage in the padding of the original width too
        torch.testing.assert_close(net(changed, mask, ids), net(x, mask, ids), rtol=1e-5, atol=1e-5)


def test_object_types_and_real_objects_matter():
    x, mask, ids = sets()
    net = model()
    with torch.no_grad():
        reference = net(x, mask, ids)
        other_ids = ids.clone()
        other_ids[:, 0] = (ids[:, 0] + 1) % 4  # the first object is always real
        assert not torch.allclose(net(x, mask, other_ids), reference, atol=1e-4)
        moved = x.clone()
        moved[:, 0] += 1.0
        assert not torch.allclose(net(moved, mask, ids), reference, atol=1e-4)


@pytest.mark.parametrize("aggregate, factor", [("sum", 2.0), ("mean", 1.0)])
def test_duplicating_every_object_doubles_the_sum_and_keeps_the_mean(aggregate, factor):
    x, mask, ids = sets()
    net = model(aggregate=aggregate, out_features=None)
    doubled = (torch.cat([x, x], 1), torch.cat([mask, mask], 1), torch.cat([ids, ids], 1))
    with torch.no_grad():  # attention over duplicated keys gives every object the same output
        torch.testing.assert_close(net(*doubled), factor * net(x, mask, ids), rtol=1e-4, atol=1e-4)


def test_without_ids_and_without_head():
    x, mask, _ = sets()
    net = model(n_ids=None, out_features=None)
    with torch.no_grad():
        assert net(x, mask).shape == (6, 16) and torch.equal(net(x, mask), net.represent(x, mask))


def test_bad_inputs_are_named():
    x, mask, ids = sets()
    net = model()
    empty = mask.clone()
    empty[2] = False
    with pytest.raises(ValueError, match="1 set"):
        net(x, empty, ids)
    with pytest.raises(ValueError, match="ids must be given"):
        net(x, mask)
    with pytest.raises(ValueError, match="ids of real objects"):
        net(x, mask, ids + 4)
    with pytest.raises(ValueError, match="mask"):
        net(x, mask.float(), ids)
    with pytest.raises(ValueError, match="multiple of heads"):
        SetTransformer(3, dim=10, heads=4)
    with pytest.raises(ValueError, match="aggregate"):
        SetTransformer(3, aggregate="max")
