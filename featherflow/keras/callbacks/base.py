"""``Callback`` (every hook), ``CallbackList``, ``History`` and ``ProgbarLogger``.

``fit`` always adds a ``History`` (returned by ``fit``) and, unless ``verbose=0``, a
``ProgbarLogger``. Batch hooks cost nothing when no callback implements them: the training
loop asks ``CallbackList`` once which callbacks want per-batch calls.

>>> from featherflow import keras
>>> class CountEpochs(keras.callbacks.Callback):
...     def on_train_begin(self, logs=None):
...         self.count = 0
...     def on_epoch_end(self, epoch, logs=None):
...         self.count += 1
>>> cb = CountEpochs()
>>> cb._implements_train_batch_hooks()
False
"""

from __future__ import annotations

import numpy as np

_TRAIN_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")
_TEST_BATCH_HOOKS = ("on_test_batch_begin", "on_test_batch_end")
_PREDICT_BATCH_HOOKS = ("on_predict_batch_begin", "on_predict_batch_end")


def _overrides(callback, names) -> bool:
    """Whether ``callback`` implements any hook in ``names`` (a subclass method or an instance attribute)."""
    for name in names:
        if name in callback.__dict__:
            return True
        method = getattr(type(callback), name, None)
        if method is not None and method is not getattr(Callback, name):
            return True
    return False


class Callback:
    """Base class for callbacks: objects that ``fit``/``evaluate``/``predict`` call at set points.

    Attributes:
        model: the model being trained (set by ``set_model``).
        params: ``{"verbose", "epochs", "steps"}`` of the running call (set by ``set_params``).

    Override any hook: ``on_{train,test,predict}_{begin,end}(logs)``, ``on_epoch_{begin,end}(epoch,
    logs)``, ``on_{train,test,predict}_batch_{begin,end}(batch, logs)`` and the older
    ``on_batch_{begin,end}`` (what ``on_train_batch_*`` calls by default). ``logs`` holds the running
    (batch hooks) or final (epoch hooks) metric values as Python floats; ``on_epoch_end`` also gets
    the ``val_`` metrics. Set ``self.model.stop_training = True`` to stop training.
    """

    def __init__(self):
        self.validation_data = None
        self.model = None
        self.params = {}
        self._chief_worker_only = None
        self._supports_tf_logs = False

    def set_params(self, params) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self.model = model

    def on_batch_begin(self, batch, logs=None):
        """A backwards-compatibility alias for ``on_train_batch_begin``."""

    def on_batch_end(self, batch, logs=None):
        """A backwards-compatibility alias for ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch (``fit`` only)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch with the epoch's training and validation metrics."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called at the beginning of a training batch; calls ``on_batch_begin`` by default."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called at the end of a training batch with the running metrics; calls ``on_batch_end``."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in ``evaluate`` (and validation in ``fit``)."""

    def on_test_batch_end(self, batch, logs=None):
        """Called at the end of a batch in ``evaluate`` (and validation in ``fit``)."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called at the beginning of a batch in ``predict``."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called at the end of a batch in ``predict`` (``logs["outputs"]`` holds the batch's outputs)."""

    def on_train_begin(self, logs=None):
        """Called at the beginning of training."""

    def on_train_end(self, logs=None):
        """Called at the end of training with the last epoch's logs."""

    def on_test_begin(self, logs=None):
        """Called at the beginning of evaluation or validation."""

    def on_test_end(self, logs=None):
        """Called at the end of evaluation or validation with its metrics."""

    def on_predict_begin(self, logs=None):
        """Called at the beginning of prediction."""

    def on_predict_end(self, logs=None):
        """Called at the end of prediction."""

    def _implements_train_batch_hooks(self) -> bool:
        return _overrides(self, _TRAIN_BATCH_HOOKS)

    def _implements_test_batch_hooks(self) -> bool:
        return _overrides(self, _TEST_BATCH_HOOKS)

    def _implements_predict_batch_hooks(self) -> bool:
        return _overrides(self, _PREDICT_BATCH_HOOKS)


