"""The one-batch side of ``Model``'s training API: ``train_on_batch``, ``test_on_batch``, ``predict_on_batch``,
and the deprecated ``fit_generator`` / ``evaluate_generator`` / ``predict_generator``. A mixin of
``TrainerMixin`` (``trainer.py``), whose handlers, steps and logs it uses.

>>> import numpy as np
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> isinstance(model.train_on_batch(np.ones((4, 2)), np.zeros((4, 1))), float)
True
"""

from __future__ import annotations

import warnings

import numpy as np

from featherflow.keras.models.data_adapter import _convert_structure
from featherflow.keras.models.steps import to_numpy_structure


def flatten_metrics_in_order(logs: dict, metrics_names: list):
    """Keras's ``evaluate`` return value: the logs in ``metrics_names`` order, a scalar when only one."""
    results = [logs[name] for name in metrics_names if name in logs]
    results += [logs[key] for key in sorted(logs) if key not in metrics_names]
    if len(results) == 1:
        return results[0]
    return results



def _num_rows(x) -> int:
    from featherflow.keras.layers.base import flatten

    for leaf in flatten(_convert_structure(x, "x")):
        if leaf is not None and getattr(leaf, "ndim", 0):
            return max(int(leaf.shape[0]), 1)
    return 1



class BatchMethodsMixin:
    """``Model``'s single-batch methods (see the module docstring)."""

    # -- single batches ---------------------------------------------------------------------------------------
    def _single_batch(self, x, y=None, sample_weight=None, class_weight=None, check_values=True):
        handler = self._make_handler(x, y, sample_weight, batch_size=_num_rows(x), class_weight=class_weight,
                                     check_values=check_values)
        return next(iter(handler.epoch_batches(0)))

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True,
                       return_dict=False):
        """One gradient update on exactly this batch; returns its loss (and metrics)."""
        self._assert_compile_was_called()
        if reset_metrics:
            self.reset_metrics()
        bx, by, bsw = self._single_batch(x, y, sample_weight, class_weight)
        self._run_train_step(bx, by, bsw)
        self._counters["train"] += 1
        logs = self._get_logs()
        return logs if return_dict else flatten_metrics_in_order(logs, self.metrics_names)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        """The loss (and metrics) of the model on exactly this batch."""
        self._assert_compile_was_called()
        if reset_metrics:
            self.reset_metrics()
        bx, by, bsw = self._single_batch(x, y, sample_weight)
        self._run_test_step(bx, by, bsw)
        logs = self._get_logs()
        return logs if return_dict else flatten_metrics_in_order(logs, self.metrics_names)

    def predict_on_batch(self, x):
        """The model's outputs (NumPy) for exactly this batch."""
        if type(x) is np.ndarray and x.ndim and x.shape[0]:
            small = self._small_predict
            if small is None or small[0] is not self._plan:
                small = self._small_predict = self._small_predict_entry()
            if small is not None and small[0].accepts_single(x):
                return small[1](x)
        bx, _, _ = self._single_batch(x, check_values=False)
        return to_numpy_structure(self._run_predict_step(bx))

    # -- legacy names --------------------------------------------------------------------------------------------
    def fit_generator(self, generator, *args, **kwargs):
        """Deprecated: ``fit`` accepts generators."""
        warnings.warn("`Model.fit_generator` is deprecated and will be removed in a future version. Please use "
                      "`Model.fit`, which supports generators.", DeprecationWarning, stacklevel=2)
        return self.fit(generator, *args, **kwargs)

    def evaluate_generator(self, generator, *args, **kwargs):
        """Deprecated: ``evaluate`` accepts generators."""
        warnings.warn("`Model.evaluate_generator` is deprecated and will be removed in a future version. Please use "
                      "`Model.evaluate`, which supports generators.", DeprecationWarning, stacklevel=2)
        return self.evaluate(generator, *args, **kwargs)

    def predict_generator(self, generator, *args, **kwargs):
        """Deprecated: ``predict`` accepts generators."""
        warnings.warn("`Model.predict_generator` is deprecated and will be removed in a future version. Please use "
                      "`Model.predict`, which supports generators.", DeprecationWarning, stacklevel=2)
        return self.predict(generator, *args, **kwargs)
