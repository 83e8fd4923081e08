"""One step of ``fit`` / ``evaluate`` / ``predict``: Keras's overridable steps and the step functions run per batch.

Keras semantics are the step methods of ``keras.Model`` defined here and bound on the model class
(``train_step``, ``test_step``, ``predict_step``, ``compute_loss``, ``compute_metrics``, ``get_metrics_result``):
users may override them. ``make_train_step`` / ``make_test_step`` / ``make_predict_step`` build, once per
``fit`` (or ``compile``), the function the loops call for each batch:

* a step method overridden: a function that packs the batch and calls it (its logs are the step's logs);
* Keras's own steps: an equivalent fast function - one ``GradientTape`` watching exactly the trainable
  variables; the forward pass as the model's cached plan; the loss through the compiled container (softmax
  outputs carry their logits, so the cross-entropy runs in its fused form); gradients written straight into
  the optimizer's flat gradient buffer, then one vectorized update (``optimizer.apply_flat()``); metrics
  updated after the tape closed; ``compiled_steps.py`` runs it through ``tf.function``. It gives the numbers of
  the Keras steps; the first batch after ``compile`` runs Keras's ``train_step`` itself (it builds the compiled
  loss and metrics), so ``make_train_step`` returns ``None`` until then.

>>> import numpy as np
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, kernel_initializer="ones")])
>>> model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
>>> logs = model.train_step((np.array([[1.0]]), np.array([[3.0]])))  # loss (1 - 3)^2 = 4, gradient -4 -> w = 3
>>> float(logs["loss"]), float(model.layers[0].kernel.numpy()[0, 0])
(4.0, 3.0)
>>> step = make_train_step(model)  # the compiled loss is built now: Keras's steps as one fast function
>>> step(np.array([[1.0]], "float32"), np.array([[3.0]], "float32"), None) is None  # logs: the metrics'
True
"""

from __future__ import annotations

import warnings

import numpy as np

from featherflow.backend.arrays import to_numpy
from featherflow.core import GradientTape, Tensor
from featherflow.core.function._function import _settings as _function_settings
from featherflow.core.runtime import loss_event_count
from featherflow.core.runtime import state as _runtime
from featherflow.keras.layers.base import map_structure
from featherflow.keras.metrics.host import tracing
from featherflow.keras.models.data_adapter import pack_x_y_sample_weight, unpack_x_y_sample_weight


# -- Keras's overridable steps (methods of keras.Model) -----------------------------------------------------------
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
    validate_target_and_loss(self, y, loss)
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


KERAS_STEPS = {fn.__name__: fn for fn in (compute_loss, compute_metrics, get_metrics_result, train_step, test_step,
                                          predict_step)}


def uses_default_steps(model, *names) -> bool:
    """Whether ``model``'s class keeps Keras's step methods ``names`` (none overridden)."""
    kind = type(model)
    return all(getattr(kind, name, None) is KERAS_STEPS[name] for name in names)


def validate_target_and_loss(model, y, loss) -> None:
    """Keras's errors for a training step without targets or without a loss."""
    if model.loss and y is None:
        raise ValueError(f"Target data is missing. Your model was compiled with loss={model.loss!r}, and therefore "
                         "expects target data to be provided in `fit()`.")
    if loss is None:
        raise ValueError("No loss found. You may have forgotten to provide a `loss` argument in the `compile()` "
                         "method.")


# -- the functions run per batch ----------------------------------------------------------------------------------
def make_train_step(model):
    """``fn(x, y, sample_weight) -> logs or None`` for ``fit``'s batches (``None``: read the metrics), or ``None``
    while Keras's steps are in use and the compiled loss is not built yet (run ``keras_step`` for that batch)."""
    if not uses_default_steps(model, "train_step", "compute_loss", "compute_metrics"):
        return keras_step(model, "train_step")
    if not model.built or not model.compiled_loss._built:
        return None
    return _fast_train_step(model)


def make_test_step(model):
    """``fn(x, y, sample_weight) -> logs or None`` for ``evaluate``'s batches (as ``make_train_step``)."""
    if not uses_default_steps(model, "test_step", "compute_loss", "compute_metrics"):
        return keras_step(model, "test_step")
    if not model.built or not model.compiled_loss._built:
        return None
    return _fast_test_step(model)


def make_predict_step(model):
    """``fn(x) -> outputs`` for ``predict``'s batches, or ``None`` when the model is not built yet."""
    if not uses_default_steps(model, "predict_step"):
        return lambda x: model.predict_step((tensorize(x),))
    if not model.built:
        return None
    return _fast_predict_step(model)


def keras_step(model, name: str):
    """``fn(x, y, sample_weight) -> logs``: the batch packed as Keras does and passed to ``model.<name>``."""

    def step(x, y, sample_weight):
        ensure_output_names(model)
        return getattr(model, name)(pack_x_y_sample_weight(tensorize(x), tensorize(y), tensorize(sample_weight)))

    return step


