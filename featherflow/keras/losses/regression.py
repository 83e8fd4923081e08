"""Regression and margin losses: squared/absolute/percentage/log errors, Huber, log-cosh, cosine
similarity and the hinge family (tf.keras 2.12 formulas, per sample over the last axis).

::

    mean_squared_error:             mean((p - t)^2)
    mean_absolute_error:            mean(|p - t|)
    mean_absolute_percentage_error: 100 * mean(|t - p| / max(|t|, eps))
    mean_squared_logarithmic_error: mean((log(max(p, eps) + 1) - log(max(t, eps) + 1))^2)
    huber (delta):                  mean(0.5 e^2 if |e| <= delta else delta |e| - 0.5 delta^2),  e = p - t
    log_cosh:                       mean(e + softplus(-2 e) - log 2)
    cosine_similarity (axis):       -sum(l2_normalize(t) * l2_normalize(p))
    hinge:                          mean(max(1 - t p, 0))     (0/1 labels become -1/1)
    squared_hinge:                  mean(max(1 - t p, 0)^2)   (0/1 labels become -1/1)
    categorical_hinge:              max(max((1 - t) p) - sum(t p) + 1, 0)

>>> round(float(MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]])), 6)
0.5
"""

from __future__ import annotations

import math

import numpy as np

from featherflow import ops
from featherflow.backend.arrays import epsilon
from featherflow.core.tensor import Tensor
from featherflow.keras.losses._utils import Reduction, prepare
from featherflow.keras.losses.base import LossFunctionWrapper


