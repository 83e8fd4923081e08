"""``fit`` / ``evaluate`` / ``predict`` run their per-batch step through ``tf.function``, as tf.keras's
``make_train_function`` does.

``compile_step(model, fn, name)`` wraps the step function of ``steps.py`` in a ``StepFunction``: each call goes
through ``featherflow.core.function.function(fn, reduce_retracing=True, jit_compile=...)``, which traces the
step once per input signature and replays the recorded program afterwards. It runs ``fn`` itself (eagerly)
when:

* the model asks for it: ``compile(run_eagerly=True)``, ``model.run_eagerly = True``, or
  ``tf.config.run_functions_eagerly(True)``;
* the step could not be traced: a value escaped to Python (``np.asarray``, ``float()``, ``.item()``, ``if``
  on a tensor). The trace runs the step for real, so that batch's results are the eager ones; the later
  batches run eagerly, after ONE warning naming the step and the reason: never a silently wrong result.
  ``StepFunction.fallback_reason`` keeps the reason and ``StepFunction.compiled`` says whether calls replay a
  compiled program.

Built-in metrics and the loss trackers run their NumPy bookkeeping as host calls inside a traced step
(``featherflow/keras/metrics/host.py``), so compiled steps report the same logs as eager ones.

Issue 22 retired the hand-written array programs that ran Dense/Flatten/Dropout chains before this path
(``training_program.py``, ``inference.py``) once the compiled step beat them: seed MLP, 20,000-sample fit
epochs interleaved in one process, medians of 5: 0.43 s compiled vs 0.52 s training program with Numba,
0.74 vs 0.90 s without (2-core VM, load ~3.4; ``benchmarks/results.md``).

>>> import numpy as np
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, kernel_initializer="ones")])
>>> model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
>>> step = compile_step(model, lambda x: x + 1, "train_step")
>>> step(np.float32(1.0)), step.runs_eagerly
(np.float32(2.0), True)
"""

from __future__ import annotations

from featherflow.core.function import function as tf_function
from featherflow.core.function import functions_run_eagerly


class _Step:
    """The step given to ``tf.function``: named after the model's step, so the one warning the compiler gives
    when the step cannot be traced says which step of which model, and why."""

    __slots__ = ("fn", "label")

    def __init__(self, fn, label: str):
        self.fn = fn
        self.label = label

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self) -> str:
        return f"{self.label} (the same results, more slowly; compile(run_eagerly=True) runs it eagerly without " \
               "this warning)"


def _compiled_function(fn, name: str, model, jit_compile):
    """``tf.function(fn)`` for a step: with the compiler, a ``Function`` that falls back to eager with one warning
    (instead of raising) when the step is untraceable; without it, what ``function`` gives."""
    try:
        from featherflow.core.function import Function
    except ImportError:
        return tf_function(fn, reduce_retracing=True, jit_compile=jit_compile)
    step = _Step(fn, f"`{name}` of model '{getattr(model, 'name', type(model).__name__)}'")
    return Function(step, name=name, jit_compile=jit_compile, reduce_retracing=True, _on_untraceable="eager")


def check_jit_compile(value):
    """``compile(jit_compile=...)``: ``None``/``"auto"`` (the default), ``True`` or ``False``."""
    if value is None or value == "auto" or isinstance(value, bool):
        return value
    raise ValueError(f"`jit_compile` must be a boolean, 'auto' or None. Received: jit_compile={value!r}")


def runs_eagerly(model) -> bool:
    """Whether ``model``'s steps run eagerly: ``model.run_eagerly`` or ``tf.config.run_functions_eagerly``."""
    return bool(model.run_eagerly) or functions_run_eagerly()


class StepFunction:
    """A per-batch step: ``fn`` through ``tf.function``, or ``fn`` itself (see the module docstring).

    Attributes:
        fn: the eager step function.
        name: ``"train_step"``, ``"test_step"`` or ``"predict_step"``.
        runs_eagerly: the model asked for eager steps (decided when the step was made).
        fallback_reason: why tracing failed (the steps then run eagerly), else ``None``.
        function: the ``tf.function`` (``None`` when running eagerly).
    """

    __slots__ = ("fn", "name", "model", "runs_eagerly", "fallback_reason", "function", "eager_calls")

    def __init__(self, model, fn, name: str, eager_first: bool = False):
        self.fn = fn
        self.name = name
        self.model = model
        self.runs_eagerly = runs_eagerly(model)
        self.fallback_reason = None
        self.function = None if self.runs_eagerly else _compiled_function(
            fn, name, model, True if model._jit_compile is True else None)
        self.eager_calls = 1 if eager_first else 0  # calls left to run eagerly (a custom step's first batch)

    @property
    def compiled(self) -> bool:
        """Whether calls replay a compiled program: a real ``tf.function`` that traced, no fallback, not eager."""
        function = self.function
        count = getattr(function, "experimental_get_tracing_count", None)
        return function is not None and self.fallback_reason is None and count is not None and count() > 0 \
            and not functions_run_eagerly()

    def __call__(self, *args):
        function = self.function
        if function is None or self.fallback_reason is not None or self.eager_calls or functions_run_eagerly():
            if self.eager_calls:
                self.eager_calls -= 1
            return self.fn(*args)
        out = function(*args)
        reason = getattr(function, "eager_fallback_reason", None)
        if reason is not None:  # the trace found the step untraceable (the compiler warned once): eager from now on
            self.fallback_reason = reason
        return out


def compile_step(model, fn, name: str, eager_first: bool = False) -> StepFunction:
    """``fn`` as the model's ``StepFunction`` (``eager_first``: its first call runs eagerly, building state)."""
    return StepFunction(model, fn, name, eager_first)
