"""Shared fixtures: small seeded data sets; the hypothesis profiles (``make fuzz`` runs the long one)."""

import os

import numpy as np
import pytest
import torch
from hypothesis import settings

from likely.data import resonant_toy

settings.register_profile("fuzz", max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _limit_threads():
    # CI has two cores and pytest-xdist runs two workers
    torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def signal():
    """Pure signal of the dijet-like toy with a planted resonance (resonant searches)."""
    events = resonant_toy(1, 4000, random_state=1)
    return events[events.label == 1]


@pytest.fixture(scope="module")
def background():
    """Pure background of the dijet-like toy (resonant searches)."""
    return resonant_toy(40_000, 0, random_state=10)