def tensorize(structure):
    """The arrays of a (nested) batch as ``Tensor``s (``None`` kept)."""
    return map_structure(lambda a: a if a is None or isinstance(a, Tensor) else Tensor(np.asarray(a)), structure)


def to_numpy_structure(structure):
    """Tensors of a (nested) structure as NumPy arrays."""
    return map_structure(lambda t: to_numpy(t.value) if isinstance(t, Tensor) else t, structure)


def ensure_output_names(model) -> None:
    """Give the compiled containers the model's output names before their first batch."""
    names = model.output_names if model._is_graph_network else None
    if model.compiled_loss is not None and model.compiled_loss._output_names is None:
        model.compiled_loss._output_names = names
    if model.compiled_metrics is not None and model.compiled_metrics._output_names is None:
        model.compiled_metrics._output_names = names


class _StaleLosses:
    """``add_loss`` losses left on the layers by earlier calls: ``clear()`` empties them before a step (only when
    the runtime's ``add_loss`` count moved since the last clear); ``added()`` tells whether the step's own
    forward pass added losses since."""

    __slots__ = ("layers", "mark")

    def __init__(self, layers):
        self.layers = layers
        self.mark = None

    def clear(self) -> None:
        if loss_event_count() != self.mark:
            for layer in self.layers:
                if layer._losses:
                    layer._losses = []
            self.mark = loss_event_count()

    def added(self) -> bool:
        return loss_event_count() != self.mark


def forward_fn(model):
    """``fn(x, training)``: the model's forward pass on a batch (the cached plan for graph models)."""
    if not model._is_graph_network:
        return lambda x, training: model(x, training=training)
    from featherflow.keras.models.functional import _cast_input, flatten_model_inputs, get_plan

    plan = get_plan(model)
    dtypes = plan.input_dtypes
    single = len(dtypes) == 1
    dtype0 = dtypes[0]
    run, accepts_single, accepts_all = plan.run, plan.accepts_single, plan.accepts_all
    runtime = _runtime

    def forward(x, training):
        if single and isinstance(x, np.ndarray):
            if not accepts_single(x):
                return model(x, training=training)  # raises Keras's incompatible-input error
            values = [Tensor(x) if x.dtype == dtype0 else Tensor(x.astype(dtype0))]
        else:
            values = [_cast_input(v, d) for v, d in zip(flatten_model_inputs(model, x), dtypes)]
            if not accepts_all(values):
                return model(x, training=training)
        previous = runtime.training
        runtime.training = training
        try:
            return run(values, training)
        finally:
            runtime.training = previous

    return forward


def _loss_bookkeeping(model):
    """``(stale-loss guard, whether any layer has weight regularizers)`` for a step function."""
    layers = [model] + model._flat_layers()
    regularized = any(getattr(layer, "_weight_regularizers", None) for layer in layers)
    return _StaleLosses(layers), regularized


def _fast_train_step(model):
    """Keras's ``train_step`` as one lean function (see the module docstring)."""
    variables = _dedup(model.trainable_weights)
    optimizer = model.optimizer
    flat_views = getattr(optimizer, "flat_gradient_views", None)
    views = flat_views(variables) if flat_views is not None and variables else None
    apply_flat = optimizer.apply_flat if views is not None else None
    scales_loss = callable(getattr(optimizer, "get_scaled_loss", None))
    forward = forward_fn(model)
    compiled_loss = model.compiled_loss
    compiled_metrics = model.compiled_metrics
    update_metrics = compiled_metrics.update_state if compiled_metrics.has_metrics else None
    stale, regularized = _loss_bookkeeping(model)
    clear_stale, losses_added = stale.clear, stale.added
    warned = [False]
    # When every trainable-flagged variable of the model is trained (no frozen layers), the tape's
    # automatic watching gives the same gradients without a watch() call per step.
    auto_watch = {id(v) for v in model.weights if v.trainable} == {id(v) for v in variables}

    def step(x, y, sample_weight):
        clear_stale()
        tape = GradientTape(watch_accessed_variables=auto_watch)
        with tape:
            if not auto_watch:
                tape.watch(variables)
            y_pred = forward(x, True)
            extra = model.losses if regularized or losses_added() else None
            loss = compiled_loss(y, y_pred, sample_weight, extra)
        if loss is None:
            validate_target_and_loss(model, y, loss)
        if views is not None and not tracing():  # (a trace records the general update: gradients, apply)
            missing = tape._gradients_into(loss, variables, views)
            if missing and not warned[0]:
                warned[0] = True
                _warn_missing_gradients(missing)
            apply_flat()
        elif variables and scales_loss:  # a LossScaleOptimizer: scaled loss, unscaled gradients (as Keras)
            optimizer.minimize(loss, variables, tape=tape)
        elif variables:
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
        if update_metrics is not None:
            update_metrics(y, y_pred, sample_weight)
        return None

    return step


