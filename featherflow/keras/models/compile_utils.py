"""What ``compile`` turns ``loss=``, ``loss_weights=``, ``metrics=`` and ``weighted_metrics=`` into.

``LossesContainer`` maps the user's loss structure (one loss, a list or a dict keyed by output
name) onto the model's outputs and computes the total loss
``sum_i w_i * loss_i(y_true_i, y_pred_i, sample_weight_i) + sum(regularization losses)``.
``MetricsContainer`` resolves metric names (``"accuracy"`` becomes binary, sparse or categorical
accuracy from the shapes, as in Keras) and names them as Keras does (``accuracy``;
``out_accuracy`` for a multi-output model; ``weighted_`` when a name would repeat).

Both are built on the first batch, when the outputs' shapes are known.

>>> import numpy as np
>>> from featherflow.core import Tensor
>>> losses = LossesContainer("mse", loss_weights=[2.0])
>>> total = losses(np.array([[1.0], [3.0]]), Tensor(np.array([[0.0], [1.0]], np.float32)))
>>> float(total.numpy())  # 2 * mean((1 - 0)^2, (3 - 1)^2)
5.0
>>> metrics = MetricsContainer(["acc"])
>>> metrics.update_state(np.array([1, 0]), Tensor(np.array([[0.2, 0.8], [0.4, 0.6]], np.float32)))
>>> [(m.name, float(m.result())) for m in metrics.metrics]
[('acc', 0.5)]
"""

from __future__ import annotations

import numpy as np

from featherflow.core import Tensor
from featherflow.keras.layers.base import flatten
from featherflow.keras.metrics.base import Mean
from featherflow.keras.metrics.host import on_host, tracing


class LossTracker(Mean):
    """A running, sample-weighted mean of a scalar (the ``loss`` shown in logs and the progress bar): a ``Mean``
    (``total`` and ``count`` variables, as tf.keras's loss tracker) with a scalar update costing no array work.

    >>> tracker = LossTracker("loss"); tracker.update_state(2.0, 3); tracker.update_state(4.0, 1)
    >>> tracker.result_float(), float(tracker.count.numpy())
    (2.5, 4.0)
    """

    def __init__(self, name: str):
        super().__init__(name=name)

    def update_state(self, value, sample_weight=1.0) -> None:
        if isinstance(value, Tensor):
            value = value.value
        weight = float(sample_weight.value if isinstance(sample_weight, Tensor) else sample_weight)
        self.total.value += float(value) * weight
        self.count.value += weight

    def result_float(self) -> float:
        count = float(self.count.value)
        return float(self.total.value) / count if count else 0.0

    def __repr__(self) -> str:
        return f"<LossTracker name={self.name!r}>"


def _track_single(tracker, value, weight, reg, batch) -> None:
    """The loss tracker's update for one output: ``value`` (times its ``weight``) plus the regularization
    ``reg``, a mean over ``batch`` samples (floats in float64 as Keras's Mean sums)."""
    value_float = float(value)
    if weight is not None:
        value_float *= weight
    if reg is not None:
        value_float += float(reg)
    tracker.total.value += value_float * batch
    tracker.count.value += batch


def _track_traced(tracker, value, batch: int) -> None:
    """``_track_single`` without weight or regularization in a traced step: one host call on the tracker's
    variables (two in-place adds and a Python product, ~3 us a step less than the three program steps they
    replace), with ``_track_single``'s arithmetic: ``float(value) * batch`` added to the total, ``batch`` to the
    count."""
    from featherflow import compiler

    compiler.host_call(_add_batch_loss, tracker.total.value, tracker.count.value, value, float(batch))


def _add_batch_loss(total, count, value, batch: float) -> None:
    total += float(value) * batch
    count += batch


def _track_outputs(total_tracker, trackers, weights, values, reg, batch) -> None:
    """The trackers' update for several outputs: ``values[i]`` (or ``None``) per output, with its batch size."""
    total = 0.0
    for tracker, weight, value in zip(trackers, weights, values):
        if value is None:
            continue
        value_float, rows = float(value[0]), value[1]
        if tracker is not None:
            tracker.update_state(value_float, rows)
        if weight is not None:
            value_float *= weight
        total += value_float
    if reg is not None:
        total += float(reg)
    total_tracker.update_state(total, batch)


