"""``R2Score``, ``MeanRelativeError`` and ``MeanTensor`` (tf.keras 2's).

``R2Score`` is the coefficient of determination ``1 - SS_res / SS_tot`` per output column, from running weighted
sums (so it is exact over batches), aggregated by ``class_aggregation``; with ``num_regressors`` it is adjusted:
``1 - (1 - R2) (n - 1) / (n - p - 1)``.

>>> m = R2Score()
>>> m.update_state([[1.0], [2.0], [3.0]], [[1.0], [2.0], [4.0]]); float(m.result())
0.5
"""

from __future__ import annotations

import warnings

import numpy as np

from featherflow.keras.metrics.base import Mean, Metric, _result, add_into, match_ranks, state_variable, to_array, weigh


class R2Score(Metric):
    """The coefficient of determination (see the module docstring).

    Args:
        class_aggregation: ``"uniform_average"`` (mean over outputs), ``"variance_weighted_average"`` (weighted by
            each output's variance) or ``None`` (one score per output).
        num_regressors: the number of independent variables, for the adjusted score (0: plain R2).
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in (None, "uniform_average", "variance_weighted_average"):
            raise ValueError('Invalid value for argument `class_aggregation`. Expected one of {None, '
                             f'"uniform_average", "variance_weighted_average"}}. Received: '
                             f"class_aggregation={class_aggregation}")
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, int) or num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a value >= 0. Received: "
                             f"num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self._sums = None  # (sum, squared sum, residual sum of squares, weight) per output: made by the first update
        self.num_samples = state_variable(self, "num_samples")

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = to_array(y_true, np.float64), to_array(y_pred, np.float64)
        if t.ndim == 1:
            t = t[:, None]
        if p.ndim == 1:
            p = p[:, None]
        if t.shape != p.shape or t.ndim != 2:
            raise ValueError(f"R2Score expects y_true and y_pred of the same shape (samples, outputs). Received: "
                             f"y_true.shape={t.shape}, y_pred.shape={p.shape}")
        w = np.ones_like(t) if sample_weight is None else to_array(sample_weight, np.float64)
        if w.ndim == 1:
            w = w[:, None]
        w = np.broadcast_to(w, t.shape)
        sums = np.stack([(t * w).sum(0), (t * t * w).sum(0), ((t - p) ** 2 * w).sum(0), w.sum(0)])
        if self._sums is None:
            self._sums = state_variable(self, "sums", sums.shape)
        elif self._sums.shape != sums.shape:
            raise ValueError(f"R2Score saw {self._sums.shape[1]} outputs before, now {sums.shape[1]}.")
        add_into(self._sums, sums)
        add_into(self.num_samples, t.size)

    def result(self):
        if self._sums is None or not self.num_samples.value:  # nothing seen (since the last reset)
            return _result(0.0)
        total_sum, squared_sum, residual, weight = self._sums.value
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = total_sum / weight
            total = squared_sum - total_sum * mean
            raw = 1.0 - residual / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        p, n = self.num_regressors, int(self.num_samples.value)
        if p:
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. Falling back to "
                              "standard R2 score.", UserWarning, stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.",
                              UserWarning, stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return _result(score)

    def get_config(self):
        config = {"class_aggregation": self.class_aggregation, "num_regressors": self.num_regressors}
        config.update(super().get_config())
        return config


class MeanRelativeError(Mean):
    """Running mean of ``|y_true - y_pred| / normalizer`` (elementwise; 0 where the normalizer is 0)."""

    def __init__(self, normalizer, name=None, dtype=None):
        super().__init__(name=name or "mean_relative_error", dtype=dtype)
        self.normalizer = np.asarray(to_array(normalizer), dtype=np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = match_ranks(to_array(y_true, np.float64), to_array(y_pred, np.float64))
        normalizer = np.broadcast_to(self.normalizer, np.broadcast_shapes(np.shape(t), self.normalizer.shape))
        with np.errstate(divide="ignore", invalid="ignore"):
            errors = np.where(normalizer != 0, np.abs(t - p) / np.where(normalizer != 0, normalizer, 1), 0.0)
        super().update_state(errors, sample_weight)

    def get_config(self):
        config = {"normalizer": self.normalizer.tolist()}
        config.update(super().get_config())
        return config


class MeanTensor(Metric):
    """The elementwise (weighted) mean of same-shape tensors over every update.

    >>> m = MeanTensor(); m.update_state([0.0, 2.0]); m.update_state([2.0, 4.0]); m.result().numpy().tolist()
    [1.0, 3.0]
    """

    def __init__(self, name="mean_tensor", dtype=None, shape=None):
        super().__init__(name=name, dtype=dtype)
        self._shape = None if shape is None else tuple(shape)
        self.total = self.count = None
        if self._shape is not None:
            self._build(self._shape)

    def _build(self, shape) -> None:
        self._shape = tuple(shape)
        self.total = state_variable(self, "total", shape)
        self.count = state_variable(self, "count", shape)

    def update_state(self, values, sample_weight=None):
        values = to_array(values, np.float64)
        if self.total is None:
            self._build(values.shape)
        elif values.shape != self._shape:
            raise ValueError(f"MeanTensor input values must always have the same shape. Expected shape (set during "
                             f"the first call): {self._shape}. Got: {values.shape}.")
        weighted, weights = weigh(values, sample_weight, np.mean)
        add_into(self.total, weighted)
        add_into(self.count, np.ones_like(values) if weights is None else weights)

    def result(self):
        if self.total is None:
            raise ValueError("MeanTensor does not have any value yet. Please call the MeanTensor instance or use "
                             "`.update_state(value)` before retrieving the result.")
        with np.errstate(divide="ignore", invalid="ignore"):
            total, count = self.total.value, self.count.value
            return _result(np.where(count > 0, total / np.where(count > 0, count, 1), 0.0))

    def get_config(self):
        config = {"shape": None if self._shape is None else list(self._shape)}
        config.update(super().get_config())
        return config
