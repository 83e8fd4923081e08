"""``Metric``, ``Mean``, ``Sum`` and ``MeanMetricWrapper``: running statistics over batches.

Metrics are updated on every training batch, so they compute with raw NumPy arrays (never tape
ops): a step costs microseconds. Their state lives in non-trainable variables updated in place, as in
tf.keras (``metric.variables``, ``metric.total``, ``metric.count``; ``reset_state()`` writes zeros), kept in
float64 so running sums stay exact across batches of unequal size. Inside a compiled step
(``tf.function``, ``Model.fit``) the built-in metrics' ``update_state`` and ``result`` run as host calls,
again on every call (``host.py``).

Sample weights follow Keras's ``Reduce`` metric: a weight array that broadcasts against the values
(scalar, or same rank with 1-or-equal axes) multiplies them; otherwise the values are first
averaged (``Mean``) or summed (``Sum``) over their extra trailing axes. ``Mean`` divides the
weighted total by the total weight.

>>> m = Mean()
>>> m.update_state([1.0, 2.0]); m.update_state([6.0])
>>> float(m.result())
3.0
"""

from __future__ import annotations

import functools

import numpy as np

from featherflow.backend.arrays import floatx, to_numpy
from featherflow.core.tape import pause_all_tapes
from featherflow.core.tensor import Tensor
from featherflow.keras.layers.base import Layer
from featherflow.keras.metrics.host import on_host, tracing
from featherflow.ops import _softmax_compiled


def to_array(x, dtype=None) -> np.ndarray:
    """A NumPy view of a Tensor, array, list or number (no copy when possible)."""
    if isinstance(x, Tensor):
        x = to_numpy(x.value)
    arr = np.asarray(x)
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr


def match_ranks(y_true: np.ndarray, y_pred: np.ndarray):
    """Give ``y_true`` the rank of ``y_pred`` when they differ by a trailing size-1 axis.

    ``(batch,)`` labels against ``(batch, 1)`` or ``(batch, classes)`` predictions become
    ``(batch, 1)`` (as Keras's trainer does), so every sample keeps its own entry.
    """
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true, y_pred


def _result(value) -> Tensor:
    return Tensor(np.asarray(value, dtype=floatx()))


class Metric(Layer):
    """Base class of metrics, a ``Layer`` with state: ``update_state(...)`` accumulates, ``result()`` reads,
    ``reset_state()`` clears.

    A metric keeps its state in variables made with ``add_weight`` (non-trainable; ``variables`` lists
    them) and is saved with the model that holds it. ``reset_state`` sets every variable to zero unless
    overridden. ``metric(...)`` is ``update_state(...)`` then ``result()``. A subclass's ``update_state``
    runs with gradient recording paused (metrics are not differentiated).

    featherflow's built-in metrics keep their state in float64 variables (exact running sums) updated with
    NumPy in place; inside a compiled step their ``update_state`` and ``result`` run as host calls.

    Args:
        name: the metric's name (the key it gets in ``History``; default: the snake-cased class name).
        dtype: the dtype of ``result()`` and of ``add_weight`` variables (default ``floatx()``).

    >>> import featherflow as tf
    >>> class Total(Metric):
    ...     def __init__(self, name="total", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.total = self.add_weight(name="total", initializer="zeros")
    ...     def update_state(self, values):
    ...         self.total.assign_add(tf.reduce_sum(tf.cast(values, self.dtype)))
    ...     def result(self):
    ...         return self.total
    >>> m = Total(); m.update_state([1, 2]); float(m.result()), [v.name for v in m.variables]
    (3.0, ['total/total'])
    """

    _is_metric = True

    def __init__(self, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.stateful = True
        self.built = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        update = cls.__dict__.get("update_state")
        if cls.__module__.startswith("featherflow."):
            _run_on_host(cls)
            return
        if update is not None and not cls.__module__.startswith("featherflow.") and \
                not getattr(update, "_pauses_tapes", False):
            @functools.wraps(update)
            def update_state(self, *args, **kw):
                with pause_all_tapes():
                    return update(self, *args, **kw)

            update_state._pauses_tapes = True
            cls.update_state = update_state

    def __call__(self, *args, **kwargs):
        """``update_state(*args, **kwargs)`` then ``result()``."""
        self.update_state(*args, **kwargs)
        return self.result()

    def add_weight(self, name=None, shape=(), aggregation=None, synchronization=None, initializer=None, dtype=None,
                   **kwargs):
        """A non-trainable state variable of this metric (``initializer`` as for layers; pass ``"zeros"``)."""
        return super().add_weight(name=name, shape=shape, dtype=dtype or self._dtype, initializer=initializer,
                                  trainable=False)

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"Metric '{type(self).__name__}' must implement update_state.")

    def result(self):
        raise NotImplementedError(f"Metric '{type(self).__name__}' must implement result.")

    def reset_state(self) -> None:
        """Set every state variable to zero (override when zero is not the start)."""
        for variable in self.variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))

    def reset_states(self) -> None:
        """Deprecated alias of ``reset_state``."""
        self.reset_state()

    def _record_update(self, args, kw) -> bool:
        """In a traced step, record ``update_state(*args, **kw)`` as NumPy steps and return True; False (the
        default) runs it as a host call (``featherflow/keras/metrics/host.py``)."""
        return False

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": np.dtype(self._dtype).name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<featherflow.keras.metrics.{type(self).__name__} name={self.name!r}>"


