"""Reading the CIFAR ``python`` batches without general unpickling.

Each batch file (``data_batch_1`` ... ``test_batch`` for CIFAR-10, ``train``/``test`` for
CIFAR-100) is a Python 2 pickle of a dict with bytes keys: ``b"data"`` a uint8 NumPy array
``(n, 3072)`` (1024 red, 1024 green, 1024 blue values of a 32x32 image, row-major), and
``b"labels"`` (CIFAR-10) or ``b"fine_labels"``/``b"coarse_labels"`` (CIFAR-100) lists of ints.
It is read with ``RestrictedUnpickler``: only that array rebuild, lists, strings and numbers.
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.datasets._safe_pickle import restricted_load


def load_batch(fpath: str, label_key: str = "labels"):
    """Parses one CIFAR batch file.

    Args:
        fpath: path of the batch file.
        label_key: ``"labels"``, ``"fine_labels"`` or ``"coarse_labels"``.

    Returns:
        ``(data, labels)``: uint8 ``(n, 3, 32, 32)`` images (channels first) and the labels list.
    """
    with open(fpath, "rb") as f:
        batch = restricted_load(f, encoding="bytes")
    if not isinstance(batch, dict):
        raise ValueError(f"{fpath} is not a CIFAR batch: expected a dict, found {type(batch).__name__}.")
    batch = {key.decode("utf8") if isinstance(key, bytes) else key: value for key, value in batch.items()}
    if "data" not in batch or label_key not in batch:
        raise ValueError(f"{fpath} is not a CIFAR batch with {label_key!r}: it has keys {sorted(batch)}.")
    data = np.asarray(batch["data"])
    labels = batch[label_key]
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != data.shape[0]:
        raise ValueError(
            f"{fpath}: expected uint8 data of shape (n, 3072) and n labels, "
            f"found data {data.dtype} {data.shape} and {len(labels)} labels."
        )
    return data.reshape(data.shape[0], 3, 32, 32), labels
