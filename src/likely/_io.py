"""Atomic file writing: readers never see half-written files, crashes never corrupt old ones."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_dir", "atomic_path", "atomic_write", "check_can_create", "check_overwrite", "names_the_file", "open_hdf5",
    "remove_temporaries", "unreadable", "write_json", "write_text",
]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it over ``path``.

    For writers that need a file name (pandas, h5py). If the block raises, the temporary
    file is removed and ``path`` keeps its old content. The new file gets the usual
    permissions (0666 less the umask), not the private ones of a temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file next to ``path`` for writing; on success rename it over ``path``."""
    with atomic_path(path) as tmp, open(tmp, mode) as stream:
        yield stream


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_write(path, "w") as stream:
        json.dump(data, stream, indent=2, sort_keys=False)
        stream.write("\n")
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` atomically."""
    with atomic_write(path, "w") as stream:
        stream.write(text)
    return Path(path)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; on success it replaces ``path``.

    Readers see the old folder or the complete new one, never a half-written one. If the
    block raises, the temporary folder is removed and ``path`` is left as it was. The
    caller decides whether an existing ``path`` may be replaced.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_overwrite(path: str | os.PathLike, overwrite: bool) -> Path:
    """``path`` as a Path; ``FileExistsError`` if a file is there and ``overwrite`` is false."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    return path


@contextlib.contextmanager
def open_hdf5(path: str | os.PathLike, what: str) -> Iterator:
    """The HDF5 file ``path`` open for reading; ``what`` names the kind of file in the errors.

    A missing file raises ``FileNotFoundError``; HDF5's errors (not an HDF5 file, a truncated
    file, damaged headers, heaps or chunks) become one-line ValueErrors (:func:`unreadable`).
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} {path}")
    try:
        with h5py.File(path, "r") as handle:
            yield handle
    except (OSError, RuntimeError, KeyError) as error:  # h5py's errors for damaged headers, heaps and chunks
        raise unreadable(path, what, error) from error


def check_can_create(path: str | os.PathLike) -> None:
    """Raise ``NotADirectoryError`` if ``path`` cannot be created because a file stands where a folder must.

    Checks without creating anything, so a command can refuse its ``--out`` before any work.
    """
    path = Path(path)
    folder = next(parent for parent in path.absolute().parents if parent.exists())
    if not folder.is_dir():
        raise NotADirectoryError(f"cannot write {path}: {folder} is not a directory")


def remove_temporaries(folder: str | os.PathLike, name: str | None = None) -> int:
    """Delete what killed atomic writes left in ``folder``: ``.<name>.*.tmp`` (all ``.*.tmp`` if no ``name``).

    A process killed inside :func:`atomic_path` or :func:`atomic_dir` cannot clean up; a
    rerun calls this before writing the same targets. Returns how many were removed.
    """
    folder = Path(folder)
    pattern = f".{name}.*.tmp" if name else ".*.tmp"
    stale = sorted(folder.glob(pattern)) if folder.is_dir() else []
    for path in stale:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return len(stale)


def unreadable(path: str | os.PathLike, what: str, error: BaseException) -> ValueError:
    """A one-line ``ValueError`` for a file that ``what`` could not read.

    HDF5 libraries put their whole C back trace into the message; only its last line (the
    actual reason, e.g. "file signature not found") is kept.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = lines[-1] if lines else type(error).__name__
    return ValueError(f"{path} is not a readable {what}: {reason}")


def names_the_file(reader: Callable) -> Callable:
    """Decorate ``reader(path, ...)`` so its ValueErrors and TypeErrors name ``path``.

    Checks deep inside a reader (a container's validation, a NumPy conversion) do not know
    which file they are looking at; the message gets ``"<path>: "`` in front if it lacks it.
    """
    @functools.wraps(reader)
    def read(path, *args, **kwargs):
        try:
            return reader(path, *args, **kwargs)
        except (ValueError, TypeError) as error:
            if str(path) in str(error):
                raise
            kind = TypeError if isinstance(error, TypeError) else ValueError  # subclasses take other arguments
            raise kind(f"{path}: {error}") from error

    return read
