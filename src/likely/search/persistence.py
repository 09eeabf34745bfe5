"""Saving fitted resonant methods to a folder and loading them back.

A saved method is a folder::

    method.json      format, versions, class, window, features, readable hyperparameters,
                     and a SHA-256 checksum of every other file
    weights.pt       hyperparameters and fitted state as plain data (tensors, numbers,
                     strings): torch weights, fitted preprocessing, density models in
                     their own ``to_payload`` form; read with ``torch.load(weights_only=True)``
    sklearn.pkl      only for boosted-tree classifiers: the fitted scikit-learn
                     estimators, pickled as scikit-learn documents. Unpickling can run
                     code: load only folders you trust. The checksum in method.json
                     is checked before the file is unpickled (it catches corruption, not
                     a deliberate forgery).

Fitted attributes are saved by kind: arrays, numbers, strings, windows, transforms,
training histories, likely's estimators (recursively; density models through their own
``to_payload``), scikit-learn estimators (pickled) and torch modules (weights only: the
owning class rebuilds the module with ``_module_for(name)`` and the weights are loaded
into it). Anything else is refused before a file is written.

The folder is written atomically (a temporary folder renamed into place). The training
sets kept on a fitted method for inspection (``samples_``, CURTAINs' ``sources_``) are not
saved: a loaded method scores, and samples or transports with its models, but does not
hold them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import pickle
import platform
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import torch
from sklearn.base import BaseEstimator

import likely
from likely._checks import check_fitted
from likely._io import atomic_dir, write_json
from likely.classify import BinaryClassifier
from likely.density import DensityEstimator
from likely.nn import History, Trainer, resolve_device
from likely.search.windows import Window
from likely.transforms import Transform, transform_from_dict

__all__ = ["FORMAT", "load_method", "save_method"]

log = logging.getLogger(__name__)

FORMAT = "likely-method/1"
MANIFEST, WEIGHTS, PICKLES = "method.json", "weights.pt", "sklearn.pkl"


def save_method(method, path: str | os.PathLike) -> Path:
    """Write the fitted ``method`` to the folder ``path`` (atomically); returns ``path``.

    An existing saved method at ``path`` is replaced; any other existing file or
    non-empty folder is refused (``FileExistsError``).
    """
    check_fitted(method, "window_")
    path = Path(path)
    if path.exists() and not (path / MANIFEST).is_file() and not (path.is_dir() and not any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not a saved method; refusing to overwrite it")
    encoder = _Encoder()
    state = encoder.estimator(method)
    with atomic_dir(path) as tmp:
        torch.save(state, tmp / WEIGHTS)
        files = {WEIGHTS: _sha256(tmp / WEIGHTS)}
        if encoder.pickles:
            with open(tmp / PICKLES, "wb") as stream:
                pickle.dump(encoder.pickles, stream, protocol=pickle.HIGHEST_PROTOCOL)
            files[PICKLES] = _sha256(tmp / PICKLES)
        write_json(tmp / MANIFEST, {
            "format": FORMAT,
            "class": type(method).__name__,
            "versions": {"likely": likely.__version__, "torch": torch.__version__,
                         "sklearn": sklearn.__version__, "python": platform.python_version()},
            "window": dataclasses.asdict(method.window_),
            "features": list(method.features_),
            "params": {name: _readable(value) for name, value in method.get_params(deep=False).items()},
            "files": files,
        })
    return path


def load_method(path: str | os.PathLike, device: str = "auto", expected: type | None = None):
    """Load a method written by :func:`save_method` onto ``device``.

    ``expected``: the class (or a base class) the saved method must be. Raises
    ``FileNotFoundError`` for a missing folder and ``ValueError`` naming the path and the
    problem for anything that is not an intact saved method of this format.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no saved method at {path}: no such file or folder")
    manifest = _read_manifest(path)
    cls = _estimator_classes().get(manifest.get("class"))
    if expected is not None and not (cls and issubclass(cls, expected)):
        raise ValueError(f"{path} holds a {manifest.get('class')}, not a {expected.__name__}")
    for name, digest in manifest["files"].items():  # checked before anything is unpickled
        if not (path / name).is_file():
            raise ValueError(f"{path} is an incomplete saved method: {name} is missing")
        if _sha256(path / name) != digest:
            raise ValueError(f"{path / name} is corrupted or was changed after saving (checksum mismatch)")
    saved = manifest.get("versions", {})
    if saved.get("likely") != likely.__version__:
        log.warning("%s was saved by likely %s; this is likely %s", path, saved.get("likely"), likely.__version__)
    pickles = []
    if PICKLES in manifest["files"]:
        if saved.get("sklearn") != sklearn.__version__:
            warnings.warn(f"{path} holds scikit-learn {saved.get('sklearn')} models; this is scikit-learn "
                          f"{sklearn.__version__}, and unpickling across versions is unsupported "
                          "(results may differ): refit with this version", UserWarning, stacklevel=2)
        with open(path / PICKLES, "rb") as stream:
            pickles = pickle.load(stream)  # noqa: S301  (checksummed; see the module docstring)
    target = resolve_device(device)
    try:
        state = torch.load(path / WEIGHTS, map_location=target, weights_only=True)
        method = _Decoder(pickles, device, target).estimator(state)
    except (KeyError, pickle.UnpicklingError, RuntimeError) as error:
        raise ValueError(f"{path} could not be loaded: {type(error).__name__}: {error}") from error
    return method


