"""Metrics at an operating point of a binary classifier: ``SensitivityAtSpecificity``,
``SpecificityAtSensitivity``, ``PrecisionAtRecall``, ``RecallAtPrecision`` (tf.keras 2's).

Counts are accumulated at ``num_thresholds`` thresholds evenly spaced in ``[0, 1]`` (0 and 1 included; a
prediction is positive when ``y_pred > threshold``); the result is the best value of one rate among the
thresholds where the other reaches the requested value (0 when none does).

>>> m = PrecisionAtRecall(0.5, num_thresholds=3)
>>> m.update_state([0, 0, 1, 1], [0.0, 0.3, 0.8, 0.9]); float(m.result())
1.0
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.metrics.base import Metric, _result
from featherflow.keras.metrics.confusion import _div, _prepare, add_counts, confusion_counts, counts, make_counts


class _AtOperatingPoint(Metric):
    """Base: accumulate tp/fp/tn/fn at the thresholds; subclasses give ``_constrained`` and ``_dependent``."""

    _value_name = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if not 0 <= value <= 1:
            raise ValueError(f"`{self._value_name}` must be in the range [0, 1]. Received: "
                             f"{self._value_name}={value}")
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds <= 0:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 0. Received: "
                             f"num_thresholds={num_thresholds}")
        super().__init__(name=name, dtype=dtype)
        self.value = float(value)
        self.class_id = class_id
        self.num_thresholds = num_thresholds
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            self.thresholds = [0.0] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
        self._sorted = np.asarray(self.thresholds, np.float64)
        make_counts(self, (len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p, w = _prepare(y_true, y_pred, sample_weight)
        if self.class_id is not None:
            t, p = t[..., self.class_id], p[..., self.class_id]
            w = None if w is None else w[..., self.class_id]
        add_counts(self, *confusion_counts(t, p, w, self._sorted))

    def _rates(self):
        tp, fp, tn, fn = counts(self)
        return {"sensitivity": _div(tp, tp + fn), "specificity": _div(tn, tn + fp), "precision": _div(tp, tp + fp)}

    def result(self):
        rates = self._rates()
        constrained, dependent = rates[self._constrained], rates[self._dependent]
        feasible = constrained >= self.value
        return _result(dependent[feasible].max() if feasible.any() else 0.0)

    def get_config(self):
        config = {"num_thresholds": self.num_thresholds, "class_id": self.class_id, self._value_name: self.value}
        config.update(super().get_config())
        return config


class SensitivityAtSpecificity(_AtOperatingPoint):
    """The best sensitivity (recall, ``tp / (tp + fn)``) among thresholds whose specificity
    (``tn / (tn + fp)``) is at least ``specificity``."""

    _value_name, _constrained, _dependent = "specificity", "specificity", "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)
        self.specificity = specificity


class SpecificityAtSensitivity(_AtOperatingPoint):
    """The best specificity among thresholds whose sensitivity is at least ``sensitivity``."""

    _value_name, _constrained, _dependent = "sensitivity", "sensitivity", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)
        self.sensitivity = sensitivity


class PrecisionAtRecall(_AtOperatingPoint):
    """The best precision (``tp / (tp + fp)``) among thresholds whose recall is at least ``recall``."""

    _value_name, _constrained, _dependent = "recall", "sensitivity", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)
        self.recall = recall


class RecallAtPrecision(_AtOperatingPoint):
    """The best recall among thresholds whose precision is at least ``precision``."""

    _value_name, _constrained, _dependent = "precision", "precision", "sensitivity"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)
        self.precision = precision
