"""Shared machinery of the losses: reductions, input conversion, shape checks, logits recovery.

Weighting and reduction follow Keras 2.12's ``compute_weighted_loss``: per-sample losses are
multiplied by ``sample_weight`` (rank-adjusted by one trailing axis when needed), then ``"none"``
keeps them, ``"sum"`` adds them and ``"sum_over_batch_size"`` (and ``"auto"``) divides the sum by
the number of loss elements (not by the sum of the weights).
"""

from __future__ import annotations

import warnings

import numpy as np

from featherflow import ops
from featherflow.backend.arrays import floatx
from featherflow.core.tensor import Tensor, convert_to_tensor


class Reduction:
    """Names of the loss reductions (``keras.losses.Reduction``)."""

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls) -> tuple:
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key) -> None:
        if key not in cls.all():
            raise ValueError(f'Invalid Reduction Key: {key}. Expected keys are "{cls.all()}"')


def as_pred(y_pred, fn_name: str) -> Tensor:
    """``y_pred`` as a float Tensor (a Tensor keeps its identity, so its ``_logits`` survive)."""
    if not isinstance(y_pred, Tensor):
        try:
            y_pred = convert_to_tensor(y_pred, dtype_hint=floatx())
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{fn_name}: invalid `y_pred`. {exc}") from None
    if y_pred.value.dtype.kind not in "fc":
        y_pred = ops.cast(y_pred, floatx())
    return y_pred


def as_true(y_true, dtype, fn_name: str) -> Tensor:
    """``y_true`` as a Tensor of ``dtype`` (``None``: keep its dtype); labels are data, never differentiated."""
    arr = y_true.value if isinstance(y_true, Tensor) else y_true
    try:
        arr = np.asarray(arr) if not hasattr(arr, "dtype") else arr
        if arr.dtype.kind in "USO":
            raise TypeError(f"labels must be numeric, received dtype {arr.dtype}")
        return Tensor(arr if dtype is None else arr.astype(dtype, copy=False))
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{fn_name}: invalid `y_true`. {exc}") from None


def _with_logits_reshaped(new: Tensor, old: Tensor, fn) -> Tensor:
    logits = getattr(old, "_logits", None)
    if logits is not None:
        if isinstance(logits, Tensor):
            new._logits = fn(logits)
        elif hasattr(logits, "logits"):  # a sigmoid output's marker (ops.nn)
            new._logits = type(logits)(fn(logits.logits))
    mask = getattr(old, "_keras_mask", None)
    if mask is not None and new.ndim < old.ndim:
        new._keras_mask = mask
    return new


def squeeze_or_expand(y_pred: Tensor, y_true: Tensor):
    """Keras's rank fix: drop a trailing size-1 axis of whichever of ``y_true``/``y_pred`` has one more axis."""
    diff = y_pred.ndim - y_true.ndim
    if diff == 1 and y_pred.shape[-1] == 1:
        y_pred = _with_logits_reshaped(ops.squeeze(y_pred, -1), y_pred, lambda t: ops.squeeze(t, -1))
    elif diff == -1 and y_true.shape[-1] == 1:
        y_true = Tensor(y_true.value.reshape(y_true.shape[:-1]))
    return y_pred, y_true


def prepare(y_true, y_pred, fn_name: str, same_shape: bool = False):
    """Convert, cast ``y_true`` to ``y_pred``'s dtype, fix ranks and check the shapes.

    Args:
        same_shape: require identical shapes (cross-entropies); otherwise the shapes must have the
            same rank and broadcast against each other.
    """
    y_pred = as_pred(y_pred, fn_name)
    y_true = as_true(y_true, y_pred.value.dtype, fn_name)
    y_pred, y_true = squeeze_or_expand(y_pred, y_true)
    check_shapes(y_true, y_pred, fn_name, same_shape)
    return y_true, y_pred


def check_shapes(y_true: Tensor, y_pred: Tensor, fn_name: str, same_shape: bool) -> None:
    ts, ps = tuple(y_true.shape), tuple(y_pred.shape)
    if ts == ps:
        return
    ok = not same_shape and len(ts) == len(ps) and all(a == b or a == 1 or b == 1 for a, b in zip(ts, ps))
    if not ok:
        hint = ""
        if fn_name.startswith("categorical") and len(ps) >= 1 and (len(ts) == len(ps) - 1 or ts[-1:] == (1,)):
            hint = (" If your labels are integer class indices, use `sparse_categorical_crossentropy` (or one-hot "
                    "encode them with keras.utils.to_categorical).")
        raise ValueError(f"`{fn_name}`: `y_true` and `y_pred` must have the same shape{'' if same_shape else ' (or broadcast)'}"
                         f". Received: y_true.shape={ts}, y_pred.shape={ps}.{hint}")


