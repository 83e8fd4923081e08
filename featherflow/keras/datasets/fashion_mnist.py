"""Fashion-MNIST: tf.keras's ``fashion_mnist.load_data``.

60,000 training and 10,000 test 28x28 grayscale images of 10 clothing classes (0 T-shirt/top,
1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot),
from tf.keras's origin into ``~/.keras/datasets/fashion-mnist`` as tf.keras stores them.
Copyright Zalando SE, MIT licence.

Integrity: tf.keras publishes no hash for these four files, and none is written here (a hash
is only trustworthy when computed from the real file). Instead each file is checked for what can
be checked: the gzip stream must be complete (CRC and length verified by ``gzip``), the IDX
header must carry the right magic number (2049 for labels, 2051 for images), 28x28 images, and
exactly as many bytes as the header announces; images and labels must agree in count.
A file failing a check is removed from the cache so the next call downloads it again.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

from featherflow.keras.datasets._files import KERAS_DATASETS_BASE, fetch

FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
_LABELS_MAGIC = 2049
_IMAGES_MAGIC = 2051


def _read_gzip(path: str) -> bytes:
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:
        os.remove(path)
        raise ValueError(f"{path} is not a complete gzip file ({e}); it was removed, call load_data() again.") from e


def _idx_error(path: str, message: str) -> ValueError:
    os.remove(path)
    return ValueError(f"{path} is not a valid IDX file: {message}. It was removed; call load_data() again.")


def read_idx_labels(path: str) -> np.ndarray:
    """uint8 labels from a gzipped IDX1 file (magic 2049, count, then ``count`` bytes)."""
    data = _read_gzip(path)
    if len(data) < 8:
        raise _idx_error(path, "header shorter than 8 bytes")
    magic, count = struct.unpack(">II", data[:8])
    if magic != _LABELS_MAGIC:
        raise _idx_error(path, f"magic number {magic}, expected {_LABELS_MAGIC} (labels)")
    if len(data) - 8 != count:
        raise _idx_error(path, f"header announces {count} labels but the file holds {len(data) - 8}")
    return np.frombuffer(data, np.uint8, offset=8).copy()


def read_idx_images(path: str) -> np.ndarray:
    """uint8 images ``(count, 28, 28)`` from a gzipped IDX3 file (magic 2051, count, rows, cols)."""
    data = _read_gzip(path)
    if len(data) < 16:
        raise _idx_error(path, "header shorter than 16 bytes")
    magic, count, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != _IMAGES_MAGIC:
        raise _idx_error(path, f"magic number {magic}, expected {_IMAGES_MAGIC} (images)")
    if (rows, cols) != (28, 28):
        raise _idx_error(path, f"images are {rows}x{cols}, expected 28x28")
    if len(data) - 16 != count * rows * cols:
        raise _idx_error(path, f"header announces {count}x{rows}x{cols} bytes but the file holds {len(data) - 16}")
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols).copy()


def load_data():
    """Loads the Fashion-MNIST dataset.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(60000, 28, 28)`` /
        ``(10000, 28, 28)`` and uint8 labels 0-9 ``(60000,)`` / ``(10000,)``.

    Raises:
        ValueError: a file fails the gzip/IDX checks (it is removed from the cache).
        DownloadError: no network and no cached file.
    """
    cache_subdir = os.path.join("datasets", "fashion-mnist")
    paths = [fetch(KERAS_DATASETS_BASE + name, cache_subdir=cache_subdir) for name in FILES]
    y_train, x_train = read_idx_labels(paths[0]), read_idx_images(paths[1])
    y_test, x_test = read_idx_labels(paths[2]), read_idx_images(paths[3])
    for images, labels, split in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if len(images) != len(labels):
            raise ValueError(f"Fashion-MNIST {split} files disagree: {len(images)} images but {len(labels)} labels.")
    return (x_train, y_train), (x_test, y_test)
