"""``tf.io.gfile``: TensorFlow's file API over the local file system, with its semantics and error texts.

``GFile`` reads and writes bytes (``"rb"``/``"wb"``) or UTF-8 text; as TensorFlow's, ``read(n)`` reads ``n``
bytes and ``tell``/``seek`` count bytes, and the file is opened on first use (a missing file is a
``NotFoundError`` at the first read). Only local paths are supported (``get_registered_schemes`` says so):
``gs://`` and other remote file systems need TensorFlow's plugins.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> with GFile(path, "w") as f:
...     f.write("one\\ntwo\\n")
>>> exists(path), GFile(path).readlines()
(True, ['one\\n', 'two\\n'])
"""

from __future__ import annotations

import glob as _glob
import os
import shutil
from collections import namedtuple

from featherflow.core.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)


def _strip_scheme(path: str) -> str:
    return path[len("file://"):] if path.startswith("file://") else path


_MODES = {"r": "rb", "rb": "rb", "w": "wb", "wb": "wb", "a": "ab", "ab": "ab", "r+": "rb+", "rb+": "rb+",
          "w+": "wb+", "wb+": "wb+", "a+": "ab+", "ab+": "ab+"}


def _path(path) -> str:
    if hasattr(path, "numpy"):
        path = path.numpy()
    if hasattr(path, "item") and getattr(path, "ndim", 1) == 0:
        path = path.item()
    return _strip_scheme(os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else str(path))


def _not_found(path: str):
    return NotFoundError(None, None, f"{path}; No such file or directory")


def _os_error(path: str, exc: OSError):
    if isinstance(exc, FileNotFoundError):
        return _not_found(path)
    if isinstance(exc, IsADirectoryError):
        return FailedPreconditionError(None, None, f"{path}; Is a directory")
    if isinstance(exc, NotADirectoryError):
        return FailedPreconditionError(None, None, f"{path}; Not a directory")
    if isinstance(exc, PermissionError):
        return PermissionDeniedError(None, None, f"{path}; Permission denied")
    return exc


class GFile:
    """A file with TensorFlow's ``tf.io.gfile.GFile`` interface.

    Args:
        name: the path.
        mode: ``"r"``, ``"w"``, ``"a"``, ``"r+"``, ``"w+"``, ``"a+"``, each with an optional ``"b"``
            (binary: bytes in and out; otherwise ``str`` out, ``str`` or bytes in).
    """

    def __init__(self, name, mode: str = "r"):
        if mode not in _MODES:
            raise InvalidArgumentError(None, None, "mode is not 'r' or 'w' or 'a' or 'r+' or 'w+' or 'a+'")
        self._name, self._mode = _path(name), mode
        self._binary = "b" in mode
        self._file = None

    name = property(lambda self: self._name)
    mode = property(lambda self: self._mode)

    def _open(self):
        if self._file is None:
            try:
                self._file = open(self._name, _MODES[self._mode])  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise _os_error(self._name, exc) from None
        return self._file

    def _value(self, data: bytes):
        return data if self._binary else data.decode("utf-8")

    def _readable(self):
        if self._mode.startswith(("w", "a")) and "+" not in self._mode:
            raise PermissionDeniedError(None, None, "File isn't open for reading")
        return self._open()

    def read(self, n: int = -1):
        """``n`` bytes (all when -1), as ``str`` in text mode."""
        return self._value(self._readable().read(n if n is not None and n >= 0 else -1))

    def readline(self):
        return self._value(self._readable().readline())

    def readlines(self) -> list:
        return [self._value(line) for line in self._readable().readlines()]

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    def write(self, file_content) -> None:
        """Write ``str`` (as UTF-8) or bytes."""
        if self._mode.startswith("r") and "+" not in self._mode:
            raise PermissionDeniedError(None, None, "File isn't open for writing")
        data = file_content.encode("utf-8") if isinstance(file_content, str) else bytes(file_content)
        self._open().write(data)

    def tell(self) -> int:
        return self._open().tell()

    def seek(self, offset=None, whence: int = 0, position=None) -> int:
        """Move to a byte offset (``position`` is TensorFlow's deprecated name of ``offset``)."""
        if position is not None:
            offset = position
        return self._open().seek(offset, whence)

    def seekable(self) -> bool:
        return True

    def size(self) -> int:
        """The file's size in bytes."""
        if self._file is not None:
            self._file.flush()
        return stat(self._name).length

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if getattr(self, "_file", None) is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        self.close()