_WARNING = ('"`{fn}` received `from_logits=True`, but the `output` argument was produced by a {kind} activation '
            'and thus does not represent logits. Was this intended?"')


def get_logits(y_pred: Tensor, from_logits: bool, kind: str, fn_name: str):
    """``(tensor, from_logits)``: the logits behind a softmax/sigmoid output when there are any.

    Like Keras: an output produced by the matching activation is replaced by its logits (the stable
    fused form); with ``from_logits=True`` on such an output Keras's warning is emitted and the
    logits are still used.
    """
    logits = getattr(y_pred, "_logits", None)
    if logits is None:
        return y_pred, from_logits
    if kind == "Softmax" and isinstance(logits, Tensor):
        found = logits
    elif kind == "Sigmoid" and not isinstance(logits, Tensor) and hasattr(logits, "logits"):
        found = logits.logits
    else:
        return y_pred, from_logits
    if from_logits:
        warnings.warn(_WARNING.format(fn=fn_name, kind=kind), UserWarning, stacklevel=4)
    return found, True


def get_mask(t):
    return getattr(t, "_keras_mask", None)


def _weight_array(sample_weight, dtype, ndim: int):
    """``sample_weight`` as an array of ``dtype`` with Keras's one-axis rank fix against ``ndim``."""
    sw = sample_weight.value if isinstance(sample_weight, Tensor) else sample_weight
    sw = np.asarray(sw).astype(dtype, copy=False)
    if sw.ndim:
        if sw.ndim - ndim == 1 and sw.shape[-1] == 1:
            sw = sw.reshape(sw.shape[:-1])
        elif ndim - sw.ndim == 1:
            sw = sw.reshape(sw.shape + (1,))
    return sw


def apply_valid_mask(losses: Tensor, sample_weight, mask, reduction: str):
    """Zero the weight of masked entries; for mean reductions rescale so the mean is over valid entries."""
    if mask is None:
        return sample_weight
    dtype = losses.value.dtype
    m = np.asarray(mask.value if isinstance(mask, Tensor) else mask).astype(dtype)
    if m.ndim == losses.ndim + 1 and m.shape[-1] == 1:
        m = m.reshape(m.shape[:-1])
    if reduction in (Reduction.AUTO, Reduction.SUM_OVER_BATCH_SIZE):
        # the count of valid entries stays an array (a compiled step counts each batch's): an all-masked batch
        # keeps its zero weights (the maximum only avoids 0 / 0; valid counts are whole numbers)
        m = m * (m.size / np.maximum(m.sum(), 1))
    if sample_weight is None:
        return m
    return _weight_array(sample_weight, dtype, m.ndim) * m


def compute_weighted_loss(losses: Tensor, sample_weight=None, reduction: str = Reduction.SUM_OVER_BATCH_SIZE):
    """Weight per-sample ``losses`` by ``sample_weight`` and reduce them (see the module docstring)."""
    if reduction == Reduction.AUTO:
        reduction = Reduction.SUM_OVER_BATCH_SIZE
    dtype = losses.value.dtype
    if sample_weight is not None:
        sw = _weight_array(sample_weight, dtype, losses.ndim)
        try:
            np.broadcast_shapes(sw.shape, losses.shape)
        except ValueError:
            raise ValueError(f"`sample_weight` of shape {sw.shape} cannot be broadcast to the per-sample losses of "
                             f"shape {tuple(losses.shape)}. Pass one weight per sample (shape (batch,)).") from None
        weighted = ops.multiply(losses, Tensor(sw)) if sw.ndim or float(sw) != 1.0 else losses
    else:
        weighted = losses
    if reduction == Reduction.NONE:
        return weighted
    if reduction == Reduction.SUM:
        return ops.reduce_sum(weighted)
    n = weighted.value.size
    if n == 0:
        return Tensor(np.zeros((), dtype=dtype))
    if weighted is losses:
        return ops.reduce_mean(losses)
    return ops.reduce_sum(weighted) * (1.0 / n)
