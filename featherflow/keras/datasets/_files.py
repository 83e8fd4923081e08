"""Origins and published hashes of tf.keras's dataset files (one table for every loader).

Each hash is the one tf.keras's own loader passes to ``get_file`` for that file; files for which
tf.keras publishes none (fashion-mnist) are absent and checked structurally by their loader.
"""

from __future__ import annotations

import os

from featherflow.keras.utils.file_utils import KERAS_DATASETS_BASE, get_file

#: file name -> (origin path under tf.keras's dataset bucket, published hash)
FILE_HASHES: dict[str, str] = {
    "mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
}


def fetch(remote_name: str, fname: str | None = None, cache_subdir: str = "datasets", **kwargs) -> str:
    """``get_file`` for ``KERAS_DATASETS_BASE + remote_name``, verified against ``FILE_HASHES``.

    Args:
        remote_name: path of the file under tf.keras's dataset bucket (``"mnist.npz"``).
        fname: name in the cache (default: the last part of ``remote_name``); a path is taken
            relative to the cache folder, or as is when absolute (the loaders' ``path`` argument).
        cache_subdir: cache subfolder, as tf.keras uses for that data set.
    """
    fname = fname or remote_name.rsplit("/", 1)[-1]
    folder, fname = os.path.split(os.fspath(fname))
    if folder:
        # tf.keras's loaders take `path` relative to the cache folder, or absolute.
        cache_subdir = os.path.join(cache_subdir, folder)
    return get_file(
        fname,
        origin=KERAS_DATASETS_BASE + remote_name,
        file_hash=FILE_HASHES.get(remote_name),
        cache_subdir=cache_subdir,
        **kwargs,
    )
