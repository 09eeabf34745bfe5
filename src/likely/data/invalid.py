"""One policy for non-finite values (NaN, ±inf) in data read from files.

Every reader takes ``on_invalid``:

- ``"drop"`` (default): drop the events with a non-finite value in any column the reader
  uses, and log how many and in which columns (``logging``, level WARNING);
- ``"raise"``: refuse the file with a ``ValueError`` that gives the same counts
  (``--strict`` on the command line);
- ``"keep"``: return every event as read, for callers that must keep rows aligned with
  the file (``likely search score``) and drop or flag the rows themselves.

:func:`drop_invalid` applies the policy and returns an :class:`InvalidRows` account that
run reports record (``results.json``, ``report.md``).

Examples
--------
>>> import numpy as np
>>> keep, account = drop_invalid({"mj1": np.array([1.0, np.nan, 2.0])}, source="a.h5")
>>> keep.tolist(), account.n_dropped, account.columns
([True, False, True], 1, {'mj1': 1})
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping

import numpy as np

from likely._checks import check_choice

__all__ = ["ON_INVALID", "InvalidRows", "drop_invalid"]

log = logging.getLogger(__name__)

#: the choices of every reader's ``on_invalid``
ON_INVALID = ("drop", "raise", "keep")


@dataclasses.dataclass(frozen=True)
class InvalidRows:
    """What a reader found non-finite: counts of events, per column.

    Attributes
    ----------
    source : str
        The file (or files) read.
    n_read : int
        Events in the file.
    n_dropped : int
        Events with a non-finite value in at least one used column (dropped unless the
        policy was ``"keep"``).
    columns : dict of str to int
        Non-finite events per column (an event can count in several).
    """

    source: str
    n_read: int
    n_dropped: int
    columns: dict[str, int]

    def to_dict(self) -> dict:
        """Plain data for ``results.json``."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        return (f"{self.source}: {self.n_dropped} of {self.n_read} event(s) have NaN/inf in "
                f"{', '.join(f'{name} ({n})' for name, n in self.columns.items())}")

    @staticmethod
    def combine(accounts: Iterable[InvalidRows], source: str | None = None) -> InvalidRows:
        """One account for several reads (e.g. the files of one run)."""
        accounts = list(accounts)
        columns: dict[str, int] = {}
        for account in accounts:
            for name, n in account.columns.items():
                columns[name] = columns.get(name, 0) + n
        return InvalidRows(
            source=source if source is not None else ", ".join(a.source for a in accounts),
            n_read=sum(a.n_read for a in accounts),
            n_dropped=sum(a.n_dropped for a in accounts),
            columns=columns,
        )


def drop_invalid(columns: Mapping[str, np.ndarray], *, source: str, on_invalid: str = "drop",
                 n_rows: int | None = None) -> tuple[np.ndarray, InvalidRows]:
    """The rows to keep under the non-finite policy, and the account of what was found.

    Parameters
    ----------
    columns : mapping of str to ndarray (N,) or (N, ...)
        The columns the caller uses; a column with more axes (e.g. voxels) counts a row as
        non-finite if any of its entries is.
    source : str
        Names the file in the log line and the error.
    on_invalid : {"drop", "raise", "keep"}
        See the module docstring.
    n_rows : int, optional
        N, needed only when ``columns`` is empty.

    Returns
    -------
    keep : ndarray (N,) of bool
        True for the rows to return (all True under ``"keep"``).
    account : InvalidRows

    Raises
    ------
    ValueError
        Under ``on_invalid="raise"`` if any row is non-finite; for an unknown policy.
    """
    check_choice(on_invalid, "on_invalid", ON_INVALID)
    n = n_rows if not columns else len(next(iter(columns.values())))
    bad_any = np.zeros(n, dtype=bool)
    counts: dict[str, int] = {}
    for name, values in columns.items():
        values = np.asarray(values)
        if not np.issubdtype(values.dtype, np.inexact):
            continue
        bad = ~np.isfinite(values.reshape(len(values), int(np.prod(values.shape[1:])))).all(axis=1)
        if bad.any():
            counts[name] = int(bad.sum())
            bad_any |= bad
    account = InvalidRows(source=str(source), n_read=n, n_dropped=int(bad_any.sum()), columns=counts)
    if account.n_dropped and on_invalid == "raise":
        raise ValueError(f"{account}; pass on_invalid='drop' (drop them, the default) or leave out --strict")
    if account.n_dropped and on_invalid == "drop":
        log.warning("%s; dropping them", account)
        return ~bad_any, account
    return np.ones(n, dtype=bool), account
