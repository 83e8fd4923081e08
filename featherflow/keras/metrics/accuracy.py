"""The accuracy family: per-sample match functions (NumPy) and their running-mean metrics.

::

    accuracy:                      y_true == y_pred (elementwise)
    binary_accuracy(threshold):    mean(y_true == (y_pred > threshold), -1)
    categorical_accuracy:          argmax(y_true, -1) == argmax(y_pred, -1)
    sparse_categorical_accuracy:   y_true == argmax(y_pred, -1)
    [sparse_]top_k_categorical:    the true class is among the k highest scores (ties count as in)

>>> m = SparseCategoricalAccuracy()
>>> m.update_state([1, 0], [[0.1, 0.9], [0.4, 0.6]]); float(m.result())
0.5
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.metrics.base import MeanMetricWrapper, public


def _accuracy(y_true, y_pred):
    """Elementwise equality of ``y_true`` and ``y_pred`` as 0/1 floats."""
    if y_true.dtype != y_pred.dtype:
        y_pred = y_pred.astype(y_true.dtype)
    return (y_true == y_pred).astype(np.float64)


def _binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of ``y_true == (y_pred > threshold)``."""
    matches = y_true == (y_pred > threshold)
    return matches.mean(axis=-1) if matches.ndim else matches.astype(np.float64)


def _categorical_accuracy(y_true, y_pred):
    """``argmax(y_true, -1) == argmax(y_pred, -1)`` per sample."""
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def _sparse_categorical_accuracy(y_true, y_pred):
    """``y_true == argmax(y_pred, -1)`` per sample (``y_true`` of shape ``(batch,)`` or ``(batch, 1)``)."""
    shape = y_true.shape
    if y_true.ndim == y_pred.ndim and y_true.ndim:
        y_true = y_true.reshape(y_true.shape[:-1])
    matches = y_true == np.argmax(y_pred, axis=-1)
    return matches.astype(np.float64).reshape(shape)


def _sparse_top_k(y_true, y_pred, k=5):
    """Whether the true class is among the ``k`` highest predictions (TensorFlow's ``in_top_k``)."""
    classes = y_pred.shape[-1]
    scores = y_pred.reshape(-1, classes)
    labels = y_true.reshape(-1).astype(np.int64)
    if labels.size != scores.shape[0]:
        raise ValueError(f"sparse_top_k_categorical_accuracy: expected one label per prediction row. Received: "
                         f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
    inside = (labels >= 0) & (labels < classes)
    target = scores[np.arange(labels.size), np.where(inside, labels, 0)]
    # ties straddling the k-th place count as "in the top k", as in tf.math.in_top_k
    matches = ((scores > target[:, None]).sum(axis=-1) < k) & inside & np.isfinite(target)
    return matches.astype(np.float64).reshape(y_true.shape)


def _top_k(y_true, y_pred, k=5):
    """Top-k accuracy for one-hot ``y_true``."""
    return _sparse_top_k(np.argmax(y_true, axis=-1), y_pred, k=k)


accuracy = public(_accuracy, "accuracy")
binary_accuracy = public(_binary_accuracy, "binary_accuracy")
categorical_accuracy = public(_categorical_accuracy, "categorical_accuracy")
sparse_categorical_accuracy = public(_sparse_categorical_accuracy, "sparse_categorical_accuracy")
top_k_categorical_accuracy = public(_top_k, "top_k_categorical_accuracy")
sparse_top_k_categorical_accuracy = public(_sparse_top_k, "sparse_top_k_categorical_accuracy")


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels (elementwise)."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the binary labels."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of the predictions matches the argmax of one-hot labels."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of the predictions matches integer labels."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top ``k`` predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top ``k`` predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
