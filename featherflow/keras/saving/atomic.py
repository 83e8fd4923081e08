"""Atomic file and directory writes: a crash mid-save never leaves a truncated file where a good one was.

The data goes to a temporary file in the target's own directory (same filesystem), is flushed and
``fsync``-ed, then ``os.replace``-d over the target (atomic on POSIX and Windows), and the directory
entry is ``fsync``-ed too. A reader sees the old complete file or the new complete file, never a mix.
A save killed before its rename leaves its temporary behind; the next save of the same target removes it
(``remove_stale_temporaries``).

>>> import os, tempfile
>>> from featherflow.keras.saving.atomic import atomic_write_bytes
>>> path = os.path.join(tempfile.mkdtemp(), "note.txt")
>>> atomic_write_bytes(path, b"hello")
>>> open(path, "rb").read()
b'hello'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time

TEMP_SUFFIX = ".fftmp"
# A temporary file or folder is named ".<target>.<host>-<pid>-<random>.fftmp": a later save of the same target
# removes those whose process is gone (same host) or that are older than STALE_AFTER seconds (any host).
STALE_AFTER = 24 * 3600
_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _temp_prefix(path: str) -> str:
    return f".{os.path.basename(path)}.{_HOST}-{os.getpid()}-"


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    if os.name != "posix":
        return True  # no safe liveness probe (os.kill would terminate it on Windows): age decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temporaries(path) -> list[str]:
    """Delete the temporary files/folders that interrupted saves of ``path`` left beside it; returns them.

    A save killed between creating its temporary and renaming it (SIGKILL, power loss) leaves a hidden
    ``.<name>.<host>-<pid>-<random>.fftmp`` as big as the model. It is removed once its process is gone (checked
    on this host) or after ``STALE_AFTER`` seconds; the temporaries of saves still running are left alone.
    Temporaries named by older featherflow versions (``.<name>.<random>.fftmp``) are removed too.
    """
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    pattern = re.compile(r"\." + re.escape(name) + r"\.(?:([0-9a-f]{8})-(\d+)-)?[A-Za-z0-9_]{8}"
                         + re.escape(TEMP_SUFFIX))
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    removed = []
    now = time.time()
    for entry in entries:
        match = pattern.fullmatch(entry)
        if match is None:
            continue
        candidate = os.path.join(directory, entry)
        host, pid = match.group(1), match.group(2)
        try:
            old = now - os.lstat(candidate).st_mtime > STALE_AFTER
        except OSError:
            continue
        if not old and host is not None and (host != _HOST or _process_alive(int(pid))):
            continue
        if os.path.isdir(candidate) and not os.path.islink(candidate):
            shutil.rmtree(candidate, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(candidate)
        removed.append(candidate)
    return removed


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _default_mode() -> int:
    """Permissions a plain ``open(path, "w")`` would give (mkstemp creates 0600 files)."""
    return 0o666 & ~_umask()


def fsync_directory(directory: str) -> None:
    """Persist a directory entry (a rename) on POSIX; a no-op where directories cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb"):
    """Context manager yielding a file object; on success the file atomically replaces ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open writes whole files; mode must be 'wb' or 'w'. Received: mode={mode!r}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp_path = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=TEMP_SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.chmod(tmp_path, os.stat(path).st_mode & 0o7777 if os.path.exists(path) else _default_mode())
        except OSError:
            pass
        os.replace(tmp_path, path)
        fsync_directory(directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file beside it, fsync, ``os.replace``)."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_directory(path, files: dict[str, bytes]) -> None:
    """Replace directory ``path`` by one holding ``files`` (``{relative name: bytes}``), atomically.

    The new directory is written and synced beside the target, then swapped in with renames; an
    interrupted swap leaves either the old or the new directory under ``path`` (or, for an instant,
    the old one under a ``.old`` name beside it, which the next save cleans up).
    """
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    remove_stale_temporaries(path)
    tmp_dir = tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=TEMP_SUFFIX, dir=parent)
    try:
        for name, data in files.items():
            target = os.path.join(tmp_dir, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            fsync_directory(os.path.dirname(target))
        os.chmod(tmp_dir, 0o777 & ~_umask())
        old = previous_directory_path(path)
        if os.path.lexists(old):
            shutil.rmtree(old, ignore_errors=True)
        if os.path.isdir(path) and not os.path.islink(path):
            os.replace(path, old)
        elif os.path.lexists(path):
            raise FileExistsError(f"Cannot save a model directory over the file {path!r}; remove it first.")
        os.replace(tmp_dir, path)
        fsync_directory(parent)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise


def previous_directory_path(path) -> str:
    """Where ``atomic_write_directory`` parks the old directory during the swap."""
    return os.path.abspath(os.fspath(path)) + ".old" + TEMP_SUFFIX
