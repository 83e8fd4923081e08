"""``Loss`` and ``LossFunctionWrapper``: per-sample loss + weighting + reduction, as in Keras 2.12.

>>> import featherflow as ff
>>> from featherflow.keras.losses import LossFunctionWrapper
>>> def my_loss(y_true, y_pred):
...     return ff.reduce_mean(ff.abs(y_pred - y_true), axis=-1)
>>> round(float(LossFunctionWrapper(my_loss)([[0.0, 1.0]], [[1.0, 1.0]])), 6)
0.5
"""

from __future__ import annotations

from featherflow.core.tensor import Tensor
from featherflow.keras.losses._utils import (
    Reduction,
    apply_valid_mask,
    as_pred,
    as_true,
    compute_weighted_loss,
    get_mask,
    squeeze_or_expand,
)

_MEAN_REDUCTIONS = (Reduction.AUTO, Reduction.SUM_OVER_BATCH_SIZE)


class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` -> reduced loss tensor.

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample losses (computed with
    featherflow ops so ``GradientTape`` differentiates them).

    Args:
        reduction: ``"sum_over_batch_size"`` (= ``"auto"``, the default), ``"sum"`` or ``"none"``.
        name: the loss's name.
    """

    def __init__(self, reduction=Reduction.AUTO, name=None):
        Reduction.validate(reduction)
        self.reduction = reduction
        self.name = name

    _mean_fast = None  # optional fn(y_true, y_pred, **kwargs) -> the mean loss as one op, or None (see below)

    def __call__(self, y_true, y_pred, sample_weight=None):
        fast = self._mean_fast
        if fast is not None and sample_weight is None and type(y_pred) is Tensor and \
                getattr(y_pred, "_keras_mask", None) is None and self.reduction in _MEAN_REDUCTIONS:
            # the training loop's common case (e.g. integer labels against a softmax): one fused op
            value = fast(y_true, y_pred, **self._fn_kwargs)
            if value is not None:
                return value
        if not isinstance(y_pred, Tensor):
            y_pred = as_pred(y_pred, self.name or type(self).__name__)
        if not isinstance(y_true, Tensor):
            # float labels follow y_pred's dtype; integer labels stay integers (class indices)
            arr = as_true(y_true, None, self.name or type(self).__name__)
            y_true = arr if arr.value.dtype.kind in "iub" else Tensor(arr.value.astype(y_pred.value.dtype))
        losses = self.call(y_true, y_pred)
        if not isinstance(losses, Tensor):
            losses = as_pred(losses, self.name or type(self).__name__)
        in_mask, out_mask = get_mask(y_pred), get_mask(losses)
        if in_mask is not None and out_mask is not None:
            mask = in_mask.value & out_mask.value if isinstance(in_mask, Tensor) else in_mask & out_mask
        else:
            mask = in_mask if in_mask is not None else out_mask
        if mask is not None:
            mask = mask.value if isinstance(mask, Tensor) else mask
            if mask.shape != losses.shape and mask.size != losses.value.size:
                mask = None  # a mask over another axis (e.g. timesteps already reduced): not applicable
        sample_weight = apply_valid_mask(losses, sample_weight, mask, self.reduction)
        return compute_weighted_loss(losses, sample_weight, self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"Loss '{type(self).__name__}' must implement `call(y_true, y_pred)`.")

    def get_config(self) -> dict:
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<featherflow.keras.losses.{type(self).__name__} name={self.name!r}>"


class LossFunctionWrapper(Loss):
    """Turn ``fn(y_true, y_pred, **kwargs)`` (per-sample losses) into a ``Loss``.

    Args:
        fn: the loss function; any ``fn(y_true, y_pred)`` built from featherflow ops works.
        reduction: see ``Loss``.
        name: defaults to ``fn.__name__``.
        **kwargs: passed to ``fn`` on each call.
    """

    def __init__(self, fn, reduction=Reduction.AUTO, name=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper expects a callable `fn(y_true, y_pred)`. Received: fn={fn!r}")
        super().__init__(reduction=reduction, name=name or getattr(fn, "__name__", None))
        self.fn = fn
        self._fn_kwargs = kwargs
        # a subclass that overrides `call` computes something else: it keeps the general path
        self._mean_fast = getattr(fn, "_mean_fast", None) if type(self).call is LossFunctionWrapper.call else None

    def call(self, y_true, y_pred):
        name = self.name or "loss"
        y_pred = as_pred(y_pred, name)
        # Labels follow y_pred's float dtype (custom functions rarely cast), except for the
        # sparse losses, whose integer class indices must stay integers.
        keep = getattr(self.fn, "_sparse_labels", False)
        y_true = as_true(y_true, None if keep else y_pred.value.dtype, name)
        y_pred, y_true = squeeze_or_expand(y_pred, y_true)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = dict(self._fn_kwargs)
        config.update(super().get_config())
        return config

    @classmethod
    def from_config(cls, config):
        if cls is LossFunctionWrapper:
            raise TypeError("LossFunctionWrapper.from_config needs the wrapped function; use keras.losses.get / "
                            "deserialize with the loss's name instead.")
        return cls(**config)