def mean_squared_error(y_true, y_pred):
    """``mean((y_pred - y_true)^2, -1)``.

    >>> mean_squared_error([[0.0, 2.0]], [[0.0, 0.0]]).numpy()
    array([2.], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred, "mean_squared_error")
    return ops.reduce_mean(ops.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_pred - y_true|, -1)``.

    >>> mean_absolute_error([[0.0, 2.0]], [[0.0, 0.0]]).numpy()
    array([1.], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred, "mean_absolute_error")
    return ops.reduce_mean(ops.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, eps), -1)``.

    >>> mean_absolute_percentage_error([[2.0]], [[1.0]]).numpy()
    array([50.], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred, "mean_absolute_percentage_error")
    denom = Tensor(np.maximum(np.abs(y_true.value), y_true.value.dtype.type(epsilon())))
    return ops.reduce_mean(ops.abs((y_true - y_pred) / denom), axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2, -1)``.

    >>> mean_squared_logarithmic_error([[0.0]], [[0.0]]).numpy()
    array([0.], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred, "mean_squared_logarithmic_error")
    eps = epsilon()
    first = ops.log(ops.maximum(y_pred, eps) + 1.0)
    second = ops.log(ops.maximum(y_true, eps) + 1.0)
    return ops.reduce_mean(ops.square(first - second), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: quadratic for errors up to ``delta``, linear beyond.

    >>> huber([[0.0, 0.0]], [[0.5, 3.0]]).numpy()
    array([1.3125], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred, "huber")
    delta = float(delta)
    error = y_pred - y_true
    abs_error = ops.abs(error)
    quadratic = ops.square(error) * 0.5
    linear = abs_error * delta - 0.5 * delta * delta
    return ops.reduce_mean(ops.where(abs_error <= delta, quadratic, linear), axis=-1)


def _softplus(x):
    return ops.maximum(x, 0.0) + ops.log1p(ops.exp(-ops.abs(x)))


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), -1)``, computed as ``e + softplus(-2e) - log 2`` (no overflow).

    >>> log_cosh([[0.0]], [[0.0]]).numpy()
    array([0.], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred, "log_cosh")
    e = y_pred - y_true
    return ops.reduce_mean(e + _softplus(e * -2.0) - math.log(2.0), axis=-1)


def l2_normalize(x, axis=-1):
    """``x / sqrt(max(sum(x^2, axis), 1e-12))`` (differentiable)."""
    sq = ops.reduce_sum(ops.square(x), axis=axis, keepdims=True)
    return x * ops.rsqrt(ops.maximum(sq, 1e-12))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity: ``-sum(l2_normalize(t) * l2_normalize(p), axis)`` (-1 = same direction).

    >>> cosine_similarity([[1.0, 0.0]], [[2.0, 0.0]]).numpy()
    array([-1.], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred, "cosine_similarity")
    return -ops.reduce_sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


def _signed_labels(y_true: Tensor) -> Tensor:
    """Labels in {0, 1} (all of the batch) mapped to {-1, 1}, others unchanged (tf.keras's smart_cond): decided
    by an array, not a Python branch, so a compiled step decides again on every batch."""
    v = y_true.value
    return ops.where(np.all((v == 0) | (v == 1)), 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """``mean(max(1 - t * p, 0), -1)``; labels in {0, 1} are mapped to {-1, 1}.

    >>> hinge([[1.0]], [[0.25]]).numpy()
    array([0.75], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred, "hinge")
    return ops.reduce_mean(ops.maximum(1.0 - _signed_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """``mean(max(1 - t * p, 0)^2, -1)``; labels in {0, 1} are mapped to {-1, 1}.

    >>> squared_hinge([[1.0]], [[0.5]]).numpy()
    array([0.25], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred, "squared_hinge")
    return ops.reduce_mean(ops.square(ops.maximum(1.0 - _signed_labels(y_true) * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """``max(max((1 - t) * p) - sum(t * p) + 1, 0)`` for one-hot ``t``.

    >>> categorical_hinge([[0.0, 1.0]], [[0.5, 0.25]]).numpy()
    array([1.25], dtype=float32)
    """
    y_true, y_pred = prepare(y_true, y_pred, "categorical_hinge")
    pos = ops.reduce_sum(y_true * y_pred, axis=-1)
    neg = ops.reduce_max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


def _simple(fn, default_name, doc):
    class _Loss(LossFunctionWrapper):
        def __init__(self, reduction=Reduction.AUTO, name=default_name):
            super().__init__(fn, reduction=reduction, name=name)

    _Loss.__doc__ = doc
    return _Loss


MeanSquaredError = _simple(mean_squared_error, "mean_squared_error", "Mean of squared errors (see ``mean_squared_error``).")
MeanAbsoluteError = _simple(mean_absolute_error, "mean_absolute_error", "Mean of absolute errors.")
MeanAbsolutePercentageError = _simple(mean_absolute_percentage_error, "mean_absolute_percentage_error",
                                      "Mean absolute percentage error.")
MeanSquaredLogarithmicError = _simple(mean_squared_logarithmic_error, "mean_squared_logarithmic_error",
                                      "Mean squared logarithmic error.")
LogCosh = _simple(log_cosh, "log_cosh", "Logarithm of the hyperbolic cosine of the error.")
Hinge = _simple(hinge, "hinge", "Hinge loss (labels -1/1 or 0/1).")
SquaredHinge = _simple(squared_hinge, "squared_hinge", "Squared hinge loss (labels -1/1 or 0/1).")
CategoricalHinge = _simple(categorical_hinge, "categorical_hinge", "Categorical hinge loss (one-hot labels).")
for _cls, _name in ((MeanSquaredError, "MeanSquaredError"), (MeanAbsoluteError, "MeanAbsoluteError"),
                    (MeanAbsolutePercentageError, "MeanAbsolutePercentageError"),
                    (MeanSquaredLogarithmicError, "MeanSquaredLogarithmicError"), (LogCosh, "LogCosh"),
                    (Hinge, "Hinge"), (SquaredHinge, "SquaredHinge"), (CategoricalHinge, "CategoricalHinge")):
    _cls.__name__ = _cls.__qualname__ = _name


class Huber(LossFunctionWrapper):
    """Huber loss with threshold ``delta`` (see ``huber``)."""

    def __init__(self, delta=1.0, reduction=Reduction.AUTO, name="huber_loss"):
        super().__init__(huber, reduction=reduction, name=name, delta=delta)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (see ``cosine_similarity``)."""

    def __init__(self, axis=-1, reduction=Reduction.AUTO, name="cosine_similarity"):
        super().__init__(cosine_similarity, reduction=reduction, name=name, axis=axis)
