"""The one save format of ``likely``: a folder with a checksummed manifest and a ``weights_only`` payload.

Every saveable object (density models, classifiers, resonant methods, detectors, CaloFlow,
autoencoders) is written the same way::

    manifest.json   format, class, package versions, readable hyperparameters, and the
                    SHA-256 checksum of every other file (checked before anything is read)
    weights.pt      the object as plain data (tensors, numbers, strings, lists, dicts):
                    read with ``torch.load(weights_only=True)``, which runs no code
    sklearn.pkl     only for objects holding scikit-learn estimators (boosted trees),
                    pickled as scikit-learn documents. Unpickling can run code, so
                    :func:`load` refuses such a folder unless the caller passes
                    ``trust=True``.

An object is encoded by kind: ``None``, booleans, numbers, strings, NumPy arrays and
scalars, tensors, lists, tuples and string-keyed dicts as themselves; dataclasses and
scikit-learn-style estimators of ``likely`` by class (a ``likely.*`` class path),
constructor parameters and fitted attributes (public names ending in ``_``), recursively;
a user's subclass of a saveable ``likely`` class (e.g. a new resonant method) the same way
under its own class path, which :func:`load` imports only with ``trust=True`` (importing a
module runs its code); objects with a ``to_dict()`` / ``from_dict(spec)`` pair (the
transforms) through those; scikit-learn's own estimators pickled; and torch modules held as
fitted attributes as weights only: the owner rebuilds the untrained module with its public
``init_module(name)`` and the weights are loaded into it. Anything else is refused before
a file is written.

The folder is written atomically (a temporary folder renamed into place).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import io
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
from likely._device import resolve_device
from likely._io import atomic_dir, write_json

__all__ = ["FORMAT", "Saveable", "load", "save", "torch_bytes"]

log = logging.getLogger(__name__)

FORMAT = "likely-model/2"
MANIFEST, WEIGHTS, PICKLES = "manifest.json", "weights.pt", "sklearn.pkl"
#: manifests of the formats likely 0.1 wrote, with what to do about them
_LEGACY = {"method.json": "likely-method/1"}


class Saveable:
    """Mixin: ``save(path)`` and ``load(path, device, trust=False)`` through :mod:`likely._persist`.

    Subclasses whose fitted attributes include torch modules implement
    :meth:`init_module`; attributes named in ``_not_saved`` (training data kept for
    inspection) are left out of the folder.
    """

    #: fitted attributes kept for inspection but not saved
    _not_saved: tuple[str, ...] = ()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted object to the folder ``path``, atomically; returns ``path``.

        An existing saved model at ``path`` is replaced; any other existing file or
        non-empty folder is refused (``FileExistsError``).
        """
        return save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "auto", *, trust: bool = False):
        """Load an object written by :meth:`save` onto ``device``; it must be a ``cls``.

        ``trust=True`` is needed for folders holding pickled scikit-learn models
        (boosted-tree classifiers): unpickling can execute code.
        """
        return load(path, device, expected=cls, trust=trust)

    def init_module(self, name: str) -> torch.nn.Module:
        """The untrained torch module of fitted attribute ``name``, to load saved weights into."""
        raise TypeError(f"{type(self).__name__} holds no torch module {name!r} to rebuild")