def _read_manifest(path: Path) -> dict:
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ValueError(f"{path} is not a saved method: it has no {MANIFEST} (write one with method.save(path))")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{manifest_path} is corrupted: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ValueError(f"{path} holds format {found!r}; this likely ({likely.__version__}) reads {FORMAT!r}")
    files = manifest.get("files")
    if not isinstance(files, dict) or WEIGHTS not in files or not set(files) <= {WEIGHTS, PICKLES}:
        raise ValueError(f"{manifest_path} is corrupted: 'files' must list {WEIGHTS} (and {PICKLES}); got {files!r}")
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _readable(value: Any) -> Any:
    """A hyperparameter as JSON for people (the loader reads weights.pt, not this)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_readable(v) for v in value]
    return repr(value)


def _fitted_names(estimator: BaseEstimator) -> list[str]:
    """Public fitted attributes (ending in ``_``) less those the class keeps out of saves."""
    skip = getattr(estimator, "_not_saved", ())
    return [name for name in vars(estimator) if name.endswith("_") and not name.startswith("_") and name not in skip]


def _estimator_classes() -> dict[str, type]:
    """likely's estimator classes by name: the only classes a saved folder can name."""
    from likely.search.methods import ResonantMethod

    found, todo = {}, [ResonantMethod, BinaryClassifier, DensityEstimator]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