FileStatistics = namedtuple("FileStatistics", ["length", "mtime_nsec", "is_directory"])


def exists(path) -> bool:
    """Whether the path exists."""
    return os.path.exists(_path(path))


def isdir(path) -> bool:
    """Whether the path is a directory."""
    return os.path.isdir(_path(path))


def join(path, *paths) -> str:
    """The paths joined with ``/`` (``os.path.join``)."""
    return os.path.join(_path(path), *(_path(p) for p in paths))


def glob(pattern) -> list:
    """The paths matching a pattern (``*``, ``?``, ``[...]``; ``**`` matches one directory level, as TF's)."""
    return _glob.glob(_path(pattern))


def listdir(path) -> list:
    """The names in a directory (no ``.``/``..``), in the file system's order."""
    path = _path(path)
    if not os.path.isdir(path):
        raise NotFoundError(None, None, f"Could not find directory {path}")
    return os.listdir(path)


def makedirs(path) -> None:
    """Create a directory and its parents; an existing one is fine."""
    os.makedirs(_path(path), exist_ok=True)


def mkdir(path) -> None:
    """Create a directory whose parent exists (an existing one is fine, as in TensorFlow)."""
    path = _path(path)
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except OSError as exc:
        raise _os_error(path, exc) from None


def remove(path) -> None:
    """Delete a file (a directory is a FailedPreconditionError: use ``rmtree``)."""
    path = _path(path)
    if os.path.isdir(path):
        raise FailedPreconditionError(None, None, f"{path}; Is a directory")
    try:
        os.remove(path)
    except OSError as exc:
        raise _os_error(path, exc) from None


def rmtree(path) -> None:
    """Delete a directory and everything below it."""
    path = _path(path)
    if not os.path.exists(path):
        raise NotFoundError(None, None, f"{path} not found")
    shutil.rmtree(path)


def copy(src, dst, overwrite: bool = False) -> None:
    """Copy a file; an existing ``dst`` is an AlreadyExistsError unless ``overwrite``."""
    src, dst = _path(src), _path(dst)
    if not overwrite and os.path.exists(dst):
        raise AlreadyExistsError(None, None, "file already exists")
    try:
        shutil.copyfile(src, dst)
    except OSError as exc:
        raise _os_error(src if not os.path.exists(src) else dst, exc) from None


def rename(src, dst, overwrite: bool = False) -> None:
    """Move a file or directory; an existing ``dst`` is an AlreadyExistsError unless ``overwrite``."""
    src, dst = _path(src), _path(dst)
    if not overwrite and os.path.exists(dst):
        raise AlreadyExistsError(None, None, "file already exists")
    try:
        os.replace(src, dst)
    except OSError as exc:
        raise _os_error(src, exc) from None


def stat(path) -> FileStatistics:
    """``FileStatistics(length, mtime_nsec, is_directory)`` of a path."""
    path = _path(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _os_error(path, exc) from None
    return FileStatistics(info.st_size, info.st_mtime_ns, os.path.isdir(path))


def walk(top, topdown: bool = True, onerror=None):
    """``(dirname, subdirectories, files)`` for each directory under ``top`` (nothing for a missing ``top``)."""
    top = _path(top)
    if not os.path.isdir(top):
        return
    names = os.listdir(top)
    subdirs = [n for n in names if os.path.isdir(os.path.join(top, n))]
    files = [n for n in names if n not in subdirs]
    if topdown:
        yield top, subdirs, files
    for sub in subdirs:
        yield from walk(os.path.join(top, sub), topdown, onerror)
    if not topdown:
        yield top, subdirs, files


def get_registered_schemes() -> list:
    """The URI schemes this file API handles: local paths only (``""`` and ``file``)."""
    return ["file", ""]