class History(Callback):
    """Records each epoch's logs: ``history.history["loss"]`` is the list of epoch losses.

    ``fit`` adds one automatically and returns it (also set as ``model.history``).
    """

    def __init__(self):
        super().__init__()
        self.history: dict = {}
        self.epoch: list = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints metrics to stdout: a live bar for ``verbose=1``, one line per epoch for ``verbose=2``.

    Args:
        count_mode: ``"steps"`` (what ``fit`` uses) or ``"samples"``.
        stateful_metrics: metric names shown as-is rather than averaged (the model's metrics already
            are running averages and are always treated as stateful).
    """

    def __init__(self, count_mode: str = "samples", stateful_metrics=None):
        super().__init__()
        if count_mode == "samples":
            self.use_steps = False
        elif count_mode == "steps":
            self.use_steps = True
        else:
            raise ValueError(f"Unknown `count_mode`: {count_mode}. Expected values are ['samples', 'steps']")
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False
        self._call_batch_hooks = True

    def set_params(self, params) -> None:
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        if self.use_steps and "steps" in params:
            self.target = params["steps"]
        elif not self.use_steps and "samples" in params:
            self.target = params["samples"]
        else:
            self.target = None
        self._call_batch_hooks = self.verbose == 1

    def _implements_train_batch_hooks(self) -> bool:
        return self._call_batch_hooks

    def _implements_test_batch_hooks(self) -> bool:
        return self._call_batch_hooks

    def _implements_predict_batch_hooks(self) -> bool:
        return self._call_batch_hooks

    def on_train_begin(self, logs=None):
        self._called_in_fit = True  # validation inside fit stays silent

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            from featherflow.keras.utils.io_utils import print_msg

            print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._batch_update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._batch_update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._batch_update_progbar(batch, None)  # predictions are not metrics

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self) -> None:
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self) -> None:
        from featherflow.keras.utils import Progbar

        if self.model is not None:
            self.stateful_metrics |= {m.name for m in getattr(self.model, "metrics", [])}
        if self.progbar is None:
            self.progbar = Progbar(target=self.target, verbose=self.verbose, stateful_metrics=self.stateful_metrics,
                                   unit_name="step" if self.use_steps else "sample")
        self.progbar.stateful_metrics = set(self.stateful_metrics)

    def _batch_update_progbar(self, batch, logs=None) -> None:
        logs = dict(logs or {})
        self._maybe_init_progbar()
        if self.use_steps:
            self.seen = batch + 1
        else:
            size = logs.pop("size", 0)
            num_steps = logs.pop("num_steps", 1)
            logs.pop("batch", None)
            self.seen += num_steps * size
        if self.verbose == 1:
            self.progbar.update(self.seen, [(k, _loggable(v)) for k, v in logs.items()], finalize=False)

    def _finalize_progbar(self, logs) -> None:
        logs = {k: v for k, v in (logs or {}).items() if k not in ("size", "num_steps", "batch")}
        if self.progbar is None:
            self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen or 1
            self.progbar.target = self.target
        self.progbar.update(self.target, [(k, _loggable(v)) for k, v in logs.items()], finalize=True)


def _loggable(value):
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, np.generic):
        value = value.item()
    return value


class CallbackList:
    """The callbacks of one ``fit``/``evaluate``/``predict`` call, called together.

    Args:
        callbacks: the user's callbacks.
        add_history: append a ``History`` unless one is given.
        add_progbar: append a ``ProgbarLogger(count_mode="steps")`` unless one is given.
        model: the model (``set_model`` on each callback).
        **params: ``verbose``, ``epochs``, ``steps`` (``set_params`` on each callback).
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, CallbackList):
            callbacks = callbacks.callbacks
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback) and not _has_any_hook(cb):
                raise TypeError(f"Expected a keras.callbacks.Callback (or an object with callback hooks). Received: "
                                f"{cb!r} of type {type(cb).__name__}")
        self._progbar = None
        self._history = None
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger(count_mode="steps")
            self.callbacks.append(self._progbar)
        self.model = None
        self.params = {}
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback) -> None:
        self.callbacks.append(callback)

    def set_params(self, params) -> None:
        self.params = params
        for cb in self.callbacks:
            if hasattr(cb, "set_params"):
                cb.set_params(params)

    def set_model(self, model) -> None:
        self.model = model
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            if hasattr(cb, "set_model"):
                cb.set_model(model)

    @property
    def progbar(self):
        return self._progbar

    @property
    def history(self):
        return self._history

    def batch_hook_callbacks(self, mode: str, include_progbar: bool = True) -> list:
        """The callbacks that implement ``mode``'s ("train", "test", "predict") batch hooks."""
        check = {"train": "_implements_train_batch_hooks", "test": "_implements_test_batch_hooks",
                 "predict": "_implements_predict_batch_hooks"}[mode]
        out = []
        for cb in self.callbacks:
            if cb is self._progbar and not include_progbar:
                continue
            implements = getattr(cb, check, None)
            if implements is None or implements():
                out.append(cb)
        return out

    def _call(self, hook: str, *args) -> None:
        if args[-1] is None:  # tf.keras hands every hook a dict of logs, empty when there are none
            args = args[:-1] + ({},)
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:
                method(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_batch_begin(self, batch, logs=None):
        self.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        self.on_train_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)

    def __iter__(self):
        return iter(self.callbacks)


def _has_any_hook(obj) -> bool:
    return any(hasattr(obj, name) for name in ("on_epoch_end", "on_train_begin", "on_batch_end", "set_model"))
