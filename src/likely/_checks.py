"""Input validation shared by every public entry point.

Each helper returns a clean float32 (or int) NumPy array, or raises ``ValueError`` /
``TypeError`` whose message names the offending argument and says what was wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse
from sklearn.exceptions import NotFittedError

__all__ = [
    "check_array",
    "check_choice",
    "check_cond",
    "check_energies",
    "check_fitted",
    "check_fraction",
    "check_images",
    "check_inputs",
    "check_labels",
    "check_positive",
    "check_sets",
    "check_showers",
    "check_weights",
]


def _as_numeric(values: Any, name: str) -> np.ndarray:
    """Convert array-likes (NumPy, lists, torch tensors, pandas) to a NumPy array."""
    if scipy.sparse.issparse(values):
        raise TypeError(f"{name} is a sparse matrix; sparse input is not supported, pass a dense array")
    if hasattr(values, "detach"):  # torch tensor
        values = values.detach().cpu().numpy()
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be array-like of numbers; got {type(values).__name__}") from error
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must hold numbers; got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real-valued; got complex dtype {array.dtype}")
    return array


def _check_finite(array: np.ndarray, name: str) -> None:
    finite = np.isfinite(array)
    if not finite.all():
        bad = np.argwhere(~finite)[0]
        kind = "NaN" if np.isnan(array[tuple(bad)]) else "inf"
        raise ValueError(
            f"{name} contains {np.count_nonzero(~finite)} non-finite value(s) "
            f"(first: {kind} at index {tuple(int(i) for i in bad)})"
        )


def check_array(
    X: Any,
    name: str = "X",
    *,
    n_features: int | None = None,
    allow_empty: bool = False,
    ndim: int = 2,
    dtype: type = np.float32,
) -> np.ndarray:
    """Validate a feature matrix (``ndim=2``, shape (N, D)) or vector (``ndim=1``, shape (N,)).

    Returns a C-contiguous copy-free view where possible, cast to ``dtype``.
    """
    array = _as_numeric(X, name)
    if array.ndim != ndim:
        hint = " (use X.reshape(-1, 1) for a single feature)" if ndim == 2 and array.ndim == 1 else ""
        raise ValueError(f"{name} must be {ndim}-D; got shape {array.shape}{hint}")
    if array.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (0 rows)")
    if ndim == 2 and array.shape[1] == 0:
        raise ValueError(f"{name} has 0 features; got shape {array.shape}")
    if n_features is not None and ndim == 2 and array.shape[1] != n_features:
        raise ValueError(f"{name} has {array.shape[1]} features, but {n_features} were expected")
    array = np.ascontiguousarray(array, dtype=dtype)
    _check_finite(array, name)
    return array


def check_images(X: Any, name: str = "X", *, shape: Sequence[int] | None = None,
                 allow_empty: bool = False) -> np.ndarray:
    """Validate images (N, C, H, W), or (N, H, W) as one channel; returns float32 (N, C, H, W).

    ``shape`` is the (C, H, W) the images must have (e.g. the training images' shape).
    """
    array = _as_numeric(X, name)
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim != 4:
        raise ValueError(f"{name} must be images (N, C, H, W) or (N, H, W); got shape {array.shape}")
    if array.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (0 images)")
    if 0 in array.shape[1:]:
        raise ValueError(f"{name} has empty images; got shape {array.shape}")
    if shape is not None and array.shape[1:] != tuple(shape):
        raise ValueError(f"{name} has images of shape (C, H, W) = {array.shape[1:]}, but {tuple(shape)} "
                         "were expected")
    array = np.ascontiguousarray(array, dtype=np.float32)
    _check_finite(array, name)
    return array


def check_inputs(X: Any, name: str = "X", *, shape: Sequence[int] | None = None) -> np.ndarray:
    """Validate the objects of a model that takes vectors (N, D) or images (N, C, H, W) / (N, H, W).

    ``shape`` is the shape of one object the model was fitted on: (D,) for vectors,
    (C, H, W) for images; None accepts either kind. Returns float32 (N, D) or (N, C, H, W).
    """
    array = _as_numeric(X, name)
    if shape is None and array.ndim not in (2, 3, 4):
        raise ValueError(f"{name} must be vectors (N, D) or images (N, C, H, W) / (N, H, W); got shape "
                         f"{array.shape}")
    vectors = array.ndim == 2 if shape is None else len(shape) == 1
    if vectors:
        if array.ndim != 2:
            raise ValueError(f"{name} must be vectors (N, {shape[0]}) like the training data; got shape "
                             f"{array.shape}")
        return check_array(array, name, n_features=None if shape is None else shape[0])
    if array.ndim == 2 and shape is not None:
        raise ValueError(f"{name} must be images (N, C, H, W) of shape {tuple(shape)} like the training data; "
                         f"got vectors of shape {array.shape}")
    return check_images(array, name, shape=shape)


def check_sets(X: Any, features: Sequence[str], name: str = "X") -> np.ndarray:
    """Validate zero-padded sets (N, P, F) whose F columns are ``features``, the first pT > 0 for
    a real object; every set needs one. Returns float32 (N, P, F)."""
    array = _as_numeric(X, name)
    if array.ndim != 3 or array.shape[2] != len(features):
        raise ValueError(f"{name} must be sets (N, P, {len(features)}) with the features {tuple(features)}; "
                         f"got shape {array.shape}")
    if len(array) == 0:
        raise ValueError(f"{name} is empty (0 sets)")
    array = np.ascontiguousarray(array, dtype=np.float32)
    _check_finite(array, name)
    empty = ~(array[..., 0] > 0).any(1)
    if empty.any():
        raise ValueError(f"{name}: {int(empty.sum())} set(s) have no object with pT > 0")
    return array


def check_cond(
    cond: Any, n_rows: int, name: str = "cond", *, n_features: int | None = None
) -> np.ndarray | None:
    """Validate a conditioning array: None, shape (N,) or (N, C); returns None or (N, C) float32.

    ``n_features`` is the number of condition columns the model was fitted with (0 means
    an unconditional model, for which ``cond`` must be None).
    """
    if cond is None:
        if n_features:
            raise ValueError(f"{name} is required: the model was fitted with {n_features} condition column(s)")
        return None
    if n_features == 0:
        raise ValueError(f"{name} was given, but the model was fitted without a condition")
    array = _as_numeric(cond, name)
    if array.ndim == 1:
        array = array[:, None]
    array = check_array(array, name, n_features=n_features, allow_empty=n_rows == 0)
    if array.shape[0] != n_rows:
        raise ValueError(f"{name} has {array.shape[0]} rows, but X has {n_rows}")
    return array


def check_labels(y: Any, n_rows: int, name: str = "y", *, reference: str = "X") -> np.ndarray:
    """Validate binary labels in {0, 1} with both classes present; returns int64 (N,)."""
    if y is None:
        raise ValueError(f"this estimator requires {name} to be passed, but the target {name} is None")
    array = _as_numeric(y, name)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    array = check_array(array, name, ndim=1, dtype=np.float64)
    if array.shape[0] != n_rows:
        raise ValueError(f"{name} has {array.shape[0]} entries, but {reference} has {n_rows}")
    values = np.unique(array)
    if not np.isin(values, (0, 1)).all():
        binary_only = "Only binary classification is supported: " if values.size > 2 else ""
        raise ValueError(f"{binary_only}{name} must contain only 0 and 1; got values {values[:5].tolist()}")
    if values.size < 2:
        raise ValueError(f"{name} contains only class {int(values[0])}; both 0 and 1 are needed")
    return array.astype(np.int64)


def check_weights(
    weights: Any, n_rows: int, name: str = "sample_weight", *, reference: str = "X"
) -> np.ndarray | None:
    """Validate non-negative per-row weights of shape (N,); returns float32 or None."""
    if weights is None:
        return None
    array = check_array(weights, name, ndim=1)
    if array.shape[0] != n_rows:
        raise ValueError(f"{name} has {array.shape[0]} entries, but {reference} has {n_rows}")
    if (array < 0).any():
        raise ValueError(f"{name} must be non-negative; found {np.count_nonzero(array < 0)} negative value(s)")
    if array.sum() <= 0:
        raise ValueError(f"{name} sums to zero")
    return array


def check_fitted(estimator: Any, attribute: str) -> None:
    """Raise sklearn's ``NotFittedError`` (a ``ValueError``) if ``estimator.<attribute>`` is missing."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} is not fitted yet; call 'fit' before using it"
        )


