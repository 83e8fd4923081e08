"""``to_categorical`` and ``normalize``: label and feature helpers on NumPy arrays.

>>> to_categorical([0, 2, 1], num_classes=3)
array([[1., 0., 0.],
       [0., 0., 1.],
       [0., 1., 0.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np


def _as_numpy(x) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


def to_categorical(y, num_classes: int | None = None, dtype="float32") -> np.ndarray:
    """Converts a class vector (integers) to a binary class matrix (one-hot).

    Args:
        y: array-like of class indices in ``[0, num_classes)``; shape ``(...)`` or ``(..., 1)``.
        num_classes: number of classes; default ``max(y) + 1``.
        dtype: output dtype.

    Returns:
        Array of shape ``y.shape + (num_classes,)`` (a trailing axis of size 1 is dropped first),
        with ``out[..., k] = 1`` where ``y == k`` and 0 elsewhere.

    >>> to_categorical([[1], [0]]).shape
    (2, 2)
    """
    y = _as_numpy(y)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError(f"`to_categorical` expects integer class indices. Received: y={y!r}")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"`to_categorical` expects integer class indices. Received: y.dtype={y.dtype}")
    y = y.astype(np.int64)
    shape = y.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    y = y.reshape(-1)
    if num_classes is None or num_classes == 0:
        num_classes = int(y.max()) + 1 if y.size else 0
    num_classes = int(num_classes)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"Class indices must be in [0, num_classes={num_classes}). "
            f"Received: min(y)={int(y.min())}, max(y)={int(y.max())}. "
            "Pass a larger `num_classes` or fix the labels."
        )
    categorical = np.zeros((y.shape[0], num_classes), dtype=dtype)
    categorical[np.arange(y.shape[0]), y] = 1
    return categorical.reshape(shape + (num_classes,))


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Normalizes an array to unit ``order``-norm along ``axis``: ``x / ||x||_order``.

    Zero-norm slices are returned unchanged (divided by 1), as in Keras. The output has the
    input's shape.

    Args:
        x: array to normalize.
        axis: axis along which to normalize.
        order: normalization order (2 for L2, 1 for L1, ...), as in ``np.linalg.norm``.

    >>> normalize([[3.0, 4.0], [0.0, 0.0]])
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    x = _as_numpy(x)
    if x.dtype.kind not in "fc":
        x = x.astype(np.float64)
    # keepdims keeps a 1-D input 1-D (tf.keras 2.x returned shape (1, n) for it; Keras 3 does not).
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm


def to_ordinal(y, num_classes=None, dtype="float32") -> np.ndarray:
    """Integer classes to ordinal-regression targets: class ``k`` of ``num_classes`` becomes ``k`` ones followed by
    zeros, ``num_classes - 1`` columns (a trailing axis of 1 in ``y`` is dropped, as in ``to_categorical``).

    >>> to_ordinal([0, 1, 2, 3], num_classes=4).tolist()
    [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    """
    y = np.array(y, dtype="int64")
    shape = y.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    y = y.ravel()
    if not num_classes:
        num_classes = int(np.max(y)) + 1 if y.size else 1
    ordinal = (np.arange(num_classes - 1)[None, :] < y[:, None]).astype(dtype)
    return ordinal.reshape(tuple(shape) + (num_classes - 1,))