def _unreduced(value, batch: int):
    """A loss with ``reduction="none"`` as tf.keras 2's container treats it: the per-sample values' sum is what
    is differentiated (``tape.gradient`` of a vector), their mean what the loss tracker records, each value
    weighted by the batch size (``Mean.update_state(values, sample_weight=batch)``).

    Returns ``(loss to differentiate, value tracked, tracker weight)``.
    """
    from featherflow.ops import reduce_mean, reduce_sum

    size = 1
    for d in value.shape:
        size *= int(d)
    return reduce_sum(value), reduce_mean(value), batch * size


def _to_list_by_outputs(struct, output_names, what: str):
    """A user structure (single, list/tuple, dict by output name) as one entry per output."""
    n = len(output_names)
    if struct is None:
        return [None] * n
    if isinstance(struct, dict):
        unknown = [k for k in struct if k not in output_names]
        if unknown:
            raise ValueError(
                f"Found unexpected {what} that do not correspond to any Model output: {unknown}. Valid mode output "
                f"names: {output_names}. Received struct is: {struct}."
            )
        return [struct.get(name) for name in output_names]
    if isinstance(struct, (list, tuple)):
        if n == 1 and what == "losses" and len(struct) == 1:
            return list(struct)
        if len(struct) != n:
            raise ValueError(
                f"When passing a list as {what}, it should have one entry per model output. The model has {n} "
                f"output(s), but you passed {what}={struct!r}"
            )
        return list(struct)
    return [struct] * n


def map_targets(y, output_names):
    """``y`` (a single array, a list or a dict keyed by output name) as one entry per output."""
    n = len(output_names)
    if isinstance(y, dict):
        missing = [k for k in y if k not in output_names]
        if missing:
            raise ValueError(f"Found unexpected keys {missing} in the targets that do not correspond to any model "
                             f"output. Expected keys: {output_names}")
        return [y.get(name) for name in output_names]
    if isinstance(y, (list, tuple)) and n > 1:
        if len(y) != n:
            raise ValueError(f"The model has {n} outputs, but received {len(y)} target arrays. Pass one target per "
                             f"output (a list in output order, or a dict keyed by {output_names}).")
        return list(y)
    if n > 1 and y is not None:
        raise ValueError(f"The model has {n} outputs ({output_names}) but a single target array was given. Pass one "
                         "target per output.")
    if isinstance(y, (list, tuple)) and len(y) == 1:
        return [y[0]]
    return [y]