def _run_on_host(cls) -> None:
    """A built-in metric's NumPy ``update_state`` / ``result`` as host calls while a step is traced."""
    for name in ("update_state", "result"):
        method = cls.__dict__.get(name)
        if method is None or getattr(method, "_on_host", False):
            continue
        if name == "update_state":
            def wrapped(self, *args, _method=method, **kw):
                if tracing():
                    if self._record_update(args, kw):  # recorded as NumPy steps on the state variables
                        return None
                    return on_host(lambda a, k: _method(self, *a, **k), args, kw)
                return _method(self, *args, **kw)
        else:
            def wrapped(self, _method=method):
                if tracing():
                    return on_host(lambda: _host_result(_method(self)))
                return _method(self)
        functools.update_wrapper(wrapped, method)
        wrapped._on_host = True
        setattr(cls, name, wrapped)


_ACCURACY_MODULE = "featherflow.keras.metrics.accuracy"
_TRACEABLE = ("_accuracy", "_binary_accuracy", "_categorical_accuracy", "_sparse_categorical_accuracy")


def _host_result(value):
    """A result as arrays (what a host call returns)."""
    if isinstance(value, dict):
        return {k: _host_result(v) for k, v in value.items()}
    return value.value if isinstance(value, Tensor) else value


def state_variable(metric, name: str, shape=()):
    """A float64 state variable of a built-in metric (zeros; exact running sums)."""
    return Layer.add_weight(metric, name=name, shape=tuple(shape), dtype="float64", initializer="zeros",
                            trainable=False)


def add_into(variable, delta) -> None:
    """``variable += delta`` in place, on the host."""
    variable.value += delta


def weigh(values: np.ndarray, sample_weight, reduce_extra):
    """``(weighted values, weights broadcast to them or None)`` with Keras's broadcast rule."""
    if sample_weight is None:
        return values, None
    sw = to_array(sample_weight, np.float64)
    if sw.ndim and not (sw.ndim == values.ndim and all(s in (1, v) for s, v in zip(sw.shape, values.shape))):
        if sw.ndim < values.ndim:
            values = reduce_extra(values, axis=tuple(range(sw.ndim, values.ndim)))
        elif sw.ndim == values.ndim + 1 and sw.shape[-1] == 1:
            sw = sw[..., 0]
        if not (sw.ndim == values.ndim and all(s in (1, v) for s, v in zip(sw.shape, values.shape))):
            raise ValueError(f"`sample_weight` of shape {sw.shape} is incompatible with values of shape "
                             f"{values.shape}. Pass one weight per sample.")
    sw = np.broadcast_to(sw, values.shape)
    return values * sw, sw


