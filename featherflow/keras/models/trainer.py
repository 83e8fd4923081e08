"""``compile``, ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` methods (tf.keras 2.12 semantics).

>>> import numpy as np
>>> from featherflow import keras
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
>>> model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
>>> x = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]); y = x.sum(axis=1, keepdims=True)
>>> history = model.fit(x, y, epochs=200, verbose=0)
>>> round(history.history["loss"][-1], 4)
0.0
>>> model.predict(np.array([[2.0, 3.0]]), verbose=0).round(2)
array([[5.]], dtype=float32)
"""

from __future__ import annotations

import time
import types

import numpy as np

from featherflow.backend import blas
from featherflow.keras.callbacks.base import CallbackList
from featherflow.keras.models import compiled_steps, steps
from featherflow.keras.models.batch_methods import BatchMethodsMixin, flatten_metrics_in_order
from featherflow.keras.models.compile_utils import LossesContainer, LossTracker, MetricsContainer
from featherflow.keras.models.data_adapter import (
    DataHandler,
    _convert_structure,
    _is_array_structure,
    _is_generator,
    _is_sequence,
    check_data_cardinality,
    train_validation_split,
    unpack_x_y_sample_weight,
)
from featherflow.keras.models.dataset_adapter import DatasetHandler, check_validation_split, is_dataset
from featherflow.keras.models.steps import to_numpy_structure

_PROGBAR_INTERVAL = 0.05  # seconds between two progress-bar updates during an epoch
_VALIDATION_NAMES = ("validation_data[0]", "validation_data[1]", "validation_data[2]")  # x_val, y_val, weights


def _get_verbosity(verbose):
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or not isinstance(verbose, (int, np.integer)) or verbose < 0:
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def _to_python(value):
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        value = value.item() if value.size == 1 else value
    if isinstance(value, np.generic):
        value = value.item()
    return value