# ------------------------------------------------------------------ save / load
def torch_bytes(obj: Any) -> bytes:
    """``obj`` as ``torch.save`` writes it, in memory.

    Written to disk by Python, a full disk raises the usual ``OSError`` (ENOSPC) instead of
    the C++ writer's message ("unexpected pos ...") that ``torch.save`` gives.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def save(obj: Any, path: str | os.PathLike) -> Path:
    """Write the fitted ``obj`` to the folder ``path`` (see the module docstring)."""
    if not _is_fitted(obj):
        raise ValueError(f"this {type(obj).__name__} is not fitted yet: fit it before saving")
    path = Path(path)
    if path.exists() and not (path / MANIFEST).is_file() and not (path.is_dir() and not any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not a saved model; refusing to overwrite it")
    encoder = _Encoder()
    state = encoder.value(obj, type(obj).__name__)
    with atomic_dir(path) as tmp:
        (tmp / WEIGHTS).write_bytes(torch_bytes(state))
        files = {WEIGHTS: _sha256(tmp / WEIGHTS)}
        if encoder.pickles:
            with open(tmp / PICKLES, "wb") as stream:
                pickle.dump(encoder.pickles, stream, protocol=pickle.HIGHEST_PROTOCOL)
            files[PICKLES] = _sha256(tmp / PICKLES)
        write_json(tmp / MANIFEST, {
            "format": FORMAT,
            "class": _class_path(type(obj)),
            "versions": _versions(),
            "params": {name: _readable(v) for name, v in obj.get_params(deep=False).items()}
            if isinstance(obj, BaseEstimator) else {},
            "files": files,
        })
    return path


def load(path: str | os.PathLike, device: str = "auto", *, expected: type | None = None, trust: bool = False):
    """Load an object written by :func:`save` onto ``device``.

    ``expected``: the class (or a base class) the saved object must be. Raises
    ``FileNotFoundError`` for a missing path and ``ValueError`` naming the path and the
    problem for anything that is not an intact saved model of this format, or that holds
    pickles while ``trust`` is False.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no saved model at {path}: no such file or folder")
    manifest = _read_manifest(path)
    cls = _resolve_class(manifest.get("class"), f"{path / MANIFEST}", trust)
    if expected is not None and not issubclass(cls, expected):
        raise ValueError(f"{path} holds a {cls.__name__}, not a {expected.__name__}")
    files = manifest["files"]
    _verify_files(path, files)
    saved = manifest.get("versions", {})
    if saved.get("likely") != likely.__version__:
        log.warning("%s was saved by likely %s; this is likely %s", path, saved.get("likely"), likely.__version__)
    pickles = _read_pickles(path, saved) if PICKLES in files and _trusted(path, trust) else []
    target = resolve_device(device)
    try:
        state = torch.load(path / WEIGHTS, map_location="cpu", weights_only=True)
        return _Decoder(pickles, device, target, trust).value(state)
    except (KeyError, TypeError, pickle.UnpicklingError, RuntimeError) as error:
        raise ValueError(f"{path} could not be loaded: {type(error).__name__}: {error}") from error


def _read_manifest(path: Path) -> dict:
    if path.is_file():
        raise ValueError(f"{path} is a single file, as likely 0.1 saved models; this likely ({likely.__version__}) "
                         "saves and reads models as folders: retrain and save the model again")
    for legacy, old_format in _LEGACY.items():
        if (path / legacy).is_file() and not (path / MANIFEST).is_file():
            raise ValueError(f"{path} was saved by likely 0.1 (format {old_format!r}), which this likely "
                             f"({likely.__version__}) does not read: rerun the training to save it again")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ValueError(f"{path} is not a saved model: it has no {MANIFEST} (write one with obj.save(path))")
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


def _verify_files(path: Path, files: dict) -> None:
    """Every listed file is a regular file inside ``path`` with its recorded checksum."""
    for name, digest in files.items():
        file = path / name
        if file.is_symlink() or not file.is_file():
            raise ValueError(f"{path} is an incomplete saved model: {name} is missing or not a regular file")
        if _sha256(file) != digest:
            raise ValueError(f"{file} is corrupted or was changed after saving (checksum mismatch)")


def _trusted(path: Path, trust: bool) -> bool:
    if not trust:
        raise ValueError(
            f"{path} holds pickled scikit-learn models ({PICKLES}, e.g. boosted-tree classifiers); unpickling "
            "can execute code, so it is loaded only on request: pass trust=True (command line: --trust) if "
            "you trust where the folder came from"
        )
    return True


