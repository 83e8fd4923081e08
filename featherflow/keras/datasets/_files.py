"""Origins, published hashes and the mirror switch shared by every ``keras.datasets`` loader.

Each hash below is the one tf.keras's own loader passes to ``get_file`` for that file
(tf-keras ``tf_keras/datasets/*.py`` and Keras ``keras/datasets/california_housing.py``). Files for
which tf.keras publishes none (the four fashion-mnist files) are absent here and checked
structurally by their loader instead.

Mirror: set ``FEATHERFLOW_DATASETS_ORIGIN`` to a base URL (``https://mirror.example/keras``,
``http://127.0.0.1:8000/``, ``file:///srv/keras-datasets/``) and every loader fetches
``<base>/<file name>`` (the last part of the tf.keras origin: ``mnist.npz``,
``cifar-10-python.tar.gz``, ...) instead of the original URL, verified against the same hashes.
"""

from __future__ import annotations

import os
import urllib.parse

from featherflow.keras.utils.file_utils import DownloadError, get_file

#: Environment variable holding the base URL of a mirror of the data set files.
ORIGIN_ENV_VAR = "FEATHERFLOW_DATASETS_ORIGIN"
#: tf.keras's bucket for most data sets.
KERAS_DATASETS_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

#: file name at the origin -> hash tf.keras publishes for it (sha256: 64 hex digits, md5: 32)
FILE_HASHES: dict[str, str] = {
    "mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    "imdb.npz": "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    "imdb_word_index.json": "bfafd718b763782e994055a2d397834f",
    "reuters.npz": "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
    "reuters_word_index.json": "4d44cc38712099c9e383dc6e5f11a921",
    "boston_housing.npz": "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
    "california_housing.npz": "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f",
    "cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    "cifar-100-python.tar.gz": "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
}


def remote_name(origin: str) -> str:
    """The file name at the end of an origin URL."""
    return urllib.parse.urlsplit(origin).path.rsplit("/", 1)[-1]


def dataset_origin(origin: str) -> str:
    """``origin``, or ``$FEATHERFLOW_DATASETS_ORIGIN/<file name>`` when the mirror variable is set.

    >>> dataset_origin(KERAS_DATASETS_BASE + "mnist.npz") == KERAS_DATASETS_BASE + "mnist.npz"
    True
    """
    mirror = os.environ.get(ORIGIN_ENV_VAR, "").strip()
    if not mirror:
        return origin
    return mirror.rstrip("/") + "/" + remote_name(origin)


def fetch(origin: str, fname: str | None = None, cache_subdir: str = "datasets", hint: str = "", **kwargs) -> str:
    """``get_file`` for a tf.keras data set file: mirror applied, published hash enforced.

    Args:
        origin: tf.keras's URL for the file.
        fname: name in the cache (default: the origin's file name); a path is taken relative to
            the cache folder, or as is when absolute (the loaders' ``path`` argument).
        cache_subdir: cache subfolder tf.keras uses for that data set.
        hint: extra advice appended to the offline error.
        **kwargs: passed to ``get_file`` (``untar``).
    """
    fname = fname or remote_name(origin)
    folder, fname = os.path.split(os.fspath(fname))
    if folder:
        cache_subdir = os.path.join(cache_subdir, folder)
    try:
        return get_file(
            fname,
            origin=dataset_origin(origin),
            file_hash=FILE_HASHES.get(remote_name(origin)),
            cache_subdir=cache_subdir,
            **kwargs,
        )
    except DownloadError as e:
        raise DownloadError(
            f"{e} To use a mirror, set {ORIGIN_ENV_VAR} to its base URL (it must serve "
            f"{remote_name(origin)!r}).{(' ' + hint) if hint else ''}"
        ) from None  # one error with the whole story, not the same one twice
