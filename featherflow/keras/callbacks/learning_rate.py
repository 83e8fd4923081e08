"""Learning-rate callbacks: ``LearningRateScheduler`` and ``ReduceLROnPlateau`` (tf.keras 2.12).

Both write the current rate into the epoch logs as ``lr`` (so ``History`` records it).

>>> import numpy as np
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
>>> model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
>>> halve = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr / 2)
>>> history = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=3, callbacks=[halve], verbose=0)
>>> [round(lr, 4) for lr in history.history["lr"]]
[0.05, 0.025, 0.0125]
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from featherflow.keras.callbacks.base import Callback


def get_learning_rate(optimizer) -> float:
    """The optimizer's current learning rate as a Python float."""
    lr = getattr(optimizer, "learning_rate", None)
    if lr is None:
        lr = getattr(optimizer, "lr", None)
    if lr is None:
        raise ValueError('Optimizer must have a "lr" attribute.')
    if hasattr(lr, "numpy"):
        lr = lr.numpy()
    elif callable(lr):
        lr = lr()
    return float(np.float32(lr))


def set_learning_rate(optimizer, value) -> None:
    """Set the optimizer's learning rate (a float) in place."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    optimizer.learning_rate = float(value)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr)``.

    Args:
        schedule: ``fn(epoch, lr) -> new_lr`` (0-based epoch, current rate); the older one-argument
            form ``fn(epoch)`` is accepted too.
        verbose: 1 prints each update.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        current = get_learning_rate(optimizer)
        try:
            lr = self.schedule(epoch, current)
        except TypeError:  # the one-argument schedule of older Keras
            lr = self.schedule(epoch)
        if hasattr(lr, "numpy"):
            lr = lr.numpy()
        if isinstance(lr, np.ndarray) and lr.ndim == 0:
            lr = lr.item()
        if isinstance(lr, bool) or not isinstance(lr, (numbers.Real, np.floating, np.integer)):
            raise ValueError(f'The output of the "schedule" function should be float. Got: {lr!r}')
        set_learning_rate(optimizer, lr)
        if self.verbose > 0:
            from featherflow.keras.utils.io_utils import print_msg

            print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = get_learning_rate(self.model.optimizer)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: the log key to watch (``"val_loss"``).
        factor: ``new_lr = lr * factor`` (must be < 1).
        patience: epochs without improvement before reducing.
        verbose: 1 prints each reduction.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max when the monitor's name contains ``acc``).
        min_delta: the smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the rate never goes below this.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0, **kwargs):
        super().__init__()
        self.monitor = monitor
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Got {factor}")
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            warnings.warn("`epsilon` argument is deprecated and will be removed, use `min_delta` instead.",
                          DeprecationWarning, stacklevel=2)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword arguments: {sorted(kwargs)}")
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0
        self.best = 0
        self.mode = mode
        self.monitor_op = None
        self._reset()

    def _reset(self) -> None:
        if self.mode not in ("auto", "min", "max"):
            warnings.warn(f"Learning rate reduction mode {self.mode} is unknown, fallback to auto mode.", stacklevel=3)
            self.mode = "auto"
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["lr"] = get_learning_rate(optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(list(logs.keys()))}", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = get_learning_rate(optimizer)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    set_learning_rate(optimizer, new_lr)
                    if self.verbose > 0:
                        from featherflow.keras.utils.io_utils import print_msg

                        print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                                  f"{np.float32(new_lr)}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