class LossesContainer:
    """The compiled loss: per-output losses, their weights and the running loss trackers.

    Args:
        losses: a loss (name, function or ``Loss``), a list (one per output) or a dict by output name.
        loss_weights: a list or dict of scalars weighting each output's loss.
        output_names: the model's output names.
    """

    def __init__(self, losses, loss_weights=None, output_names=None):
        self._user_losses = losses
        self._user_loss_weights = loss_weights
        self._output_names = output_names
        self._built = False
        self._single = None
        self._losses: list = []
        self._loss_weights: list = []
        self._loss_metric = LossTracker("loss")
        self._per_output_metrics: list = []

    @property
    def metrics(self) -> list:
        if not self._built:
            return []
        return [self._loss_metric] + [m for m in self._per_output_metrics if m is not None]

    @property
    def has_losses(self) -> bool:
        return self._user_losses is not None

    @property
    def loss_tracker(self) -> LossTracker:
        """The running mean of the total loss (``loss`` in the logs)."""
        return self._loss_metric

    def single_loss(self):
        """``(loss, weight or None)`` once built for a model with one output that has a loss, else ``None``."""
        return self._single if self._built else None

    def build(self, output_names) -> None:
        from featherflow.keras import losses as losses_module

        self._output_names = list(output_names)
        raw = _to_list_by_outputs(self._user_losses, self._output_names, "losses")
        self._losses = [None if loss is None else losses_module.as_loss(loss) for loss in raw]
        weights = _to_list_by_outputs(self._user_loss_weights, self._output_names, "loss_weights")
        self._loss_weights = [None if w is None else float(w) for w in weights]
        multi = len(self._output_names) > 1
        self._per_output_metrics = [
            LossTracker(f"{name}_loss") if multi and loss is not None else None
            for name, loss in zip(self._output_names, self._losses)
        ]
        # One output with a loss: the common case gets a path without the per-output bookkeeping.
        self._single = (self._losses[0], self._loss_weights[0]) if not multi and self._losses[0] is not None \
            else None
        self._built = True

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        """The total loss tensor (differentiable); also updates the loss trackers."""
        single = self._single if self._built else None
        if single is not None and y_true is not None and type(y_pred) is Tensor and not isinstance(
                y_true, (list, tuple, dict)) and not isinstance(sample_weight, (list, tuple, dict)):
            loss_obj, weight = single
            y_true, _, sample_weight = match_dtype_and_rank(y_true, y_pred, sample_weight)
            value = loss_obj(y_true, y_pred, sample_weight=sample_weight)
            shape = y_true.shape
            batch = int(shape[0]) if len(shape) else 1
            raw, reg = value, None
            if len(value.shape):  # reduction="none"
                value, raw, batch = _unreduced(value, batch)
            if weight is not None:
                value = value * weight
            if regularization_losses:
                reg = regularization_losses[0]
                for r in regularization_losses[1:]:
                    reg = reg + r
                if reg.dtype != value.dtype:
                    from featherflow.ops import cast

                    reg = cast(reg, value.dtype)
                value = value + reg
            if weight is None and reg is None and tracing():  # in a traced step: recorded in place, no host call
                _track_traced(self._loss_metric, raw.value, batch)
            else:
                on_host(_track_single, self._loss_metric, raw.value, weight, None if reg is None else reg.value, batch)
            return value
        y_preds = flatten(y_pred) if not isinstance(y_pred, Tensor) else [y_pred]
        if not self._built:
            names = self._output_names or [f"output_{i + 1}" for i in range(len(y_preds))]
            self.build(names)
        y_trues = map_targets(y_true, self._output_names)
        weights = map_targets(sample_weight, self._output_names) if isinstance(sample_weight, (dict, list, tuple)) \
            else [sample_weight] * len(y_preds)
        total = None
        tracked = [None] * len(self._losses)  # (loss value, batch size) per output, for the trackers
        batch = None
        for i, (loss_obj, y_t, y_p) in enumerate(zip(self._losses, y_trues, y_preds)):
            if loss_obj is None or y_t is None:
                continue
            y_t, _, sample_weight_i = match_dtype_and_rank(y_t, y_p, weights[i])
            value = loss_obj(y_t, y_p, sample_weight=sample_weight_i)
            batch = _batch_size(y_t, y_p)
            tracked[i] = (value.value, batch)
            if len(value.shape):  # reduction="none"
                value, raw, rows = _unreduced(value, batch)
                tracked[i] = (raw.value, rows)
            w = self._loss_weights[i]
            if w is not None:
                value = value * w
            total = value if total is None else total + value
        reg = None
        if regularization_losses:
            reg = None
            for r in regularization_losses:
                reg = r if reg is None else reg + r
            if total is not None and reg.dtype != total.dtype:
                from featherflow.ops import cast

                reg = cast(reg, total.dtype)
            total = reg if total is None else total + reg
            if batch is None:
                batch = _batch_size(None, y_preds[0]) if y_preds else 1
        if total is None:
            return None
        on_host(_track_outputs, self._loss_metric, self._per_output_metrics, self._loss_weights, tracked,
                None if reg is None else reg.value, batch)
        return total

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()


def _ndim(value) -> int:
    shape = getattr(value, "shape", None)
    return len(shape) if shape is not None else np.ndim(value)


def match_dtype_and_rank(y_t, y_p, sw):
    """``(y_true, y_pred, sample_weight)`` as tf.keras 2's containers hand them to losses and metrics.

    ``(batch,)`` labels or sample weights against ``(batch, d)`` predictions get a trailing axis, so a custom
    ``Loss`` or ``Metric`` computing ``y_true - y_pred`` sees one row per sample (not a ``(batch, batch)``
    broadcast); labels of the predictions' kind (both float, or both integer) take the predictions' dtype.

    >>> y_t, _, sw = match_dtype_and_rank(np.array([1.0, 0.0]), Tensor(np.zeros((2, 1), np.float32)), [1.0, 2.0])
    >>> y_t.shape, y_t.dtype, np.shape(sw)
    ((2, 1), dtype('float32'), (2, 1))
    """
    if _ndim(y_p) == 2:
        if y_t is not None and _ndim(y_t) == 1:
            y_t = _expand_last(y_t)
        if sw is not None and _ndim(sw) == 1:
            sw = _expand_last(sw)
    if y_t is not None:
        t_kind, p_dtype = np.dtype(y_t.dtype).kind if hasattr(y_t, "dtype") else None, np.dtype(y_p.dtype)
        if t_kind is not None and np.dtype(y_t.dtype) != p_dtype and (
                t_kind == "f" and p_dtype.kind == "f" or t_kind in "iu" and p_dtype.kind in "iu"):
            from featherflow.ops import cast

            y_t = cast(y_t, p_dtype) if isinstance(y_t, Tensor) else np.asarray(y_t, dtype=p_dtype)
    if sw is not None and np.dtype(y_p.dtype).kind == "f":  # as tf.keras casts the weights to the predictions'
        p_dtype = np.dtype(y_p.dtype)
        if isinstance(sw, Tensor):
            if sw.dtype != p_dtype:
                from featherflow.ops import cast

                sw = cast(sw, p_dtype)
        else:
            sw = np.asarray(sw, dtype=p_dtype)
    return y_t, y_p, sw


