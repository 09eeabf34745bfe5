"""``EventSet``: named float32 feature columns with optional truth labels and weights."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from likely._checks import check_array

__all__ = ["EventSet"]


class EventSet:
    """A table of events: float32 columns named as the community names them.

    Parameters
    ----------
    columns : mapping of str to array-like (N,)
        Feature columns (``mjj``, ``mj1``, ``delta_mj``, ``tau21_j1``, ...). NaN is allowed
        here (a reader keeps what the file holds); models reject it at their boundary.
    label : array-like (N,), optional
        Truth labels (0 background, 1 signal) where known.
    weight : array-like (N,), optional
        Per-event weights.

    Examples
    --------
    >>> events = EventSet({"mjj": [3.4, 3.6], "mj1": [0.1, 0.5]}, label=[0, 1])
    >>> events.array(["mj1"]).shape
    (2, 1)
    >>> len(events[events["mjj"] > 3.5])
    1
    """

    def __init__(
        self,
        columns: Mapping[str, Any],
        label: Any = None,
        weight: Any = None,
    ) -> None:
        if not columns:
            raise ValueError("columns must name at least one feature")
        self._columns = {str(name): _column(values, f"columns[{name!r}]") for name, values in columns.items()}
        lengths = {name: len(values) for name, values in self._columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"columns have different lengths: {lengths}")
        n = next(iter(lengths.values()))
        self.label = None if label is None else _aligned(label, n, "label").astype(np.int8)
        self.weight = None if weight is None else _aligned(weight, n, "weight")

    # ----------------------------------------------------------------- access
    @property
    def names(self) -> list[str]:
        """Column names, in order."""
        return list(self._columns)

    def __len__(self) -> int:
        return len(next(iter(self._columns.values())))

    def __contains__(self, name: str) -> bool:
        return name in self._columns

    def __repr__(self) -> str:
        extras = "".join(f", {what}" for what in ("label", "weight") if getattr(self, what) is not None)
        return f"EventSet({len(self)} events, columns={self.names}{extras})"

    def __getitem__(self, key: str | np.ndarray | slice) -> np.ndarray | EventSet:
        """A column by name, or a new EventSet of the rows selected by a mask, indices or slice."""
        if isinstance(key, str):
            return self.column(key)
        return EventSet(
            {name: values[key] for name, values in self._columns.items()},
            label=None if self.label is None else self.label[key],
            weight=None if self.weight is None else self.weight[key],
        )

    def column(self, name: str) -> np.ndarray:
        """One column (N,), float32; a clear error names the missing column."""
        if name not in self._columns:
            raise KeyError(f"no column {name!r} in the events; available: {self.names}")
        return self._columns[name]

    def array(self, names: Sequence[str] | None = None) -> np.ndarray:
        """Selected columns stacked as (N, len(names)) float32 (all columns by default)."""
        names = self.names if names is None else list(names)
        if isinstance(names, str):
            raise TypeError("names must be a list of column names, not a single string")
        return np.stack([self.column(name) for name in names], axis=1)

    def with_columns(self, **columns: Any) -> EventSet:
        """A copy with columns added or replaced."""
        return EventSet({**self._columns, **columns}, label=self.label, weight=self.weight)

    def with_label(self, label: Any) -> EventSet:
        """A copy with the truth labels replaced (a scalar labels every event)."""
        return EventSet(self._columns, label=np.broadcast_to(label, len(self)), weight=self.weight)

    @staticmethod
    def concat(event_sets: Iterable[EventSet]) -> EventSet:
        """Stack event sets with the same columns; labels/weights kept only if all have them."""
        event_sets = list(event_sets)
        if not event_sets:
            raise ValueError("event_sets is empty")
        names = event_sets[0].names
        for other in event_sets[1:]:
            if other.names != names:
                raise ValueError(f"cannot concatenate events with columns {other.names} and {names}")

        def stacked(what):
            parts = [getattr(e, what) for e in event_sets]
            return None if any(p is None for p in parts) else np.concatenate(parts)

        return EventSet(
            {name: np.concatenate([e.column(name) for e in event_sets]) for name in names},
            label=stacked("label"),
            weight=stacked("weight"),
        )

    def shuffle(self, random_state: int | np.random.Generator | None = None) -> EventSet:
        """The same events in a random order."""
        return self[np.random.default_rng(random_state).permutation(len(self))]


def _column(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)):
        raise TypeError(f"{name} must hold numbers; got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float32)


def _aligned(values: Any, n: int, name: str) -> np.ndarray:
    array = check_array(values, name, ndim=1, allow_empty=True)
    if len(array) != n:
        raise ValueError(f"{name} has {len(array)} entries, but the columns have {n}")
    return array
