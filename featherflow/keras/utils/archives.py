"""Safe extraction of tar and zip archives for ``get_file(extract=True)``.

Every member is checked before anything is written: absolute names, names that climb out of
the target with ``..``, symbolic links, hard links and device/FIFO entries make the whole archive
refused with a ``ValueError`` naming the member, so nothing lands outside the target folder.

>>> import io, tarfile, tempfile
>>> buffer = io.BytesIO()
>>> with tarfile.open(fileobj=buffer, mode="w") as tar:
...     info = tarfile.TarInfo("../evil.txt"); info.size = 0
...     tar.addfile(info, io.BytesIO(b""))
>>> _ = buffer.seek(0)
>>> with tarfile.open(fileobj=buffer) as tar:
...     check_tar_members(tar, tempfile.gettempdir())  # doctest: +ELLIPSIS
Traceback (most recent call last):
ValueError: Refusing to extract archive member '../evil.txt': ...
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # tarfile/zipfile are imported where used: most programs never extract
    import tarfile
    import zipfile


def _inside(target: str, name: str) -> bool:
    """Whether ``target/name`` resolves to a path inside ``target``."""
    root = os.path.realpath(target)
    destination = os.path.realpath(os.path.join(root, name))
    return destination == root or destination.startswith(root + os.sep)


def _check_name(name: str, target: str) -> None:
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or os.path.isabs(name) or (len(normalized) > 1 and normalized[1] == ":"):
        raise ValueError(f"Refusing to extract archive member {name!r}: it has an absolute path.")
    if ".." in normalized.split("/") or not _inside(target, name):
        raise ValueError(f"Refusing to extract archive member {name!r}: it would be written outside {target!r}.")


def check_tar_members(tar: tarfile.TarFile, target: str) -> list:
    """The members of ``tar`` if all are regular files or directories that stay inside ``target``.

    Raises:
        ValueError: naming the first member that is absolute, escapes ``target``, or is a
            symbolic link, hard link, device or FIFO.
    """
    members = tar.getmembers()
    for member in members:
        _check_name(member.name, target)
        if member.issym() or member.islnk():
            kind = "symbolic link" if member.issym() else "hard link"
            raise ValueError(
                f"Refusing to extract archive member {member.name!r}: it is a {kind} (to {member.linkname!r})."
            )
        if not (member.isfile() or member.isdir()):
            raise ValueError(f"Refusing to extract archive member {member.name!r}: it is not a regular file or folder.")
    return members


def check_zip_members(archive: zipfile.ZipFile, target: str) -> list:
    """The entries of ``archive`` if none is absolute, escapes ``target`` or is a symbolic link."""
    infos = archive.infolist()
    for info in infos:
        _check_name(info.filename, target)
        mode = info.external_attr >> 16
        if mode and stat.S_ISLNK(mode):
            raise ValueError(f"Refusing to extract archive member {info.filename!r}: it is a symbolic link.")
    return infos


def extract_archive(file_path: str, path: str = ".", archive_format="auto") -> bool:
    """Extracts a tar (optionally gz/bz2/xz) or zip archive into ``path``, refusing unsafe members.

    Args:
        file_path: the archive.
        path: target folder (created if needed).
        archive_format: ``"auto"`` (tar then zip), ``"tar"``, ``"zip"``, a list of those, or ``None``.

    Returns:
        True if the file was recognised and extracted, False if it is none of the formats.

    Raises:
        ValueError: an unsafe member (nothing is extracted then).
    """
    import tarfile
    import zipfile

    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path = os.fspath(file_path)
    path = os.fspath(path)
    for kind in archive_format:
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as tar:
                members = check_tar_members(tar, path)
                os.makedirs(path, exist_ok=True)
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: a second, independent guard
                    tar.extractall(path, members=members, filter="data")
                else:  # pragma: no cover - older Pythons; members were checked above
                    tar.extractall(path, members=members)
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                infos = check_zip_members(archive, path)
                os.makedirs(path, exist_ok=True)
                archive.extractall(path, members=infos)
            return True
        if kind not in ("tar", "zip"):
            raise ValueError(f'`archive_format` must be "auto", "tar", "zip", a list of those or None. '
                             f"Received: archive_format={kind!r}")
    return False