def _expand_last(value):
    if isinstance(value, Tensor):
        from featherflow.ops import expand_dims

        return expand_dims(value, -1)
    return np.expand_dims(np.asarray(value), -1)


def _batch_size(y_t, y_p) -> int:
    for v in (y_t, y_p):
        shape = getattr(v, "shape", None)
        if shape is not None and len(shape):
            return int(shape[0])
    return 1


class MetricsContainer:
    """The compiled metrics: resolved metric objects per output, updated each batch.

    Args:
        metrics: a list of metrics (names, functions or ``Metric`` objects) for every output, a list
            of lists (one per output) or a dict keyed by output name.
        weighted_metrics: the same, evaluated with the sample weights.
        output_names: the model's output names.
        loss: the user's ``loss`` argument (helps resolve ``"accuracy"``).
    """

    def __init__(self, metrics=None, weighted_metrics=None, output_names=None, loss=None):
        self._user_metrics = metrics
        self._user_weighted_metrics = weighted_metrics
        self._output_names = output_names
        self._loss = loss
        self._built = False
        self._single = None
        self._per_output: list = []  # [(metric_objs, weighted_objs), ...] one pair per output
        self._metrics_in_order: list = []

    @property
    def metrics(self) -> list:
        return list(self._metrics_in_order) if self._built else []

    @property
    def has_metrics(self) -> bool:
        return bool(self._user_metrics) or bool(self._user_weighted_metrics)

    def _per_output_lists(self, struct, n):
        if struct is None:
            return [[] for _ in range(n)]
        if isinstance(struct, dict):
            lists = _to_list_by_outputs(struct, self._output_names, "metrics")
            return [[] if m is None else (list(m) if isinstance(m, (list, tuple)) else [m]) for m in lists]
        if isinstance(struct, (list, tuple)):
            # one list per output (tf.keras 2.x's .h5 files store metrics so, even for a single output)
            if struct and len(struct) == n and all(isinstance(m, (list, tuple)) or m is None for m in struct):
                return [[] if m is None else list(m) for m in struct]
            return [list(struct) for _ in range(n)]
        return [[struct] for _ in range(n)]

    def build(self, y_true_list, y_pred_list, output_names) -> None:
        self._output_names = list(output_names)
        n = len(self._output_names)
        plain = self._per_output_lists(self._user_metrics, n)
        weighted = self._per_output_lists(self._user_weighted_metrics, n)
        losses = _to_list_by_outputs(self._loss, self._output_names, "losses") if self._loss is not None \
            else [None] * n
        self._per_output = []
        for i in range(n):
            y_t, y_p = y_true_list[i], y_pred_list[i]
            objs = [self._resolve(m, y_t, y_p, losses[i]) for m in plain[i]]
            wobjs = [self._resolve(m, y_t, y_p, losses[i]) for m in weighted[i]]
            self._per_output.append((objs, wobjs))
        self._set_names()
        self._metrics_in_order = [m for objs, wobjs in self._per_output for m in objs + wobjs if m is not None]
        self._single = self._per_output[0] if n == 1 else None
        self._built = True

    def _set_names(self) -> None:
        names = set()
        multi = len(self._output_names) > 1
        for output_name, (objs, wobjs) in zip(self._output_names, self._per_output):
            for m in objs:
                if m is None:
                    continue
                if multi and not m.name.startswith(f"{output_name}_"):  # a reloaded metric keeps its saved name
                    _set_metric_name(m, f"{output_name}_{m.name}")
                if m.name in names:
                    raise ValueError(f"Found two metrics with the same name: {m.name}. All the metrics added to the "
                                     "model need to have unique names.")
                names.add(m.name)
            for m in wobjs:
                if m is None:
                    continue
                if multi:
                    base = f"{output_name}_{m.name}"
                    _set_metric_name(m, f"{output_name}_weighted_{m.name}" if base in names else base)
                elif m.name in names:
                    _set_metric_name(m, f"weighted_{m.name}")
                if m.name in names:
                    raise ValueError(f"Found two metrics with the same name: {m.name}. All the metrics added to the "
                                     "model need to have unique names.")
                names.add(m.name)

    @staticmethod
    def _resolve(metric, y_t, y_p, loss):
        from featherflow.keras import metrics as metrics_module

        if metric is None:
            return None
        resolve = getattr(metrics_module, "resolve", None)
        if resolve is not None:
            return resolve(metric, loss=loss, output_shape=_shape(y_p), y_true_shape=None if y_t is None else _shape(y_t))
        return _resolve_metric(metrics_module, metric, y_t, y_p)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        single = self._single if self._built else None
        if single is not None and type(y_pred) is Tensor and y_true is not None and not isinstance(
                y_true, (list, tuple, dict)) and not isinstance(sample_weight, (list, tuple, dict)):
            objs, wobjs = single
            y_true, _, sample_weight = match_dtype_and_rank(y_true, y_pred, sample_weight)
            mask = y_pred._keras_mask
            for m in objs:
                m.update_state(y_true, y_pred, sample_weight=mask)
            if wobjs:
                weight = sample_weight if mask is None else _combine(sample_weight, mask)
                for m in wobjs:
                    m.update_state(y_true, y_pred, sample_weight=weight)
            return
        y_preds = [y_pred] if isinstance(y_pred, Tensor) else flatten(y_pred)
        y_trues = map_targets(y_true, self._output_names or [f"output_{i + 1}" for i in range(len(y_preds))])
        if not self._built:
            self.build(y_trues, y_preds, self._output_names or [f"output_{i + 1}" for i in range(len(y_preds))])
        weights = map_targets(sample_weight, self._output_names) if isinstance(sample_weight, (dict, list, tuple)) \
            else [sample_weight] * len(y_preds)
        for (objs, wobjs), y_t, y_p, sw in zip(self._per_output, y_trues, y_preds, weights):
            if y_t is None:
                continue
            y_t, _, sw = match_dtype_and_rank(y_t, y_p, sw)
            mask = getattr(y_p, "_keras_mask", None)
            for m in objs:
                m.update_state(y_t, y_p, sample_weight=mask)
            for m in wobjs:
                m.update_state(y_t, y_p, sample_weight=sw if mask is None else _combine(sw, mask))

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()


