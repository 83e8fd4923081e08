"""Regression metrics (NumPy, running means) and the probabilistic/hinge losses as metrics.

::

    mean_squared_error:             mean((p - t)^2, -1)
    root_mean_squared_error:        sqrt(sum(w (p - t)^2) / sum(w))   over all elements seen
    mean_absolute_error:            mean(|p - t|, -1)
    mean_absolute_percentage_error: 100 mean(|t - p| / max(|t|, eps), -1)
    mean_squared_logarithmic_error: mean((log(max(p, eps) + 1) - log(max(t, eps) + 1))^2, -1)
    cosine_similarity (metric):     sum(l2_normalize(t) * l2_normalize(p), axis)   (+1 = same direction)
    logcosh:                        mean(log(cosh(p - t)), -1)

>>> m = RootMeanSquaredError()
>>> m.update_state([[0.0], [0.0]], [[3.0], [4.0]]); round(float(m.result()), 4)
3.5355
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import epsilon
from featherflow.keras import losses as _losses
from featherflow.keras.metrics.base import Mean, MeanMetricWrapper, _result, match_ranks, public, to_array


def _f(y_true, y_pred):
    return np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)


def _mse(y_true, y_pred):
    """Mean squared error over the last axis."""
    t, p = _f(y_true, y_pred)
    return np.square(p - t).mean(axis=-1)


def _mae(y_true, y_pred):
    """Mean absolute error over the last axis."""
    t, p = _f(y_true, y_pred)
    return np.abs(p - t).mean(axis=-1)


def _mape(y_true, y_pred):
    """Mean absolute percentage error over the last axis."""
    t, p = _f(y_true, y_pred)
    return 100.0 * (np.abs(t - p) / np.maximum(np.abs(t), epsilon())).mean(axis=-1)


def _msle(y_true, y_pred):
    """Mean squared logarithmic error over the last axis."""
    t, p = _f(y_true, y_pred)
    eps = epsilon()
    return np.square(np.log(np.maximum(p, eps) + 1.0) - np.log(np.maximum(t, eps) + 1.0)).mean(axis=-1)


def _l2_normalize(x, axis):
    return x / np.sqrt(np.maximum((x * x).sum(axis=axis, keepdims=True), 1e-12))


def _cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity along ``axis`` (1 = same direction)."""
    t, p = _f(y_true, y_pred)
    return (_l2_normalize(t, axis) * _l2_normalize(p, axis)).sum(axis=axis)


def _logcosh(y_true, y_pred):
    """``mean(log(cosh(p - t)), -1)`` in the overflow-free form."""
    t, p = _f(y_true, y_pred)
    e = p - t
    return (e + np.logaddexp(0.0, -2.0 * e) - np.log(2.0)).mean(axis=-1)


mean_squared_error = mse = public(_mse, "mean_squared_error")
mean_absolute_error = mae = public(_mae, "mean_absolute_error")
mean_absolute_percentage_error = mape = public(_mape, "mean_absolute_percentage_error")
mean_squared_logarithmic_error = msle = public(_msle, "mean_squared_logarithmic_error")
cosine_similarity = public(_cosine_similarity, "cosine_similarity")
logcosh = log_cosh = public(_logcosh, "logcosh")


def _wrapper(fn, default_name, doc, **fixed):
    class _Metric(MeanMetricWrapper):
        def __init__(self, name=default_name, dtype=None):
            super().__init__(fn, name=name, dtype=dtype, **fixed)

    _Metric.__doc__ = doc
    return _Metric


MeanSquaredError = _wrapper(mean_squared_error, "mean_squared_error", "Running mean squared error.")
MeanAbsoluteError = _wrapper(mean_absolute_error, "mean_absolute_error", "Running mean absolute error.")
MeanAbsolutePercentageError = _wrapper(mean_absolute_percentage_error, "mean_absolute_percentage_error",
                                       "Running mean absolute percentage error.")
MeanSquaredLogarithmicError = _wrapper(mean_squared_logarithmic_error, "mean_squared_logarithmic_error",
                                       "Running mean squared logarithmic error.")
LogCoshError = _wrapper(logcosh, "logcosh", "Running mean of log(cosh(error)).")
Hinge = _wrapper(_losses.hinge, "hinge", "Running mean hinge loss.")
SquaredHinge = _wrapper(_losses.squared_hinge, "squared_hinge", "Running mean squared hinge loss.")
CategoricalHinge = _wrapper(_losses.categorical_hinge, "categorical_hinge", "Running mean categorical hinge loss.")
KLDivergence = _wrapper(_losses.kl_divergence, "kullback_leibler_divergence", "Running mean KL divergence.")
Poisson = _wrapper(_losses.poisson, "poisson", "Running mean Poisson loss.")
for _cls, _name in ((MeanSquaredError, "MeanSquaredError"), (MeanAbsoluteError, "MeanAbsoluteError"),
                    (MeanAbsolutePercentageError, "MeanAbsolutePercentageError"),
                    (MeanSquaredLogarithmicError, "MeanSquaredLogarithmicError"), (LogCoshError, "LogCoshError"),
                    (Hinge, "Hinge"), (SquaredHinge, "SquaredHinge"), (CategoricalHinge, "CategoricalHinge"),
                    (KLDivergence, "KLDivergence"), (Poisson, "Poisson")):
    _cls.__name__ = _cls.__qualname__ = _name


class CosineSimilarity(MeanMetricWrapper):
    """Running mean cosine similarity along ``axis``."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """``sqrt`` of the running (weighted) mean of elementwise squared errors."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = match_ranks(to_array(y_true, np.float64), to_array(y_pred, np.float64))
        super().update_state(np.square(p - t), sample_weight)

    def result(self):
        count = self.count.value
        return _result(np.sqrt(self.total.value / count) if count else 0.0)


class BinaryCrossentropy(MeanMetricWrapper):
    """Running mean binary cross-entropy."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(_losses.binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Running mean categorical cross-entropy."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(_losses.categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Running mean sparse categorical cross-entropy."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None,
                 axis=-1):
        super().__init__(_losses.sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)