class TrainerMixin(BatchMethodsMixin):
    """The training API of ``keras.Model``: ``compile``, the loops, and Keras's step methods (``steps.py``)."""

    # Keras's overridable steps: the functions of featherflow/keras/models/steps.py as methods
    compute_loss = steps.compute_loss
    compute_metrics = steps.compute_metrics
    get_metrics_result = steps.get_metrics_result
    train_step = steps.train_step
    test_step = steps.test_step
    predict_step = steps.predict_step

    def _init_trainer_state(self) -> None:
        self.optimizer = None
        self.compiled_loss = None
        self.compiled_metrics = None
        self.loss = None
        self._is_compiled = False
        self.stop_training = False
        self.history = None
        self._train_fn = None
        self._train_key = None
        self._test_fn = None
        self._predict_fn = None
        self._small_predict = None
        self._last_step_logs = None
        self._counters = {"train": 0, "test": 0, "predict": 0}  # steps run (a dict: no attribute writes per step)
        self._initial_epoch = None
        self._initial_step = None
        self._run_eagerly = None
        self._jit_compile = None
        self._steps_per_execution = 1

    # -- compile ----------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=None, jit_compile=None, **kwargs) -> None:
        """Configure the model for training.

        Args:
            optimizer: an optimizer name (``"adam"``) or instance.
            loss: a loss name, function or ``Loss``; for several outputs a list or a dict by output name.
            metrics: a list of metrics (names such as ``"accuracy"``/``"acc"``/``"mae"``, functions or
                ``Metric`` objects); for several outputs a list of lists or a dict by output name.
            loss_weights: weights of the outputs' losses in the total (list or dict).
            weighted_metrics: metrics computed with ``sample_weight``/``class_weight``.
            run_eagerly: ``True`` runs the steps as plain Python (debuggable); by default (``None``/``False``)
                ``fit``/``evaluate``/``predict`` run each batch's step through ``tf.function``
                (``compiled_steps.py``), as tf.keras does.
            steps_per_execution: accepted (the steps run one batch per call; callbacks see every batch).
            jit_compile: ``True``, ``False`` or ``"auto"``/``None`` (the default); ``True`` is passed on to
                ``tf.function(jit_compile=True)``.
        """
        from featherflow.keras import optimizers

        kwargs.pop("cloning", None)
        kwargs.pop("experimental_run_tf_function", None)
        if kwargs.pop("distribute", None) is not None:
            raise ValueError("Distribute argument in compile is not available in TF 2.0 please create the model under "
                             "the distribution strategy scope.")
        if kwargs.pop("target_tensors", None) is not None:
            raise ValueError("target_tensors argument is not supported when executing eagerly.")
        kwargs.pop("sample_weight_mode", None)
        if kwargs:
            raise TypeError(f"Invalid keyword argument(s) in `compile()`: {tuple(sorted(kwargs))}. Valid keyword "
                            "arguments include \"cloning\", \"experimental_run_tf_function\", \"distribute\", "
                            "\"target_tensors\", or \"sample_weight_mode\".")
        for label, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value is not None and not isinstance(value, (list, tuple, dict)):
                raise TypeError(f"Type of `{label}` argument not understood. Expected a list or dictionary, found: "
                                f"{value!r}")
        self.optimizer = optimizers.get(optimizer)
        if getattr(getattr(self, "dtype_policy", None), "name", None) == "mixed_float16" and \
                not callable(getattr(self.optimizer, "get_scaled_loss", None)):
            from featherflow.keras.mixed_precision import LossScaleOptimizer

            self.optimizer = LossScaleOptimizer(self.optimizer)  # (as tf.keras does under mixed_float16)
        self.loss = loss
        self.compiled_loss = LossesContainer(loss, loss_weights, output_names=None)
        self.compiled_metrics = MetricsContainer(metrics, weighted_metrics, output_names=None, loss=loss)
        self._run_eagerly = run_eagerly
        self._jit_compile = compiled_steps.check_jit_compile(jit_compile)
        self._steps_per_execution = steps_per_execution or 1
        self._is_compiled = True
        self._reset_compiled_plans()
        self._last_step_logs = None

    def _assert_compile_was_called(self) -> None:
        if not self._is_compiled:
            raise RuntimeError("You must compile your model before training/testing. Use "
                               "`model.compile(optimizer, loss)`.")

    @property
    def run_eagerly(self) -> bool:
        """Whether the steps run eagerly (tf.keras's rule: ``compile(run_eagerly=...)`` or this attribute when set,
        else ``tf.config.functions_run_eagerly()``)."""
        if self._run_eagerly is not None:
            return bool(self._run_eagerly)
        from featherflow.core.function import functions_run_eagerly

        return functions_run_eagerly()

    @run_eagerly.setter
    def run_eagerly(self, value) -> None:
        self._run_eagerly = value
        self._reset_compiled_plans()

    @property
    def jit_compile(self):
        """``compile(jit_compile=...)``'s value (``None``: the default, ``"auto"``)."""
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value) -> None:
        self._jit_compile = compiled_steps.check_jit_compile(value)
        self._reset_compiled_plans()

    @property
    def distribute_strategy(self):
        return None

    # -- metrics ----------------------------------------------------------------------------------
    @property
    def metrics(self) -> list:
        """The loss tracker(s), the compiled metrics (available once the model saw a batch) and the metrics the
        model holds as attributes."""
        out = []
        if self.compiled_loss is not None:
            out.extend(self.compiled_loss.metrics)
        if self.compiled_metrics is not None:
            out.extend(self.compiled_metrics.metrics)
        out.extend(self.__dict__.get("_metrics", ()))  # the model's own add_metric metrics
        for layer in self._flat_layers():
            if getattr(layer, "_is_metric", False):  # a metric held as an attribute (tracked like a layer)
                if not any(layer is m for m in out):
                    out.append(layer)
            else:
                out.extend(getattr(layer, "_metrics", ()))
        return out

    @property
    def metrics_names(self) -> list:
        """The names in ``metrics`` order, e.g. ``['loss', 'accuracy']``."""
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        """Reset the state of every metric (done at the start of each epoch and evaluation)."""
        for m in self.metrics:
            m.reset_state()

    def _get_logs(self) -> dict:
        if self._last_step_logs is not None:
            return {k: _to_python(v) for k, v in self._last_step_logs.items()}
        logs = {}
        for m in self.metrics:
            if isinstance(m, LossTracker):
                logs[m.name] = m.result_float()
                continue
            value = m.result()
            if isinstance(value, dict):
                logs.update({k: _to_python(v) for k, v in value.items()})
            else:
                logs[m.name] = _to_python(value)
        return logs

    # -- data helpers -----------------------------------------------------------------------------------
    def _input_dtypes_for(self, x):
        """The dtypes the model casts each input to (float inputs are converted once, ahead of time)."""
        if self._is_graph_network:
            dtypes = [t.dtype for t in self.inputs]
            if isinstance(x, dict):
                return dict(zip(self._input_names, dtypes))
            return dtypes
        from featherflow.keras.models.sequential import Sequential

        if isinstance(self, Sequential) and self._seq_layers:
            first = self._seq_layers[0]
            return None if first._keeps_int_inputs() else first.dtype
        return self.dtype

    def _make_handler(self, x, y=None, sample_weight=None, batch_size=None, steps=None, initial_epoch=0, epochs=1,
                      shuffle=False, class_weight=None, check_values=True, is_predict=False,
                      strict_batch_size=True, validation=False, names=("x", "y", "sample_weight")) -> DataHandler:
        if getattr(x, "_is_dataset_creator", False):  # keras.utils.experimental.DatasetCreator
            if steps is None:
                raise ValueError("When using a `tf.keras.utils.experimental.DatasetCreator`, `steps_per_epoch`, "
                                 "`validation_steps` or `steps` argument must be provided in `Model.fit`, "
                                 "`Model.evaluate`, or `Model.predict`.")
            from featherflow.keras.utils.experimental import InputContext

            x = x(InputContext())
        source = "validation_data" if validation else "x"  # what a bad batch's error message names
        if is_dataset(x):
            return DatasetHandler(x, y, sample_weight, steps_per_epoch=steps, initial_epoch=initial_epoch,
                                  epochs=epochs, class_weight=class_weight, input_dtypes=self._input_dtypes_for(x),
                                  check_values=check_values, fresh_each_call=validation, source=source)
        return DataHandler(x, y, sample_weight, batch_size=batch_size, steps_per_epoch=steps,
                           initial_epoch=initial_epoch, epochs=epochs, shuffle=shuffle, class_weight=class_weight,
                           input_dtypes=self._input_dtypes_for(x), check_values=check_values, is_predict=is_predict,
                           strict_batch_size=strict_batch_size, names=names, source=source)

    # -- fit --------------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
            max_queue_size=10, workers=1, use_multiprocessing=False):
        """Train the model for ``epochs`` epochs; returns a ``History`` (``history.history[name]`` per epoch).

        Args:
            x, y: inputs and targets: arrays (one, a list, or a dict by input/output name), or ``x`` alone
                as a generator, ``keras.utils.Sequence`` or other iterable yielding ``(x, y[, sample_weight])``.
            batch_size: samples per step for array data (default 32).
            epochs: the index of the last epoch (training runs from ``initial_epoch`` to ``epochs``).
            verbose: ``"auto"``/1 progress bar, 2 one line per epoch, 0 silent.
            callbacks: ``keras.callbacks.Callback`` objects.
            validation_split: fraction of the array data held out for validation: the LAST samples,
                taken before shuffling.
            validation_data: ``(x_val, y_val)``, ``(x_val, y_val, sample_weight_val)`` or a data source.
            shuffle: shuffle the array data before each epoch (``"batch"``: within batches).
            class_weight: ``{class_index: weight}`` scaling the loss of each class's samples.
            sample_weight: per-sample weights (array data only).
            initial_epoch: the epoch to start from (resuming a previous run).
            steps_per_epoch: batches per epoch (default: one pass over the data).
            validation_steps, validation_batch_size: for the validation pass.
            validation_freq: validate every ``validation_freq`` epochs (int) or after the listed epochs.
            max_queue_size, workers, use_multiprocessing: accepted for compatibility (ignored).
        """
        self._assert_compile_was_called()
        verbose = _get_verbosity(verbose)
        for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"`{name}` must be an integer (epochs count whole passes over the data). "
                                f"Received: {name}={value!r} of type {type(value).__name__}")
        if not isinstance(validation_freq, (int, list, tuple)) or isinstance(validation_freq, bool):
            raise ValueError(f"Expected `validation_freq` to be a list or int. Received: "
                             f"validation_freq={validation_freq!r} of the type {type(validation_freq)}.")
        val_names = None
        if validation_split and validation_data is None:
            check_validation_split(x, validation_split)
            if not 0 < validation_split < 1:
                raise ValueError(f"`validation_split` must be in the range (0, 1). Received: "
                                 f"validation_split={validation_split}")
            arrays = (_convert_structure(x, "x"), _convert_structure(y, "y"),
                      _convert_structure(sample_weight, "sample_weight"))
            check_data_cardinality(*arrays)
            # As in Keras, class weights apply to the training part only (the handler applies them).
            (x, y, sample_weight), validation_data = train_validation_split(arrays, validation_split)
            val_names = ("x", "y", "sample_weight")  # the held-out part is still the user's `x`
        handler = self._make_handler(x, y, sample_weight, batch_size=batch_size, steps=steps_per_epoch,
                                     initial_epoch=initial_epoch, epochs=epochs, shuffle=shuffle,
                                     class_weight=class_weight)
        self._fit_data_handler = handler  # BackupAndRestore saves/restores its shuffle generator
        val_handler = None
        if validation_data is not None:
            val_x, val_y, val_sw = unpack_x_y_sample_weight(validation_data)
            self._check_validation_targets(validation_data, val_x, val_y)
            val_handler = self._make_handler(val_x, val_y, val_sw, batch_size=validation_batch_size or batch_size,
                                             steps=validation_steps, strict_batch_size=False, validation=True,
                                             names=val_names or _VALIDATION_NAMES)
        callback_list = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=epochs, steps=handler.inferred_steps)
        self.stop_training = False
        if self._train_fn is not None and self._train_fn_key() != self._train_key:
            self._train_fn = None  # rebuilt when what it was built for changed (kept otherwise, as tf.keras keeps its
            # train_function: no trace per fit call)
        callback_list.on_train_begin()
        if self._initial_epoch is not None:  # set by BackupAndRestore when resuming
            initial_epoch, self._initial_epoch = int(self._initial_epoch), None
        skip_steps = 0
        if self._initial_step:
            skip_steps, self._initial_step = int(self._initial_step), None
        training_logs = None
        for epoch in range(initial_epoch, epochs):
            if handler.insufficient_data:
                break
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            with blas.managed():  # small products on one BLAS thread (see featherflow/backend/blas.py)
                steps_done = self._fit_epoch(handler, epoch, callback_list, skip_steps)
            skip_steps = 0
            if steps_done == 0:
                break  # the data ran out (the handler warned)
            epoch_logs = self._get_logs()
            if val_handler is not None and _should_eval(epoch, validation_freq):
                val_logs = self.evaluate(callbacks=callback_list, return_dict=True, _handler=val_handler,
                                         verbose=0)
                epoch_logs.update({"val_" + name: value for name, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            handler.on_epoch_end()
            training_logs = epoch_logs
            if self.stop_training:
                break
        callback_list.on_train_end(logs=training_logs)
        self._fit_data_handler = None
        finalize = getattr(self.optimizer, "finalize_variable_values", None)
        if finalize is not None and epochs > 0:
            finalize(self.trainable_variables)
        return self.history

    def _check_validation_targets(self, validation_data, val_x, val_y) -> None:
        """Refuse validation arrays without targets when the compiled loss needs them (tf.keras would report
        ``val_loss`` 0.0 every epoch)."""
        if val_y is not None or not self.loss or not steps.uses_default_steps(self, "test_step", "compute_loss"):
            return
        if not _is_array_structure(val_x) or _is_sequence(val_x) or _is_generator(val_x):
            return  # a generator or Sequence yields (x, y) batches itself
        received = (f"a tuple of {len(validation_data)} element(s)" if isinstance(validation_data, (tuple, list))
                    else f"a single {type(validation_data).__name__}")
        raise ValueError(f"Target data is missing from `validation_data`: received {received}, inputs only. Your "
                         f"model was compiled with loss={self.loss!r}, and therefore expects validation targets: pass "
                         "`validation_data=(x_val, y_val)` or `(x_val, y_val, val_sample_weight)`.")

    def _fit_epoch(self, handler, epoch, callback_list, skip_steps=0) -> int:
        hooks = callback_list.batch_hook_callbacks("train", include_progbar=False)
        progbar = callback_list.progbar
        if progbar is not None and not progbar._implements_train_batch_hooks():
            progbar = None
        next_update = 0.0
        last_step = (handler.inferred_steps or 0) - 1  # the epoch's end finalizes the bar for that one
        run_step = self._run_train_step
        steps_done = 0
        clock = time.perf_counter
        counters = self._counters
        for step, (x, y, sample_weight) in enumerate(handler.epoch_batches(epoch)):
            if step < skip_steps:
                continue  # resuming mid-epoch: these batches were trained before the backup
            if hooks:
                for cb in hooks:
                    cb.on_train_batch_begin(step, {})
            run_step(x, y, sample_weight)
            steps_done += 1
            if hooks:
                logs = self._get_logs()
                for cb in hooks:
                    cb.on_train_batch_end(step, logs)
                if progbar is not None:
                    progbar.on_train_batch_end(step, logs)
            elif progbar is not None and step != last_step:
                now = clock()
                if now >= next_update:
                    next_update = now + _PROGBAR_INTERVAL
                    progbar.on_train_batch_end(step, self._get_logs())
            if self.stop_training:
                break
        counters["train"] += steps_done
        bar = callback_list.progbar  # also when verbose=2 skips batch updates: an unknown step count is learned here
        if bar is not None and steps_done and getattr(bar, "use_steps", False):
            bar.seen = max(bar.seen, steps_done + skip_steps)  # throttled updates may have skipped the last
        return steps_done + (skip_steps if steps_done else 0)

    # -- evaluate -----------------------------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, max_queue_size=10, workers=1, use_multiprocessing=False, return_dict=False,
                 **kwargs):
        """The loss and metrics of the model on the given data (one pass, no shuffling).

        Returns:
            ``loss`` alone when there are no metrics, else ``[loss, metric...]`` in ``metrics_names`` order;
            a ``{name: value}`` dict with ``return_dict=True``.
        """
        self._assert_compile_was_called()
        handler = kwargs.pop("_handler", None)
        kwargs.pop("_use_cached_eval_dataset", None)
        if kwargs:
            raise TypeError(f"Invalid keyword arguments: {sorted(kwargs)}")
        verbose = _get_verbosity(verbose)
        if handler is None:
            handler = self._make_handler(x, y, sample_weight, batch_size=batch_size, steps=steps)
        if isinstance(callbacks, CallbackList):
            callback_list = callbacks
        else:
            callback_list = CallbackList(callbacks, add_history=False, add_progbar=verbose != 0, model=self,
                                         verbose=verbose, epochs=1, steps=handler.inferred_steps)
        self.reset_metrics()
        callback_list.on_test_begin()
        hooks = callback_list.batch_hook_callbacks("test")
        run_step = self._run_test_step
        with blas.managed():
            for step, (bx, by, bsw) in enumerate(handler.epoch_batches(0)):
                if hooks:
                    for cb in hooks:
                        cb.on_test_batch_begin(step, {})
                run_step(bx, by, bsw)
                self._counters["test"] += 1
                if hooks:
                    logs = self._get_logs()
                    for cb in hooks:
                        cb.on_test_batch_end(step, logs)
        logs = self._get_logs()
        callback_list.on_test_end(logs)
        if return_dict:
            return logs
        return flatten_metrics_in_order(logs, self.metrics_names)

    # -- predict ------------------------------------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, max_queue_size=10, workers=1,
                use_multiprocessing=False):
        """The model's outputs for ``x`` as NumPy arrays (a list or dict of arrays for several outputs)."""
        if verbose != 0:
            verbose = _get_verbosity(verbose)
        if callbacks is None and steps is None and type(x) is np.ndarray and x.ndim and \
                0 < x.shape[0] <= (batch_size or 32):
            small = self._small_predict
            if small is None or small[0] is not self._plan:
                small = self._small_predict = self._small_predict_entry()
            if small is not None and small[0].accepts_single(x):
                bar = _single_step_bar(verbose) if verbose else None
                out = small[1](x)
                if bar is not None:
                    bar.update(1, finalize=True)
                return out
        handler = self._make_handler(x, batch_size=batch_size, steps=steps, check_values=False, is_predict=True)
        callback_list = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_history=False, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=handler.inferred_steps)
        callback_list.on_predict_begin()
        hooks = callback_list.batch_hook_callbacks("predict")
        outputs = []
        with blas.managed():
            for step, (bx, _, _) in enumerate(handler.epoch_batches(0)):
                if hooks:
                    for cb in hooks:
                        cb.on_predict_batch_begin(step, {})
                batch_out = to_numpy_structure(self._run_predict_step(bx))
                self._counters["predict"] += 1
                outputs.append(batch_out)
                if hooks:
                    for cb in hooks:
                        cb.on_predict_batch_end(step, {"outputs": batch_out})
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs). The input data produced "
                             "no batches.")
        return _concat_outputs(outputs)

    def _small_predict_entry(self):
        """``(plan, fn)`` for one small NumPy batch: no data handler, callbacks or progress bar (graph models
        with the default ``predict_step``); ``None`` when that shortcut does not apply."""
        if not self._is_graph_network or not steps.uses_default_steps(self, "predict_step"):
            return None
        from featherflow.keras.models.functional import get_plan

        plan = get_plan(self)
        if len(plan.input_slots) != 1:
            return None
        return plan, steps.make_small_predict_step(plan, self)

    # -- one batch: the step functions of steps.py, built once per fit (or compile) ---------------------------------
    def _train_fn_key(self) -> tuple:
        """What a train step function is built for: the optimizer, the trained variables, the step method and
        whether steps run eagerly."""
        from featherflow.core.function import functions_run_eagerly

        weights = tuple(id(v) for v in self.trainable_weights) if self.built else None
        layers = self._flat_layers() if self.built else []
        # Python numbers and functions a trace bakes in (a Dropout rate, an activation, Adam's beta_1): changed
        # between fit calls (population-based training does), the step is traced again
        settings = tuple(_scalar_state(obj) for obj in layers + [self.optimizer])
        return (id(self.optimizer), weights, type(self).train_step, bool(self._run_eagerly), functions_run_eagerly(),
                settings)

    def _reset_compiled_plans(self) -> None:
        self._train_fn = None
        self._test_fn = None
        self._predict_fn = None
        self._small_predict = None

    def _run_train_step(self, x, y, sample_weight) -> None:
        fn = self._train_fn
        if fn is None:
            fn = steps.make_train_step(self)
            if fn is None:  # the first batch: Keras's train_step builds the compiled loss and metrics
                self._last_step_logs = steps.keras_step(self, "train_step")(x, y, sample_weight)
                return
            # an overridden train_step: its first batch runs eagerly (it builds the metrics, optimizer slots)
            fn = self._train_fn = compiled_steps.compile_step(
                self, fn, "train_step", eager_first=not steps.uses_default_steps(self, "train_step"))
            self._train_key = self._train_fn_key()
        logs = fn(x, y, sample_weight)
        if logs is not None or self._last_step_logs is not None:  # no attribute write per step on the fast path
            self._last_step_logs = logs

    def _run_test_step(self, x, y, sample_weight) -> None:
        fn = self._test_fn
        if fn is None:
            fn = steps.make_test_step(self)
            if fn is None:
                self._last_step_logs = steps.keras_step(self, "test_step")(x, y, sample_weight)
                return
            fn = self._test_fn = compiled_steps.compile_step(
                self, fn, "test_step", eager_first=not steps.uses_default_steps(self, "test_step"))
        logs = fn(x, y, sample_weight)
        if logs is not None or self._last_step_logs is not None:
            self._last_step_logs = logs

    def _run_predict_step(self, x):
        fn = self._predict_fn
        if fn is None:
            fn = steps.make_predict_step(self)
            if fn is None:  # not built yet: Keras's predict_step builds it
                return self.predict_step((steps.tensorize(x),))
            fn = self._predict_fn = compiled_steps.compile_step(
                self, fn, "predict_step", eager_first=not steps.uses_default_steps(self, "predict_step"))
        return fn(x)


def _scalar_state(obj) -> tuple:
    """``obj``'s attributes that are Python numbers, strings or functions, as a hashable tuple."""
    state = []
    for name, value in getattr(obj, "__dict__", {}).items():
        if value is None or isinstance(value, (bool, int, float, str)):
            state.append((name, value))
        elif isinstance(value, types.FunctionType):
            state.append((name, id(value)))
    return tuple(state)


def _should_eval(epoch: int, validation_freq) -> bool:
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


def _concat_outputs(outputs: list):
    first = outputs[0]
    if len(outputs) == 1:
        return first
    if isinstance(first, np.ndarray):
        return np.concatenate(outputs, axis=0)
    if isinstance(first, dict):
        return {k: np.concatenate([o[k] for o in outputs], axis=0) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_concat_outputs([o[i] for o in outputs]) for i in range(len(first)))
    return outputs


def _single_step_bar(verbose: int):
    from featherflow.keras.utils import Progbar

    return Progbar(1, verbose=verbose)