class Sum(Metric):
    """Running (weighted) sum of the values.

    >>> s = Sum(); s.update_state([1.0, 2.0], sample_weight=[1.0, 0.5]); float(s.result())
    2.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = state_variable(self, "total")

    def update_state(self, values, sample_weight=None):
        values, _ = weigh(to_array(values, np.float64), sample_weight, np.sum)
        add_into(self.total, values.sum())

    def result(self):
        return _result(self.total.value)


class Mean(Metric):
    """Running (weighted) mean of the values: ``sum(w * x) / sum(w)`` over everything seen.

    >>> m = Mean(); m.update_state([1.0, 3.0], sample_weight=[1.0, 0.0]); float(m.result())
    1.0
    >>> [v.name for v in m.variables], float(m.count.numpy())
    (['mean/total', 'mean/count'], 1.0)
    >>> m.reset_state(); float(m.total.numpy())
    0.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = state_variable(self, "total")
        self.count = state_variable(self, "count")

    def update_state(self, values, sample_weight=None):
        values, sw = weigh(to_array(values, np.float64), sample_weight, np.mean)
        add_into(self.total, values.sum())
        add_into(self.count, values.size if sw is None else sw.sum())

    def result(self):
        count = self.count.value
        return _result(self.total.value / count if count else 0.0)


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred, **kwargs)`` (per-sample values).

    ``fn`` may be a built-in metric function (computed in NumPy), a loss function, or any
    ``fn(y_true, y_pred)`` returning a tensor or array.

    Args:
        fn: the per-sample function.
        name: the metric's name (defaults to ``fn.__name__``).
        dtype: the result dtype.
        **kwargs: passed to ``fn``.

    >>> from featherflow.keras.metrics import MeanMetricWrapper, binary_accuracy
    >>> m = MeanMetricWrapper(binary_accuracy, name="acc")
    >>> m.update_state([[1], [0]], [[0.9], [0.8]]); float(m.result())
    0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper expects a callable fn(y_true, y_pred). Received: fn={fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        self._numpy_fn = getattr(fn, "_numpy_fn", None)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._numpy_fn is not None:
            yt, yp = match_ranks(to_array(y_true), to_array(y_pred))
            values = self._numpy_fn(yt, yp, **self._fn_kwargs)
        else:
            with pause_all_tapes():
                if not isinstance(y_pred, Tensor):
                    y_pred = Tensor(to_array(y_pred, floatx()) if to_array(y_pred).dtype.kind not in "fc"
                                    else to_array(y_pred))
                yt = to_array(y_true)
                if yt.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
                    yt = yt[..., None]
                out = self._fn(yt, y_pred, **self._fn_kwargs)
            mask = getattr(out, "_keras_mask", None)
            values = to_array(out, np.float64)
            if mask is not None:
                valid = to_array(mask).astype(np.float64)
                sample_weight = valid if sample_weight is None else weigh(valid, sample_weight, np.mean)[0]
        super().update_state(values, sample_weight)

    def _record_update(self, args, kw) -> bool:
        # in a traced step: the accuracy family's NumPy functions on the traced arrays, the running sums added in
        # place on the state variables (the same NumPy calls as update_state, no host call); else a host call
        fn = self._numpy_fn
        if fn is None or getattr(fn, "__module__", None) != _ACCURACY_MODULE or fn.__name__ not in _TRACEABLE:
            return False
        names = ("y_true", "y_pred", "sample_weight")
        bound = dict(zip(names, args))
        if len(args) > 3 or any(k not in names or k in bound for k in kw):
            return False
        bound.update(kw)
        if bound.get("sample_weight") is not None or not all(isinstance(bound.get(k), Tensor) for k in names[:2]):
            return False
        yt, yp = bound["y_true"].value, bound["y_pred"].value
        if fn.__name__ == "_sparse_categorical_accuracy" and yp.ndim and (
                yt.ndim + 1 == yp.ndim or (yt.ndim == yp.ndim and yt.shape[-1] == 1)):
            # (batch,) or (batch, 1) labels: the matches counted as they are (a bool sum is the float64 sum of
            # the 0/1 values update_state adds, exactly), without the float copy and reshapes of the general path
            if yt.ndim == yp.ndim:
                yt = yt.reshape(yt.shape[:-1])
            run = _softmax_compiled.compiled_accuracy_update(yt, yp)
            if run is not None:  # one compiled pass with Numba (eager and traced alike): the same integer sums
                run(yt, yp, self.total.value, self.count.value)
                return True
            add_into(self.total, (yt == yp.argmax(axis=-1)).sum())
            add_into(self.count, yt.size)
            return True
        yt, yp = match_ranks(yt, yp)
        values = fn(yt, yp, **self._fn_kwargs)
        if values.dtype != np.float64:
            values = values.astype(np.float64)
        add_into(self.total, values.sum())
        add_into(self.count, values.size)
        return True

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        if cls is MeanMetricWrapper:
            raise TypeError("MeanMetricWrapper.from_config needs the wrapped function; use keras.metrics.get / "
                            "deserialize with the metric's name instead.")
        return cls(**config)


def public(numpy_fn, name):
    """The Keras-style metric function (Tensor result) for a NumPy implementation."""

    def fn(y_true, y_pred, **kwargs):
        yt, yp = to_array(y_true), to_array(y_pred)
        return Tensor(np.asarray(numpy_fn(yt, yp, **kwargs), dtype=floatx()))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = numpy_fn.__doc__
    fn._numpy_fn = numpy_fn
    return fn
