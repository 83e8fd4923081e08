"""Reading and writing the ``.keras`` zip archive (and its unzipped directory form) defensively.

Nothing is ever extracted to disk. Before a byte is decompressed, every member is checked: a plain
relative name (no absolute path, drive letter, backslash, ``..`` or NUL), a regular file (no
symlink, device, FIFO; zip has no hard links, the directory form refuses files with several links),
no encryption, a known compression method, no duplicate or overlapping entries (the "overlapping
files" zip bomb), and sizes within ``LIMITS`` (per member, in total, and a compression-ratio bound
against zip bombs). Reads are bounded by the declared size and CRC-checked.

>>> import io
>>> from featherflow.keras.saving.archive import SafeArchive, write_zip
>>> data = write_zip({"config.json": b"{}"})
>>> SafeArchive.from_bytes(data).read("config.json")
b'{}'
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import stat
import zipfile
import zlib

from featherflow.keras.saving.errors import InvalidArchiveError, UnsafeModelError

_MiB = 1 << 20


@dataclasses.dataclass
class Limits:
    """Safety bounds applied to every archive read (adjust ``LIMITS`` for exceptionally large models).

    Attributes:
        max_member_bytes: largest uncompressed member (default 16 GiB).
        max_total_bytes: largest total uncompressed size (default 32 GiB).
        max_json_bytes: largest ``config.json`` / ``metadata.json`` (default 64 MiB).
        max_members: most entries in one archive.
        max_ratio: largest uncompressed/compressed ratio for members over 1 MiB (zip bombs).
        max_shape_ratio: how many times larger than its stored bytes an array may declare to be
            (HDF5 compression); for uncompressed storage the sizes must match exactly.
    """

    max_member_bytes: int = 16 << 30
    max_total_bytes: int = 32 << 30
    max_json_bytes: int = 64 * _MiB
    max_members: int = 100_000
    max_ratio: float = 200.0
    max_shape_ratio: float = 200.0


LIMITS = Limits()
_BAD_NAME = re.compile(r"(^[/\\])|(^[A-Za-z]:)|\\|\x00")
_ALLOWED_COMPRESSION = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}


def check_member_name(name: str) -> None:
    """Refuse absolute paths, drive letters, backslashes, NUL, ``.``/``..`` and empty components."""
    if not isinstance(name, str) or not name or len(name) > 4096 or _BAD_NAME.search(name):
        raise UnsafeModelError(f"Refused archive member {name!r}: member names must be plain relative paths.")
    parts = name.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafeModelError(f"Refused archive member {name!r}: path traversal ('..', '.', or '//') "
                               "is not allowed in a model archive.")


def _check_file_type(info: zipfile.ZipInfo) -> None:
    mode = info.external_attr >> 16
    if info.create_system == 3 and mode:  # Unix attributes present
        if stat.S_ISLNK(mode):
            raise UnsafeModelError(f"Refused archive member {info.filename!r}: symbolic links are not allowed.")
        if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise UnsafeModelError(f"Refused archive member {info.filename!r}: only regular files are allowed "
                                   f"(found file type {oct(stat.S_IFMT(mode))}).")


class SafeArchive:
    """Read-only view of a zip archive (or a model directory) that validated every member up front."""

    def __init__(self, source, limits: Limits | None = None, label: str = "archive"):
        self.limits = limits or LIMITS
        self.label = label
        self._dir = None
        self._zip = None
        if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
            self._dir = os.fspath(source)
            self._infos = self._scan_directory()
            return
        try:
            self._zip = zipfile.ZipFile(source, "r")
            infos = self._zip.infolist()
        except zipfile.LargeZipFile as e:
            raise InvalidArchiveError(f"The {label} is too large to read: {e}") from e
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, IndexError,
                OverflowError, UnicodeDecodeError) as e:
            raise InvalidArchiveError(
                f"The {label} is not a valid model archive (a zip file): {e}. It may be truncated or corrupted, "
                "or not a file saved by `model.save()`.") from e
        self._infos = self._validate_zip(infos)

    @classmethod
    def from_bytes(cls, data: bytes, limits: Limits | None = None, label: str = "archive") -> SafeArchive:
        return cls(io.BytesIO(data), limits, label)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- validation ------------------------------------------------------------------------------------
    def _validate_zip(self, infos) -> dict:
        limits = self.limits
        if len(infos) > limits.max_members:
            raise InvalidArchiveError(f"The {self.label} has {len(infos)} entries (limit {limits.max_members}).")
        seen: dict = {}
        total = 0
        for info in infos:
            check_member_name(info.filename)
            _check_file_type(info)
            if info.filename in seen:
                raise InvalidArchiveError(f"The {self.label} holds {info.filename!r} twice; refusing an ambiguous "
                                          "archive.")
            if info.flag_bits & 0x1:
                raise InvalidArchiveError(f"Archive member {info.filename!r} is encrypted; model archives are not.")
            if info.compress_type not in _ALLOWED_COMPRESSION:
                raise InvalidArchiveError(f"Archive member {info.filename!r} uses an unsupported compression method "
                                          f"({info.compress_type}); only stored and deflated members are read.")
            if info.file_size > limits.max_member_bytes:
                raise InvalidArchiveError(
                    f"Archive member {info.filename!r} would decompress to {info.file_size} bytes, beyond the limit "
                    f"of {limits.max_member_bytes} (featherflow.keras.saving.archive.LIMITS.max_member_bytes).")
            if info.file_size > _MiB and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise InvalidArchiveError(
                    f"Archive member {info.filename!r} would decompress {info.compress_size} bytes into "
                    f"{info.file_size} (ratio above {limits.max_ratio:g}): refusing a likely zip bomb.")
            total += info.file_size
            if total > limits.max_total_bytes:
                raise InvalidArchiveError(f"The {self.label} would decompress beyond {limits.max_total_bytes} bytes "
                                          "in total: refusing a likely zip bomb.")
            seen[info.filename] = info
        self._check_no_overlap(infos)
        return seen

    def _check_no_overlap(self, infos) -> None:
        """Overlapping local entries are how "quoted" zip bombs multiply one payload; refuse them."""
        spans = sorted(((info.header_offset, info) for info in infos if not info.is_dir()), key=lambda pair: pair[0])
        end = 0
        for offset, info in spans:
            if offset < end:
                raise InvalidArchiveError(f"Archive member {info.filename!r} overlaps another member: refusing a "
                                          "malformed archive (overlapping entries are a zip-bomb technique).")
            end = offset + 30 + len(info.orig_filename.encode("utf-8", "surrogateescape")) + info.compress_size

    def _scan_directory(self) -> dict:
        infos = {}
        total = 0
        root = self._dir
        for current, dirs, files in os.walk(root, followlinks=False):
            for name in list(dirs) + files:
                full = os.path.join(current, name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                check_member_name(rel)
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    raise UnsafeModelError(f"Refused {rel!r} in the model directory: symbolic links are not allowed.")
                if stat.S_ISDIR(st.st_mode):
                    continue
                if not stat.S_ISREG(st.st_mode):
                    raise UnsafeModelError(f"Refused {rel!r} in the model directory: only regular files are allowed.")
                if st.st_nlink > 1:
                    raise UnsafeModelError(f"Refused {rel!r} in the model directory: hard links are not allowed.")
                if st.st_size > self.limits.max_member_bytes:
                    raise InvalidArchiveError(f"{rel!r} is larger than the limit of {self.limits.max_member_bytes}.")
                total += st.st_size
                if total > self.limits.max_total_bytes or len(infos) >= self.limits.max_members:
                    raise InvalidArchiveError("The model directory is larger than the loader's limits.")
                infos[rel] = st.st_size
        return infos

    # -- access ----------------------------------------------------------------------------------------
    def names(self) -> list:
        """Member names (files only)."""
        if self._dir is not None:
            return list(self._infos)
        return [name for name, info in self._infos.items() if not info.is_dir()]

    def __contains__(self, name) -> bool:
        return name in self._infos and (self._dir is not None or not self._infos[name].is_dir())

    def size(self, name: str) -> int:
        info = self._infos[name]
        return info if self._dir is not None else info.file_size

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """The member's bytes, bounded by its declared size (and ``max_bytes``), CRC-checked."""
        if name not in self:
            raise InvalidArchiveError(f"The {self.label} has no member {name!r}. Members: {sorted(self.names())}")
        declared = self.size(name)
        if max_bytes is not None and declared > max_bytes:
            raise InvalidArchiveError(f"Archive member {name!r} is {declared} bytes, beyond the limit of {max_bytes}.")
        if self._dir is not None:
            with open(os.path.join(self._dir, *name.split("/")), "rb") as handle:
                data = handle.read(declared + 1)
        else:
            try:
                with self._zip.open(self._infos[name]) as handle:
                    data = handle.read(declared + 1)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError,
                    OverflowError, RuntimeError) as e:
                raise InvalidArchiveError(f"Archive member {name!r} is corrupted: {e}") from e
        if len(data) != declared:
            raise InvalidArchiveError(f"Archive member {name!r} holds {len(data)} bytes but declares {declared}: "
                                      "the file is truncated or corrupted.")
        return data


def write_zip(members: dict[str, bytes], compress: set[str] | None = None) -> bytes:
    """A zip archive (bytes) of ``{name: data}``; members named in ``compress`` are deflated, others stored."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            check_member_name(name)
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compress and name in compress else zipfile.ZIP_STORED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.create_system = 3
            archive.writestr(info, data)
    return buffer.getvalue()
