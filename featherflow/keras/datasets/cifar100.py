"""CIFAR-100 small images: tf.keras's ``cifar100.load_data(label_mode)``.

50,000 training and 10,000 test 32x32 colour images in 100 fine classes grouped into 20 coarse
superclasses, from the CIFAR home page as tf.keras fetches it (sha256 checked), extracted safely,
batches read without general unpickling.
"""

from __future__ import annotations

import os

import numpy as np

from featherflow.keras.datasets._files import fetch
from featherflow.keras.datasets.cifar import load_batch

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"


def load_data(label_mode: str = "fine"):
    """Loads the CIFAR100 dataset.

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(50000, 32, 32, 3)`` /
        ``(10000, 32, 32, 3)``, labels ``(50000, 1)`` / ``(10000, 1)`` (0-99 fine, 0-19 coarse).
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.')
    path = fetch(ORIGIN, fname="cifar-100-python", untar=True)
    x_train, y_train = load_batch(os.path.join(path, "train"), label_key=label_mode + "_labels")
    x_test, y_test = load_batch(os.path.join(path, "test"), label_key=label_mode + "_labels")
    y_train = np.asarray(y_train, dtype=np.uint8).reshape(-1, 1)
    y_test = np.asarray(y_test, dtype=np.uint8).reshape(-1, 1)
    return (x_train.transpose(0, 2, 3, 1), y_train), (x_test.transpose(0, 2, 3, 1), y_test)