def _read_pickles(path: Path, saved: dict) -> list:
    if saved.get("sklearn") != sklearn.__version__:
        warnings.warn(f"{path} holds scikit-learn {saved.get('sklearn')} models; this is scikit-learn "
                      f"{sklearn.__version__}, and unpickling across versions is unsupported "
                      "(results may differ): refit with this version", UserWarning, stacklevel=3)
    with open(path / PICKLES, "rb") as stream:
        return pickle.load(stream)  # noqa: S301  (checksummed, and only with trust=True)


def _versions() -> dict:
    return {"likely": likely.__version__, "torch": torch.__version__, "sklearn": sklearn.__version__,
            "python": platform.python_version()}


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


# ---------------------------------------------------------------------- classes
def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _is_likely_class(cls: type) -> bool:
    return cls.__module__ == "likely" or cls.__module__.startswith("likely.")


def _resolve_class(spec: Any, where: str, trust: bool = False) -> type:
    """The class named ``"module:qualname"``: one of ``likely``, or with ``trust`` a
    :class:`Saveable` class from outside it (a user's method; importing its module runs code)."""
    if not isinstance(spec, str) or ":" not in spec:
        raise ValueError(f"{where} names no class (got {spec!r})")
    module_name, qualname = spec.split(":", 1)
    inside = module_name == "likely" or module_name.startswith("likely.")
    if not (inside or trust):
        raise ValueError(f"{where} names {spec!r}, a class from outside likely; importing its module runs that "
                         "module's code, so it is loaded only on request: pass trust=True (command line: --trust) "
                         "if you trust where the folder came from")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        missing = f"this likely ({likely.__version__}) does not have" if inside else "cannot be imported here"
        raise ValueError(f"{where} names {spec!r}, which {missing}") from None
    if inside and not (isinstance(found, type) and _is_likely_class(found)):
        raise ValueError(f"{where} names {spec!r}, which is not a class of likely")
    if not inside and not (isinstance(found, type) and issubclass(found, Saveable)):
        raise ValueError(f"{where} names {spec!r}, which is not a saveable likely object")
    return found


def _fitted_names(obj: Any) -> list[str]:
    """Public fitted attributes (ending in ``_``) less those the class keeps out of saves."""
    skip = getattr(obj, "_not_saved", ())
    return [name for name in vars(obj) if name.endswith("_") and not name.startswith("_") and name not in skip]


def _is_fitted(obj: Any) -> bool:
    return any(name.endswith("_") and not name.startswith("_") for name in vars(obj))


