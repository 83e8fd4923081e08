"""``keras.utils.get_file``: download once into Keras's cache, verify, reuse offline.

The cache is tf.keras's: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``, so a file tf.keras
already downloaded is found without network. Downloads stream into a temporary file in the
cache folder and are renamed into place only once complete (``Content-Length`` reached) and
verified (``file_hash``); an interrupted or corrupted download never looks like a cached file.

``keras.datasets`` loaders can be pointed at a mirror with ``FEATHERFLOW_DATASETS_ORIGIN``
(see ``featherflow.keras.datasets``); ``get_file`` itself always fetches ``origin``.

>>> import hashlib, os, tempfile
>>> folder = tempfile.mkdtemp()
>>> with open(os.path.join(folder, "hello.txt"), "wb") as f:
...     _ = f.write(b"hello")
>>> path = get_file("hello.txt", origin="file://" + folder + "/hello.txt", cache_dir=folder,
...                 cache_subdir="cache", file_hash=hashlib.sha256(b"hello").hexdigest())  # doctest: +ELLIPSIS
Downloading data from file://...
>>> open(path, "rb").read()
b'hello'
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.parse

from featherflow.keras.utils.archives import extract_archive
from featherflow.keras.utils.io_utils import print_msg
from featherflow.keras.utils.progbar import Progbar

#: Seconds without data before a download is abandoned.
DOWNLOAD_TIMEOUT = 60.0
_CHUNK = 1 << 16


class DownloadError(OSError):
    """A file could not be downloaded (no network, HTTP error, interrupted transfer)."""


def cache_root(cache_dir: str | os.PathLike | None = None) -> str:
    """The Keras cache root: ``cache_dir``, else ``$KERAS_HOME``, else ``~/.keras``."""
    if cache_dir is None:
        cache_dir = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.expanduser(os.fspath(cache_dir))


def _resolve_hasher(algorithm: str, file_hash: str | None = None) -> str:
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None and len(file_hash) == 64):
        return "sha256"
    if algorithm in ("md5", "auto"):
        return "md5"
    raise ValueError(f'`hash_algorithm` must be "auto", "sha256" or "md5". Received: hash_algorithm={algorithm!r}')


def hash_file(fpath: str | os.PathLike, algorithm: str = "sha256", chunk_size: int = 65535) -> str:
    """Hex digest of a file (``"sha256"``, ``"md5"``; ``"auto"`` means sha256).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> hash_file(f.name, "md5")
    '900150983cd24fb0d6963f7d28e17f72'
    """
    hasher = hashlib.sha256() if algorithm in ("sha256", "auto") else hashlib.md5()
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: str | os.PathLike, file_hash: str, algorithm: str = "auto", chunk_size: int = 65535) -> bool:
    """Whether the file's sha256/md5 digest equals ``file_hash`` (algorithm from its length if auto)."""
    hasher = _resolve_hasher(algorithm, file_hash)
    return hash_file(fpath, hasher, chunk_size) == str(file_hash).lower()