def _combine(sample_weight, mask):
    if sample_weight is None:
        return mask
    m = mask.value if isinstance(mask, Tensor) else np.asarray(mask)
    w = sample_weight.value if isinstance(sample_weight, Tensor) else np.asarray(sample_weight)
    return w * m


def _set_metric_name(metric, name: str) -> None:
    if hasattr(metric, "_name"):
        metric._name = name
    try:
        metric.name = name
    except AttributeError:
        pass


def _shape(v):
    return tuple(v.shape) if hasattr(v, "shape") else np.shape(v)


def _resolve_metric(metrics_module, metric, y_t, y_p):
    """Keras's rule: ``"accuracy"``/``"acc"``/``"crossentropy"``/``"ce"`` pick the binary, sparse or
    categorical variant from the target and prediction shapes; other names go through ``metrics.get``."""
    if isinstance(metric, str) and metric.lower() in ("accuracy", "acc", "crossentropy", "ce"):
        t_shape, p_shape = _shape(y_t), _shape(y_p)
        is_binary = bool(p_shape) and p_shape[-1] == 1
        is_sparse = len(t_shape) < len(p_shape) or (bool(t_shape) and t_shape[-1] == 1 and bool(p_shape)
                                                    and p_shape[-1] > 1)
        if metric.lower() in ("accuracy", "acc"):
            fn = metrics_module.binary_accuracy if is_binary else (
                metrics_module.sparse_categorical_accuracy if is_sparse else metrics_module.categorical_accuracy)
        else:
            fn = metrics_module.binary_crossentropy if is_binary else (
                metrics_module.sparse_categorical_crossentropy if is_sparse
                else metrics_module.categorical_crossentropy)
        return metrics_module.MeanMetricWrapper(fn, name=metric)
    obj = metrics_module.get(metric)
    if isinstance(obj, metrics_module.Metric):
        return obj
    if isinstance(obj, type):
        return obj()
    name = metric if isinstance(metric, str) else getattr(obj, "__name__", None)
    if name is None:
        raise ValueError(f"Metric should be a callable, received: {metric!r}")
    return metrics_module.MeanMetricWrapper(obj, name=name)
