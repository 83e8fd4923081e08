"""``EarlyStopping``: stop training when a monitored metric has stopped improving (tf.keras 2.12).

An epoch "improves" when ``monitor_op(current - min_delta, best)``: ``current < best - min_delta``
in ``min`` mode, ``current > best + min_delta`` in ``max`` mode.

>>> import numpy as np
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
>>> model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")  # lr 0: the loss never improves
>>> stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=2)
>>> history = model.fit(np.ones((8, 1)), np.zeros((8, 1)), epochs=10, callbacks=[stopper], verbose=0)
>>> len(history.history["loss"]), stopper.stopped_epoch
(3, 2)
"""

from __future__ import annotations

import warnings

import numpy as np

from featherflow.keras.callbacks.base import Callback


def monitor_mode_is_max(monitor: str) -> bool:
    """Keras's ``auto`` rule: accuracy- and AUC-like names are maximised, everything else minimised."""
    return monitor.endswith("acc") or monitor.endswith("accuracy") or monitor.endswith("auc")


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: the log key to watch (``"val_loss"`` by default).
        min_delta: the smallest change that counts as an improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints when training stops and when weights are restored.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (from the monitor's name).
        baseline: training stops if the monitor does not beat this value within ``patience`` epochs.
        restore_best_weights: when stopping, restore the weights of the best epoch.
        start_from_epoch: epochs to wait before monitoring starts (warm-up).

    Attributes:
        stopped_epoch: the (0-based) epoch at which training stopped, 0 if it did not.
        best, best_epoch, wait: the state of the search.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = bool(restore_best_weights)
        self.best_weights = None
        self.start_from_epoch = int(start_from_epoch)
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"EarlyStopping mode {mode} is unknown, fallback to auto mode.", stacklevel=2)
            mode = "auto"
        self.mode = mode
        if mode == "min" or (mode == "auto" and not monitor_mode_is_max(monitor)):
            self.monitor_op = np.less
            self.min_delta *= -1
        else:
            self.monitor_op = np.greater
        self.best = np.inf if self.monitor_op is np.less else -np.inf
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf if self.monitor_op is np.less else -np.inf
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Keep the first monitored epoch's weights in case it is never improved on.
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # Only reset the wait once the baseline is beaten as well.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose > 0:
                    from featherflow.keras.utils.io_utils import print_msg

                    print_msg(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            from featherflow.keras.utils.io_utils import print_msg

            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not available. Available "
                          f"metrics are: {','.join(list(logs.keys()))}", stacklevel=3)
        return value

    def _is_improvement(self, monitor_value, reference_value) -> bool:
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))
