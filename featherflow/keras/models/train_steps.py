"""The per-batch work of ``fit``/``evaluate``/``predict``: Keras's overridable steps and lean fast paths.

Keras semantics live in ``TrainStepsMixin.train_step`` / ``test_step`` / ``predict_step`` (users may
override them, and ``compute_loss`` / ``compute_metrics``). When they are not overridden, the
trainer runs equivalent fast closures built once per ``fit``:

* one ``GradientTape`` watching exactly the trainable variables;
* the model's forward pass as a cached plan of layer calls (no ``Layer.__call__`` bookkeeping
  where none is needed);
* the loss through the compiled container (softmax outputs carry their logits, so the
  cross-entropy runs in its fused stable form);
* gradients copied straight into the optimizer's flat gradient buffer, then one vectorized
  update (``optimizer.apply_flat()``);
* metrics updated after the tape is closed.

Both paths give the same numbers: the first batch of every ``fit`` goes through ``train_step``.

>>> import numpy as np
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, kernel_initializer="ones")])
>>> model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
>>> logs = model.train_step((np.array([[1.0]]), np.array([[3.0]])))  # loss (1 - 3)^2 = 4, gradient -4 -> w = 3
>>> float(logs["loss"]), float(model.layers[0].kernel.numpy()[0, 0])
(4.0, 3.0)
"""

from __future__ import annotations

import warnings

import numpy as np

from featherflow.backend.arrays import to_numpy
from featherflow.core import GradientTape, Tensor
from featherflow.core.runtime import loss_event_count
from featherflow.core.runtime import state as _runtime
from featherflow.keras.layers.base import flatten, map_structure
from featherflow.keras.models.data_adapter import unpack_x_y_sample_weight
from featherflow.keras.models.training_program import training_program


def _tensorize(structure):
    return map_structure(lambda a: a if a is None or isinstance(a, Tensor) else Tensor(np.asarray(a)), structure)


def to_numpy_structure(structure):
    """Tensors of a (nested) structure as NumPy arrays."""
    return map_structure(lambda t: to_numpy(t.value) if isinstance(t, Tensor) else t, structure)