def check_positive(value: Any, name: str, *, integer: bool = False, allow_zero: bool = False) -> None:
    """Check a hyperparameter is a positive (or non-negative) number, optionally an integer."""
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}; got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}; got {value!r}")


def check_fraction(value: Any, name: str, *, allow_zero: bool = True) -> None:
    """Check a hyperparameter lies in [0, 1) (or (0, 1) with ``allow_zero=False``)."""
    check_positive(value, name, allow_zero=allow_zero)
    if value >= 1:
        raise ValueError(f"{name} must be < 1; got {value!r}")


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> None:
    """Check a hyperparameter is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")


def check_showers(
    showers: Any, name: str = "showers", *, n_voxels: int | None = None, allow_empty: bool = False
) -> np.ndarray:
    """Validate calorimeter showers (N, n_voxels) of voxel energies: finite, >= 0, and not all
    zero unless ``allow_empty`` (e.g. for evaluating generated showers).

    Returns float32 (N, n_voxels).
    """
    array = check_array(showers, name, n_features=n_voxels)
    negative = array < 0
    if negative.any():
        row = int(np.argwhere(negative)[0, 0])
        raise ValueError(f"{name} has {np.count_nonzero(negative)} negative voxel energies (first in row {row})")
    empty = array.sum(axis=1) <= 0
    if empty.any() and not allow_empty:
        raise ValueError(
            f"{name} has {np.count_nonzero(empty)} zero-energy shower(s) (first: row {int(np.argmax(empty))})"
        )
    return array


def check_energies(energies: Any, n_rows: int, name: str = "e_inc", *, reference: str = "showers") -> np.ndarray:
    """Validate positive per-row energies of shape (N,) or (N, 1); returns float32 (N,)."""
    array = _as_numeric(energies, name)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    array = check_array(array, name, ndim=1)
    if array.shape[0] != n_rows:
        raise ValueError(f"{name} has {array.shape[0]} entries, but {reference} has {n_rows}")
    if (array <= 0).any():
        raise ValueError(f"{name} must be positive; found {np.count_nonzero(array <= 0)} value(s) <= 0")
    return array


# ------------------------------------------------- declared parameter constraints
class Constraint:
    """A declared rule for one hyperparameter, checked once at ``fit`` (scikit-learn's
    ``_parameter_constraints`` idea, without its private module).

    ``Constraint(check, text)``: ``check(value, name)`` raises ``TypeError`` / ``ValueError``
    naming the parameter; ``text`` says in words what is allowed (for docs and errors).
    ``constraint | None`` also allows None.
    """

    def __init__(self, check: Callable[[Any, str], None], text: str) -> None:
        self.check, self.text = check, text

    def __call__(self, value: Any, name: str) -> None:
        self.check(value, name)

    def __or__(self, other: None) -> Constraint:
        if other is not None:
            return NotImplemented
        return Constraint(lambda value, name: value is None or self.check(value, name), f"{self.text} or None")

    def __repr__(self) -> str:
        return f"Constraint({self.text})"


def positive(*, integer: bool = False, allow_zero: bool = False) -> Constraint:
    """A number > 0 (>= 0 with ``allow_zero``), an integer with ``integer``."""
    kind = "integer" if integer else "number"
    return Constraint(lambda v, n: check_positive(v, n, integer=integer, allow_zero=allow_zero),
                      f"{kind} {'>= 0' if allow_zero else '> 0'}")


def fraction(*, allow_zero: bool = True) -> Constraint:
    """A number in [0, 1) ((0, 1) without ``allow_zero``)."""
    return Constraint(lambda v, n: check_fraction(v, n, allow_zero=allow_zero),
                      f"number in {'[' if allow_zero else '('}0, 1)")


def options(*choices: Any) -> Constraint:
    """One of ``choices``."""
    return Constraint(lambda v, n: check_choice(v, n, choices), f"one of {choices}")


def instance(*types: type) -> Constraint:
    """An instance of one of ``types``."""
    names = " or ".join(t.__name__ for t in types)

    def check(value: Any, name: str) -> None:
        if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
            raise TypeError(f"{name} must be a {names}; got {type(value).__name__} {value!r}")

    return Constraint(check, names)


def widths() -> Constraint:
    """A non-empty sequence of integer layer widths > 0."""
    def check(value: Any, name: str) -> None:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
            raise TypeError(f"{name} must be a non-empty sequence of integers; got {value!r}")
        for width in value:
            check_positive(width, name, integer=True)

    return Constraint(check, "non-empty sequence of integers > 0")


def validate_params(estimator: Any) -> None:
    """Check every hyperparameter of ``estimator`` against its class's ``_parameter_constraints``.

    Each class declares ``_parameter_constraints = {name: Constraint, ...}`` for its
    constructor parameters (merged along the class hierarchy); a parameter without a
    declared constraint is accepted as it is.
    """
    for name, constraint in parameter_constraints(type(estimator)).items():
        constraint(getattr(estimator, name), name)


def parameter_constraints(cls: type) -> dict[str, Constraint]:
    """The declared constraints of ``cls``, base classes first."""
    merged: dict[str, Constraint] = {}
    for klass in reversed(cls.__mro__):
        merged.update(vars(klass).get("_parameter_constraints", {}))
    return merged


def seed() -> Constraint:
    """A ``random_state``: an integer or None."""
    return instance(int, np.integer) | None


#: where this module's input validation deviates on purpose from scikit-learn's estimator checks
VALIDATION_DEVIATIONS = {
    "check_complex_data": "complex X raises TypeError (a dtype problem), not ValueError",
    "check_dtype_object": "object arrays are rejected with TypeError even when they hold numbers",
    "check_estimators_empty_data_messages": "'X has 0 features; got shape (12, 0)' is not sklearn's wording",
    "check_n_features_in_after_fitting": "'X has 1 features, but 4 were expected' is not sklearn's wording",
}


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """scikit-learn checks ``estimator`` fails on purpose, with the reasons: the validation
    deviations above and every class's ``_expected_failed_checks`` along its hierarchy (a
    reason of None removes an inherited entry: that check passes for the class)."""
    merged = dict(VALIDATION_DEVIATIONS)
    for klass in reversed(type(estimator).__mro__):
        merged.update(vars(klass).get("_expected_failed_checks", {}))
    return {name: reason for name, reason in merged.items() if reason is not None}