# ----------------------------------------------------------------------- coding
class _Encoder:
    """Objects to plain data; scikit-learn estimators collected in ``pickles``."""

    def __init__(self) -> None:
        self.pickles: list = []

    def estimator(self, estimator: BaseEstimator, where: str) -> dict:
        """Class, parameters and fitted attributes (None if unfitted).

        A parameter that is also a fitted attribute (a ``prefit`` model) is saved once, as
        the attribute, and the parameter refers to it.
        """
        names = _fitted_names(estimator) if _is_fitted(estimator) else []
        fitted = {name: self.attribute(estimator, name, f"{where}.{name}") for name in names}
        own = {id(getattr(estimator, name)): name for name in names
               if isinstance(getattr(estimator, name), BaseEstimator)}
        params = {name: {"__same_as__": own[id(value)]} if id(value) in own else self.value(value, f"{where}.{name}")
                  for name, value in estimator.get_params(deep=False).items()}
        return {"class": _class_path(type(estimator)), "params": params, "fitted": fitted if names else None}

    def attribute(self, owner: Any, name: str, where: str) -> Any:
        value = getattr(owner, name)
        if isinstance(value, torch.nn.Module):
            if type(owner).init_module is Saveable.init_module or not isinstance(owner, Saveable):
                raise TypeError(f"cannot save {where}: a torch module is saved as weights, and "
                                f"{type(owner).__name__} has no init_module(name) to rebuild it")
            return {"__module__": value.state_dict()}
        return self.value(value, where)

    def value(self, value: Any, where: str) -> Any:  # noqa: PLR0911 (one branch per kind)
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise TypeError(f"cannot save {where}: an object array")
            return {"__array__": torch.from_numpy(np.ascontiguousarray(value))}
        if isinstance(value, torch.Tensor):
            return {"__tensor__": value.detach().cpu()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v, f"{where}[{i}]") for i, v in enumerate(value))
        if isinstance(value, dict):
            return {"__dict__": self.mapping(value, where)}
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if isinstance(value, torch.device):
            return {"__device__": str(value)}
        cls = type(value)
        if _is_likely_class(cls) or isinstance(value, Saveable):
            return self.likely_object(value, where)
        if isinstance(value, BaseEstimator) and cls.__module__.startswith("sklearn."):
            self.pickles.append(value)
            return {"__pickled__": len(self.pickles) - 1}
        raise TypeError(f"cannot save {where}: a {cls.__name__} is not a kind of value a saved model can hold "
                        "(likely's estimators, arrays, tensors, numbers, strings)")

    def likely_object(self, value: Any, where: str) -> dict:
        cls = type(value)
        if isinstance(value, BaseEstimator):
            return {"__estimator__": self.estimator(value, where)}
        if dataclasses.is_dataclass(value):
            fields = {f.name: self.value(getattr(value, f.name), f"{where}.{f.name}")
                      for f in dataclasses.fields(value)}
            return {"__dataclass__": {"class": _class_path(cls), "fields": fields}}
        if callable(getattr(value, "to_dict", None)) and callable(getattr(cls, "from_dict", None)):
            return {"__object__": {"class": _class_path(cls), "state": self.value(value.to_dict(), where)}}
        raise TypeError(f"cannot save {where}: a {cls.__name__} is neither an estimator, a dataclass, "
                        "nor an object with to_dict/from_dict")

    def mapping(self, value: dict, where: str) -> dict:
        if not all(isinstance(key, str) for key in value):
            raise TypeError(f"cannot save {where}: a dict with keys other than strings")
        return {key: self.value(v, f"{where}[{key!r}]") for key, v in value.items()}


class _Decoder:
    """The inverse of :class:`_Encoder`, with torch modules and ``device_`` onto one device."""

    def __init__(self, pickles: list, device: str, target: torch.device, trust: bool) -> None:
        self.pickles, self.device, self.target, self.trust = pickles, device, target, trust

    def estimator(self, spec: dict) -> BaseEstimator:
        """Parameters, then fitted attributes, then references to them, then torch modules."""
        cls = _resolve_class(spec["class"], "a saved estimator", self.trust)
        if not issubclass(cls, BaseEstimator):
            raise ValueError(f"a saved estimator names {spec['class']!r}, which is not an estimator")
        params, fitted = spec["params"], spec["fitted"] or {}
        references = {name: value["__same_as__"] for name, value in params.items()
                      if isinstance(value, dict) and "__same_as__" in value}
        kwargs = {name: self.value(value) for name, value in params.items() if name not in references}
        if "device" in kwargs:
            kwargs["device"] = self.device  # refits go where the model was loaded
        estimator = cls(**kwargs)
        modules = {name: value["__module__"] for name, value in fitted.items()
                   if isinstance(value, dict) and "__module__" in value}
        for name, value in fitted.items():
            if name not in modules:
                setattr(estimator, name, self.value(value))
        estimator.set_params(**{name: getattr(estimator, target) for name, target in references.items()})
        for name, weights in modules.items():
            module = estimator.init_module(name)
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
            return content.numpy()
        if kind == "__tensor__":
            return content
        if kind == "__dict__":
            return {key: self.value(v) for key, v in content.items()}
        if kind == "__device__":
            return self.target
        if kind == "__estimator__":
            return self.estimator(content)
        if kind == "__dataclass__":
            cls = _resolve_class(content["class"], "a saved dataclass")
            return cls(**{name: self.value(v) for name, v in content["fields"].items()})
        if kind == "__object__":
            return _resolve_class(content["class"], "a saved object").from_dict(self.value(content["state"]))
        if kind == "__pickled__":
            return self.pickles[content]
        return value
