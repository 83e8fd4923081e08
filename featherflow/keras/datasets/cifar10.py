"""CIFAR-10 small images: tf.keras's ``cifar10.load_data``.

50,000 training and 10,000 test 32x32 colour images in 10 classes (0 airplane, 1 automobile,
2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck), from the CIFAR home page as
tf.keras fetches it (sha256 checked), extracted safely into ``~/.keras/datasets``, batches read
without general unpickling.
"""

from __future__ import annotations

import os

import numpy as np

from featherflow.keras.datasets._files import fetch
from featherflow.keras.datasets.cifar import load_batch

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def load_data():
    """Loads the CIFAR10 dataset.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(50000, 32, 32, 3)`` /
        ``(10000, 32, 32, 3)`` (channels last), uint8 labels 0-9 of shape ``(50000, 1)`` /
        ``(10000, 1)``.
    """
    path = fetch(ORIGIN, fname="cifar-10-batches-py", untar=True)
    parts = [load_batch(os.path.join(path, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([data for data, _ in parts]).astype(np.uint8)
    y_train = np.concatenate([np.asarray(labels, dtype=np.uint8) for _, labels in parts])
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    y_train = y_train.reshape(len(y_train), 1)
    y_test = np.asarray(y_test, dtype=np.uint8).reshape(len(y_test), 1)
    # featherflow is channels_last, like tf.keras on CPU.
    return (x_train.transpose(0, 2, 3, 1), y_train), (x_test.astype(np.uint8).transpose(0, 2, 3, 1), y_test)