def _writable_cache(root: str, cache_subdir: str) -> str:
    # tf.keras falls back to /tmp/.keras when the home cache is read-only.
    if not os.path.isdir(root):
        try:
            os.makedirs(root, exist_ok=True)
        except OSError:
            pass
    if not os.access(root, os.W_OK):
        root = os.path.join(tempfile.gettempdir(), ".keras")
    datadir = os.path.join(root, cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    return datadir


def _offline_message(fname: str, fpath: str, origin: str, reason: str) -> str:
    return (
        f"Could not download {fname!r} from {origin} ({reason}). "
        f"If this machine has no network access, download {origin} elsewhere and put it at {fpath} "
        "(the cache folder is $KERAS_HOME/<cache_subdir>, by default ~/.keras/datasets)."
    )


def _download(url: str, fname: str, fpath: str, datadir: str, show_progress: bool) -> str:
    """Streams ``url`` into a new temporary file in ``datadir``; returns its path once complete."""
    # Imported here: http.client/ssl cost ~40 ms and most programs never download.
    import http.client
    import urllib.error
    import urllib.request

    descriptor, partial = tempfile.mkstemp(prefix=f".{fname}.", suffix=".part", dir=datadir)
    try:
        with os.fdopen(descriptor, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT)
            except urllib.error.HTTPError as e:
                raise DownloadError(f"URL fetch failure on {url}: {e.code} -- {e.reason}. "
                                    + _offline_message(fname, fpath, url, f"HTTP {e.code}")) from e
            except (urllib.error.URLError, OSError) as e:
                reason = getattr(e, "reason", e)
                # The reason is in the message: no chained traceback of socket internals (one clear error).
                raise DownloadError(_offline_message(fname, fpath, url, str(reason))) from None
            with response:
                length = response.headers.get("Content-Length")
                expected = int(length) if length and length.isdigit() else None
                bar = Progbar(expected) if show_progress else None
                received = 0
                try:
                    while True:
                        chunk = response.read(_CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        received += len(chunk)
                        if bar is not None:
                            bar.update(received, finalize=False)
                except (http.client.IncompleteRead, OSError) as e:
                    raise DownloadError(
                        f"Download of {url} was interrupted after {received} bytes"
                        + (f" of {expected}" if expected is not None else "") + f" ({e!r}). Nothing was cached; try again."
                    ) from e
                if expected is not None and received != expected:
                    raise DownloadError(
                        f"Download of {url} was interrupted: received {received} bytes of {expected}. "
                        "Nothing was cached; try again."
                    )
                if bar is not None:
                    bar.target = bar.target if bar.target is not None else received
                    bar.update(received, finalize=True)
        return partial
    except BaseException:
        # Includes KeyboardInterrupt: a partial download must never stay behind.
        if os.path.exists(partial):
            os.remove(partial)
        raise


def get_file(
    fname: str | None = None,
    origin: str | None = None,
    untar: bool = False,
    md5_hash: str | None = None,
    file_hash: str | None = None,
    cache_subdir: str = "datasets",
    hash_algorithm: str = "auto",
    extract: bool = False,
    archive_format="auto",
    cache_dir: str | os.PathLike | None = None,
) -> str:
    """Downloads a file from a URL if it is not already in the cache (tf.keras's ``get_file``).

    Args:
        fname: name of the file in the cache; a bare file name (no path separator). Default: the
            last part of the origin URL's path.
        origin: original URL of the file (``http(s)://``, ``ftp://`` or ``file://``).
        untar: deprecated; ``True`` stores the file as ``fname + ".tar.gz"``, extracts it and
            returns the extracted folder ``fname``.
        md5_hash: deprecated, use ``file_hash``.
        file_hash: expected sha256 or md5 hex digest of the file.
        cache_subdir: subfolder of the cache root (``"datasets"``); an absolute path is used as is.
        hash_algorithm: ``"auto"`` (by the hash's length: 64 sha256, else md5), ``"sha256"``, ``"md5"``.
        extract: extract the file (tar or zip) next to it, refusing unsafe members.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"``, a list of those or ``None``.
        cache_dir: cache root; default ``$KERAS_HOME`` or ``~/.keras``.

    Returns:
        Path to the downloaded file (the extracted folder with ``untar=True``).

    Raises:
        ValueError: no origin, an ``fname`` with a path separator, a downloaded file whose hash does
            not match (the file is removed), or an unsafe archive.
        DownloadError: no network, HTTP error or interrupted transfer (message says where to put the
            file by hand and from which URL).
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if fname is not None:
        fname = os.fspath(fname)
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'. "
                             "Please specify the `fname` argument.")
    if "/" in fname or "\\" in fname or os.sep in fname or (os.altsep and os.altsep in fname) or fname in (".", ".."):
        raise ValueError(
            "`fname` must be a plain file name without a path separator; use `cache_dir`/`cache_subdir` "
            f"to choose the folder. Received: fname={fname!r}"
        )
    if file_hash is not None:
        hasher = _resolve_hasher(hash_algorithm, file_hash)
        file_hash = str(file_hash).lower()
    datadir = _writable_cache(cache_root(cache_dir), cache_subdir)
    untar_fpath = os.path.join(datadir, fname)
    fpath = untar_fpath + ".tar.gz" if untar else untar_fpath

    download = not os.path.exists(fpath)
    if not download and file_hash is not None and not validate_file(fpath, file_hash, hasher):
        print_msg(
            f"A local file was found at {fpath}, but it seems to be incomplete or outdated because the "
            f"{hasher} file hash does not match the original value of {file_hash} so we will re-download the data."
        )
        download = True

    if download:
        url = origin
        print_msg(f"Downloading data from {url}")
        partial = _download(url, fname, fpath, datadir, show_progress=True)
        if file_hash is not None and not validate_file(partial, file_hash, hasher):
            actual = hash_file(partial, hasher)
            os.remove(partial)
            raise ValueError(
                f"Incomplete or corrupted file detected. The {hasher} file hash of the file downloaded from "
                f"{url} is {actual}, which does not match the expected value of {file_hash}. "
                "The file was removed; nothing was cached."
            )
        os.replace(partial, fpath)

    if untar:
        if not os.path.exists(untar_fpath):
            try:
                extract_archive(fpath, datadir, archive_format="tar")
            except BaseException:
                # A half-extracted folder would be taken as complete next time.
                if os.path.isdir(untar_fpath):
                    shutil.rmtree(untar_fpath, ignore_errors=True)
                raise
        return untar_fpath
    if extract:
        extract_archive(fpath, datadir, archive_format)
    return fpath