class _Encoder:
    """Estimators to plain data; scikit-learn estimators collected in ``pickles``."""

    def __init__(self) -> None:
        self.pickles: list = []

    def estimator(self, estimator: BaseEstimator, where: str = "") -> dict:
        """Class, parameters and fitted attributes (None if unfitted).

        A parameter that is also a fitted attribute (a ``prefit`` model) is saved once, as
        the attribute, and the parameter refers to it.
        """
        names = _fitted_names(estimator) if _is_fitted(estimator) else []
        fitted = {name: self.attribute(estimator, name, _join(where, name)) for name in names}
        own = {id(getattr(estimator, name)): name for name in names
               if isinstance(getattr(estimator, name), BaseEstimator)}
        params = {name: {"__same_as__": own[id(value)]} if id(value) in own else self.value(value, _join(where, name))
                  for name, value in estimator.get_params(deep=False).items()}
        return {"class": type(estimator).__name__, "params": params, "fitted": fitted if names else None}

    def attribute(self, owner: BaseEstimator, name: str, where: str) -> Any:
        value = getattr(owner, name)
        if isinstance(value, torch.nn.Module) and not hasattr(owner, "_module_for"):
            raise TypeError(f"cannot save {where}: a torch module is saved as weights, and "
                            f"{type(owner).__name__} has no _module_for(name) to rebuild it")
        return self.value(value, where)

    def value(self, value: Any, where: str) -> Any:  # noqa: PLR0911 (one branch per kind)
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return {"__array__": torch.from_numpy(np.ascontiguousarray(value))}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v, f"{where}[{i}]") for i, v in enumerate(value))
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if isinstance(value, torch.device):
            return {"__device__": str(value)}
        if isinstance(value, Window):
            return {"__window__": dataclasses.asdict(value)}
        if isinstance(value, Transform):
            return {"__transform__": value.to_dict()}
        if isinstance(value, History):
            return {"__history__": value.as_dict()}
        if isinstance(value, Trainer):
            return {"__trainer__": {k: self.value(v, where) for k, v in value.get_params(deep=False).items()}}
        if isinstance(value, DensityEstimator):
            if _is_fitted(value):
                return {"__density__": value.to_payload()}
            return {"__estimator__": self.estimator(value, where)}
        if isinstance(value, BaseEstimator) and type(value).__name__ in _estimator_classes():
            return {"__estimator__": self.estimator(value, where)}
        if isinstance(value, BaseEstimator) and type(value).__module__.startswith("sklearn."):
            self.pickles.append(value)
            return {"__pickled__": len(self.pickles) - 1}
        if isinstance(value, torch.nn.Module):
            return {"__module__": value.state_dict()}
        raise TypeError(f"cannot save {where}: a {type(value).__name__} is not a kind of value a saved "
                        "method can hold (likely's estimators, arrays, tensors, numbers, strings)")


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _is_fitted(estimator: BaseEstimator) -> bool:
    return any(name.endswith("_") and not name.startswith("_") for name in vars(estimator))


class _Decoder:
    """The inverse of :class:`_Encoder`, onto one device."""

    def __init__(self, pickles: list, device: str, target: torch.device) -> None:
        self.pickles, self.device, self.target = pickles, device, target
        self.classes = _estimator_classes()

    def estimator(self, spec: dict) -> BaseEstimator:
        """Parameters, then fitted attributes, then references to them, then torch modules."""
        cls = self.classes.get(spec["class"])
        if cls is None:
            raise ValueError(f"unknown estimator class {spec['class']!r} in a saved method")
        params, fitted = spec["params"], spec["fitted"] or {}
        references = {name: value["__same_as__"] for name, value in params.items()
                      if isinstance(value, dict) and "__same_as__" in value}
        estimator = cls(**{name: self.value(value) for name, value in params.items() if name not in references})
        modules = {name: value["__module__"] for name, value in fitted.items()
                   if isinstance(value, dict) and "__module__" in value}
        for name, value in fitted.items():
            if name not in modules:
                setattr(estimator, name, self.value(value))
        estimator.set_params(**{name: getattr(estimator, target) for name, target in references.items()})
        for name, weights in modules.items():
            module = estimator._module_for(name)
            module.load_state_dict(weights)
            setattr(estimator, name, module.to(self.target).eval())
        return estimator

    def value(self, value: Any) -> Any:  # noqa: PLR0911 (one branch per kind)
        if isinstance(value, list | tuple):
            return type(value)(self.value(v) for v in value)
        if not isinstance(value, dict) or len(value) != 1:
            return value
        (kind, content), = value.items()
        if kind == "__array__":
            return content.cpu().numpy()
        if kind == "__device__":
            return self.target
        if kind == "__window__":
            return Window(**content)
        if kind == "__transform__":
            return transform_from_dict(content)
        if kind == "__history__":
            return History(**content)
        if kind == "__trainer__":
            return Trainer(**content)
        if kind == "__density__":
            return self.classes[content["class"]].from_payload(content, device=self.device, source="a saved method")
        if kind == "__estimator__":
            return self.estimator(content)
        if kind == "__pickled__":
            return self.pickles[content]
        return value