def _fast_test_step(model):
    forward = forward_fn(model)
    compiled_loss = model.compiled_loss
    update_metrics = model.compiled_metrics.update_state if model.compiled_metrics.has_metrics else None
    stale, regularized = _loss_bookkeeping(model)
    clear_stale, losses_added = stale.clear, stale.added

    def step(x, y, sample_weight):
        clear_stale()
        y_pred = forward(x, False)
        extra = model.losses if regularized or losses_added() else None
        compiled_loss(y, y_pred, sample_weight, extra)
        if update_metrics is not None:
            update_metrics(y, y_pred, sample_weight)
        return None

    return step


def _fast_predict_step(model):
    forward = forward_fn(model)
    clear_stale = _StaleLosses(model._flat_layers()).clear

    def step(x):
        clear_stale()
        return forward(x, False)

    return step


class CompiledForward:
    """A graph model's inference forward pass (``training=False``) through ``tf.function``, for one NumPy array
    that fits the model's only input: ``predict`` on a small batch and ``model(x)`` outside a tape.

    Each input shape is traced once; later calls with that shape run the traced program directly (no data
    handler, callbacks, progress bar, Tensors or tape). A softmax output keeps its logits (``_logits``), as
    the eager ops give them, so a loss computed on ``model(x)`` uses the logits form. A model whose layers
    cannot be traced runs eagerly (``tf.function``'s fallback: one warning).
    """

    def __init__(self, plan, model=None):
        from featherflow.core.function import Function

        self.plan = plan
        self.model = model
        self.dtype = plan.input_dtypes[0]
        self.stale = _StaleLosses(plan.flat_layers)
        self._function = Function
        self.adds_losses = False
        self.layers = [layer for layer in plan.flat_layers if hasattr(layer, "activation")]
        self._reset()

    def _reset(self) -> None:
        self.function = self._function(self._forward, name="predict_function", reduce_retracing=True,
                                       _on_untraceable="eager")
        self.traces: dict = {}  # input shape -> (trace, whether the output carries logits), single outputs only
        self.seen: set = set()  # input shapes met once: traced the second time (one-off shapes never are)
        # the layers' activations the traces were made with: a program bakes them in, and setting
        # `layer.activation = linear` to read the logits is a common trick
        self.activations = [layer.activation for layer in self.layers]

    def _entry(self, shape):
        entry = self.traces.get(shape)
        if entry is None or not entry[0].valid() or self._eager():
            return None
        for layer, activation in zip(self.layers, self.activations):
            if layer.activation is not activation:
                self._reset()
                return None
        return entry

    def _forward(self, x):
        runtime = _runtime
        previous = runtime.training
        runtime.training = False
        try:
            out = self.plan.run([x], False)
        finally:
            runtime.training = previous
        logits = getattr(out, "_logits", None) if type(out) is Tensor else None
        return out, logits

    def _eager(self) -> bool:
        model = self.model
        return _function_settings["run_functions_eagerly"] or (model is not None and bool(model._run_eagerly))

    def tensors(self, a):
        """The forward pass of the array ``a`` (of the input dtype) as the plan's output Tensors."""
        entry = self._entry(a.shape)
        if entry is not None:
            values = entry[0].program(a)
            out = Tensor(values[0])
            if entry[1]:
                out._logits = Tensor(values[1])
            return out
        if self._eager() or a.shape not in self.seen or self.adds_losses:
            self.seen.add(a.shape)
            before = loss_event_count()
            out = self._forward(Tensor(a))[0]
            if loss_event_count() != before:  # add_loss in a forward pass (an activity regularizer): Python
                self.adds_losses = True  # bookkeeping a program would not replay; this model stays eager
            return out
        out, logits = self.function(a)
        trace = self.function.array_trace(a)
        if trace is not None and type(trace.structure[0]) is Tensor:
            self.traces[a.shape] = (trace, trace.structure[1] is not None)
        if logits is not None and type(out) is Tensor:
            out._logits = logits
        return out

    def call(self, a):
        """``model(x)`` (the plan's only input, an array of the input dtype, outside any tape): a Tensor."""
        return self.tensors(a)

    def __call__(self, x):
        """``predict`` of one NumPy batch: the outputs as NumPy arrays."""
        stale = self.stale
        if loss_event_count() != stale.mark:
            stale.clear()
        a = x if x.dtype == self.dtype else x.astype(self.dtype)
        entry = self.traces.get(a.shape)
        if entry is not None:  # the hot path (a one-sample predict), _entry's checks inlined
            trace = entry[0]
            model = self.model
            if trace.valid() and not _function_settings["run_functions_eagerly"] and \
                    (model is None or not model._run_eagerly):
                for layer, activation in zip(self.layers, self.activations):
                    if layer.activation is not activation:
                        break
                else:
                    return trace.program(a)[0]
        out = self.tensors(a)
        if type(out) is Tensor:
            value = out.value
            return value if type(value) is np.ndarray else to_numpy(value)
        return to_numpy_structure(out)


def make_small_predict_step(plan, model=None):
    """``fn(x) -> NumPy outputs`` for one NumPy array already checked by ``plan.accepts_single``: the plan's
    compiled forward pass and nothing else (``predict`` on a small batch: no data handler, callbacks or
    progress bar; see ``CompiledForward``)."""
    return CompiledForward(plan, model)


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