class TrainStepsMixin:
    """Keras's step methods; ``Model`` gets them through ``TrainerMixin``."""

    # -- Keras's overridable steps -------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        """The total loss of a batch: compiled losses plus ``self.losses`` (regularization)."""
        del x
        return self.compiled_loss(y, y_pred, sample_weight, regularization_losses=self.losses)

    def compute_metrics(self, x, y, y_pred, sample_weight):
        """Update the compiled metrics and return ``get_metrics_result()``."""
        del x
        self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """``{name: result}`` of every metric in ``self.metrics``."""
        results = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                results.update(value)
            else:
                results[metric.name] = value
        return results

    def train_step(self, data):
        """One training step on ``data`` = ``x``, ``(x, y)`` or ``(x, y, sample_weight)``; returns the metrics."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        self._validate_target_and_loss(y, loss)
        self.optimizer.minimize(loss, self.trainable_variables, tape=tape)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """One evaluation step; returns the metrics."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        self.compute_loss(x, y, y_pred, sample_weight)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _validate_target_and_loss(self, y, loss) -> None:
        if self.loss and y is None:
            raise ValueError(f"Target data is missing. Your model was compiled with loss={self.loss!r}, and therefore "
                             "expects target data to be provided in `fit()`.")
        if loss is None:
            raise ValueError("No loss found. You may have forgotten to provide a `loss` argument in the `compile()` "
                             "method.")

    # -- which path -------------------------------------------------------------------------------
    def _uses_default_steps(self, *names) -> bool:
        from featherflow.keras.models.trainer import TrainerMixin

        for name in names:
            if getattr(type(self), name) is not getattr(TrainerMixin, name):
                return False
        return True

    def _forward_fn(self):
        """``fn(x, training)``: the forward pass on arrays (a cached plan for graph models)."""
        if self._is_graph_network:
            from featherflow.keras.models.functional import _cast_input, flatten_model_inputs, get_plan

            plan = get_plan(self)
            dtypes = plan.input_dtypes
            single = len(dtypes) == 1
            dtype0 = dtypes[0]
            run = plan.run
            accepts_single = plan.accepts_single
            accepts_all = plan.accepts_all
            runtime = _runtime
            model = self

            def forward(x, training):
                if single and isinstance(x, np.ndarray):
                    if not accepts_single(x):
                        return model(x, training=training)  # raises Keras's incompatible-input error
                    values = [Tensor(x) if x.dtype == dtype0 else Tensor(x.astype(dtype0))]
                else:
                    values = [_cast_input(v, d) for v, d in zip(flatten_model_inputs(self, x), dtypes)]
                    if not accepts_all(values):
                        return model(x, training=training)
                previous = runtime.training
                runtime.training = training
                try:
                    return run(values, training)
                finally:
                    runtime.training = previous

            return forward

        def forward(x, training):
            return self(x, training=training)

        return forward

    def _loss_bookkeeping(self):
        layers = [self] + self._flat_layers()
        regularized = any(getattr(layer, "_weight_regularizers", None) for layer in layers)
        return layers, regularized

    def _make_fast_train_fn(self):
        """The lean training step for the default ``train_step`` (see the module docstring)."""
        variables = _dedup(self.trainable_weights)
        optimizer = self.optimizer
        flat_views = getattr(optimizer, "flat_gradient_views", None)
        views = flat_views(variables) if flat_views is not None and variables else None
        apply_flat = optimizer.apply_flat if views is not None else None
        forward = self._forward_fn()
        compiled_loss = self.compiled_loss
        compiled_metrics = self.compiled_metrics
        update_metrics = compiled_metrics.update_state if compiled_metrics.has_metrics else None
        layers, regularized = self._loss_bookkeeping()
        warned = [False]
        model = self
        events = loss_event_count
        mark = [None]  # the add_loss count when the layers' losses were last cleared
        # When every trainable-flagged variable of the model is trained (no frozen layers), the tape's
        # automatic watching gives the same gradients without a watch() call per step.
        auto_watch = {id(v) for v in self.weights if v.trainable} == {id(v) for v in variables}
        # a Dense chain under a sparse cross-entropy: the same step as NumPy calls (training_program.py)
        program = None if regularized else training_program(self, variables, views)
        run_program = program.run if program is not None else None

        def step(x, y, sample_weight):
            if events() != mark[0]:
                _clear_stale_losses(layers, mark)
            if run_program is not None and run_program(x, y, sample_weight):
                return
            tape = GradientTape(watch_accessed_variables=auto_watch)
            with tape:
                if not auto_watch:
                    tape.watch(variables)
                y_pred = forward(x, True)
                extra = model.losses if regularized or events() != mark[0] else None
                loss = compiled_loss(y, y_pred, sample_weight, extra)
            if loss is None:
                model._validate_target_and_loss(y, loss)
            if views is not None:
                missing = tape._gradients_into(loss, variables, views)
                if missing and not warned[0]:
                    warned[0] = True
                    _warn_missing_gradients(missing)
                apply_flat()
            elif variables:
                grads = tape.gradient(loss, variables)
                optimizer.apply_gradients(zip(grads, variables))
            if update_metrics is not None:
                update_metrics(y, y_pred, sample_weight)

        return step

    def _make_fast_test_fn(self):
        forward = self._forward_fn()
        compiled_loss = self.compiled_loss
        update_metrics = self.compiled_metrics.update_state if self.compiled_metrics.has_metrics else None
        layers, regularized = self._loss_bookkeeping()
        model = self
        events = loss_event_count
        mark = [None]

        def step(x, y, sample_weight):
            if events() != mark[0]:
                _clear_stale_losses(layers, mark)
            y_pred = forward(x, False)
            extra = model.losses if regularized or events() != mark[0] else None
            compiled_loss(y, y_pred, sample_weight, extra)
            if update_metrics is not None:
                update_metrics(y, y_pred, sample_weight)

        return step

    def _make_fast_predict_fn(self):
        forward = self._forward_fn()
        layers = self._flat_layers()
        events = loss_event_count
        mark = [None]
        program, accepts, dtype = None, None, None
        if self._is_graph_network:
            from featherflow.keras.models.functional import get_plan
            from featherflow.keras.models.inference import inference_program

            plan = get_plan(self)
            program = inference_program(plan)
            if program is not None:
                fns, accepts, dtype = program.array_fns, plan.accepts_single, plan.input_dtypes[0]

        def step(x):
            if events() != mark[0]:
                _clear_stale_losses(layers, mark)
            if program is not None and type(x) is np.ndarray and x.ndim and x.shape[0] and accepts(x):
                a = x if x.dtype == dtype else x.astype(dtype)
                for fn in fns:  # the plan as NumPy calls (featherflow/keras/models/inference.py)
                    a = fn(a)
                return a
            return forward(x, False)

        return step

    def _make_small_predict_fn(self, plan):
        """``fn(x)`` for one NumPy array already checked by ``plan.accepts_single``: the plan, nothing else."""
        run = plan.run
        dtype = plan.input_dtypes[0]
        layers = plan.flat_layers
        events = loss_event_count
        mark = [None]
        runtime = _runtime
        from featherflow.keras.models.inference import inference_program

        program = inference_program(plan)
        if program is not None:
            fns = program.array_fns

            def small_program(x):
                if events() != mark[0]:
                    _clear_stale_losses(layers, mark)
                a = x if x.dtype == dtype else x.astype(dtype)
                for fn in fns:  # the plan as NumPy calls (featherflow/keras/models/inference.py)
                    a = fn(a)
                return a if type(a) is np.ndarray else to_numpy(a)

            return small_program

        def small(x):
            if events() != mark[0]:
                _clear_stale_losses(layers, mark)
            previous = runtime.training
            runtime.training = False
            try:
                out = run([Tensor(x if x.dtype == dtype else x.astype(dtype))], False)
            finally:
                runtime.training = previous
            if type(out) is Tensor:
                value = out.value
                return value if type(value) is np.ndarray else to_numpy(value)
            return to_numpy_structure(out)

        return small

    # -- dispatch -----------------------------------------------------------------------------------
    def _reset_compiled_plans(self) -> None:
        self._train_fn = None
        self._test_fn = None
        self._predict_fn = None
        self._small_predict = None

    def _run_train_step(self, x, y, sample_weight) -> None:
        fn = self._train_fn
        if fn is not None:
            if self._last_step_logs is not None:
                self._last_step_logs = None
            fn(x, y, sample_weight)
            return
        if self._uses_default_steps("train_step", "compute_loss", "compute_metrics") and self.built and \
                self.compiled_loss._built:
            self._train_fn = self._make_fast_train_fn()
            self._last_step_logs = None
            self._train_fn(x, y, sample_weight)
            return
        from featherflow.keras.models.data_adapter import pack_x_y_sample_weight

        self._ensure_output_names()
        self._last_step_logs = self.train_step(pack_x_y_sample_weight(_tensorize(x), _tensorize(y),
                                                                      _tensorize(sample_weight)))

    def _run_test_step(self, x, y, sample_weight) -> None:
        fn = self._test_fn
        if fn is not None:
            if self._last_step_logs is not None:
                self._last_step_logs = None
            fn(x, y, sample_weight)
            return
        if self._uses_default_steps("test_step", "compute_loss", "compute_metrics") and self.built and \
                self.compiled_loss._built:
            self._test_fn = self._make_fast_test_fn()
            self._last_step_logs = None
            self._test_fn(x, y, sample_weight)
            return
        from featherflow.keras.models.data_adapter import pack_x_y_sample_weight

        self._ensure_output_names()
        self._last_step_logs = self.test_step(pack_x_y_sample_weight(_tensorize(x), _tensorize(y),
                                                                     _tensorize(sample_weight)))

    def _run_predict_step(self, x):
        fn = self._predict_fn
        if fn is None and self._uses_default_steps("predict_step") and self.built:
            fn = self._predict_fn = self._make_fast_predict_fn()
        if fn is not None:
            return fn(x)
        return self.predict_step((_tensorize(x),))

    def _ensure_output_names(self) -> None:
        """Give the compiled containers the model's output names before their first batch."""
        names = self.output_names if self._is_graph_network else None
        if self.compiled_loss is not None and self.compiled_loss._output_names is None:
            self.compiled_loss._output_names = names
        if self.compiled_metrics is not None and self.compiled_metrics._output_names is None:
            self.compiled_metrics._output_names = names


def _clear_stale_losses(layers, mark) -> None:
    """Empty the layers' ``add_loss`` lists left from earlier calls and note the current loss-event count in
    ``mark``; a step function calls it when that count moved (``loss_event_count() != mark[0]``)."""
    for layer in layers:
        if layer._losses:
            layer._losses = []
    mark[0] = loss_event_count()


def _dedup(variables) -> list:
    out, seen = [], set()
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _warn_missing_gradients(variables) -> None:
    warnings.warn(f"Gradients do not exist for variables {[v.name for v in variables]} when minimizing the loss. If "
                  "you're using `model.compile()`, did you forget to provide a `loss` argument?", UserWarning,
                  stacklevel=4)


def flat_outputs(outputs) -> list:
    return [outputs] if isinstance(outputs, Tensor) else flatten(outputs)
