"""Callbacks of an evolution run.

``run(callbacks=[...])`` takes any mix of:

* ``featherflow.evolution.Callback`` subclasses: ``on_run_begin(algorithm)``, ``on_generation_end(algorithm,
  generation, logs)`` (return True to stop) and ``on_run_end(algorithm)``;
* Keras callbacks (``keras.callbacks.Callback``): a generation is an epoch. Their ``model`` is a copy of the
  network holding the current elite, so ``ModelCheckpoint(monitor="elite", mode="max")``, ``CSVLogger`` or
  ``EarlyStopping(monitor="elite", mode="max")`` work as with ``fit``;
* plain callables ``fn(generation, logs)``: return True to stop.

``logs`` holds ``best``, ``elite``, ``mean``, ``evaluations``, ``steps`` and ``time`` (see ``run``).

>>> seen = []
>>> callbacks = CallbackList([lambda generation, logs: seen.append(generation)], algorithm=None)
>>> callbacks.generation_end(0, {"best": 1.0})
False
>>> seen
[0]
"""

from __future__ import annotations


class Callback:
    """Base class of evolution callbacks; override any hook."""

    def on_run_begin(self, algorithm) -> None:
        """Called when ``run`` starts (after a resumed checkpoint is loaded)."""

    def on_generation_end(self, algorithm, generation: int, logs: dict):
        """Called after each generation (0-based ``generation``); return True to stop the run."""

    def on_run_end(self, algorithm) -> None:
        """Called when ``run`` ends."""


def _is_keras_callback(callback) -> bool:
    from featherflow.keras.callbacks import Callback as KerasCallback

    return isinstance(callback, KerasCallback)


class CallbackList:
    """Dispatches the run's events to every callback."""

    def __init__(self, callbacks, algorithm):
        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not (isinstance(callback, Callback) or _is_keras_callback(callback) or callable(callback)):
                raise TypeError("Each callback must be a featherflow.evolution.Callback, a keras Callback or a "
                                f"callable fn(generation, logs). Received: {callback!r}")
        self.algorithm = algorithm
        self._model = None

    def _keras_model(self):
        if self._model is None:
            self._model = self.algorithm._callback_model()
        return self._model

    def begin(self, generations) -> None:
        for callback in self.callbacks:
            if isinstance(callback, Callback):
                callback.on_run_begin(self.algorithm)
            elif _is_keras_callback(callback):
                model = self._keras_model()
                model.stop_training = False
                callback.set_model(model)
                callback.set_params({"verbose": 0, "epochs": generations, "steps": None})
                callback.on_train_begin({})

    def generation_begin(self, generation: int) -> None:
        for callback in self.callbacks:
            if _is_keras_callback(callback):
                callback.on_epoch_begin(generation, {})

    def generation_end(self, generation: int, logs: dict) -> bool:
        stop = False
        keras_model = None
        for callback in self.callbacks:
            if isinstance(callback, Callback):
                stop = bool(callback.on_generation_end(self.algorithm, generation, dict(logs))) or stop
            elif _is_keras_callback(callback):
                if keras_model is None:
                    keras_model = self._keras_model()
                    self.algorithm._write_elite(keras_model)
                callback.on_epoch_end(generation, dict(logs))
                stop = bool(getattr(keras_model, "stop_training", False)) or stop
            else:
                stop = bool(callback(generation, dict(logs))) or stop
        return stop

    def end(self) -> None:
        for callback in self.callbacks:
            if isinstance(callback, Callback):
                callback.on_run_end(self.algorithm)
            elif _is_keras_callback(callback):
                callback.on_train_end({})
