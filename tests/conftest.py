"""Shared fixtures: small seeded data sets."""

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _limit_threads():
    # CI has two cores and pytest-xdist runs two workers
    torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
