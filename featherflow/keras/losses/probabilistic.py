"""Probabilistic losses: the cross-entropies (plain and focal), KL divergence, Poisson.

All follow tf.keras 2.12/2.13. A ``y_pred`` produced by a softmax (or sigmoid) carries its logits
(``y_pred._logits``); the cross-entropies then use the fused, numerically stable op on the
logits, exactly as Keras does. Otherwise probabilities are clipped to
``[epsilon, 1 - epsilon]`` (``epsilon = keras.backend.epsilon() = 1e-7``).

Formulas (per sample, ``p`` the probabilities, ``t`` the targets, ``C`` the class count)::

    categorical:   -sum(t * log(clip(p / sum(p))), axis)        t <- t (1 - ls) + ls / C
    sparse:        -log(softmax(log(clip(p)))[label])            (= -log p[label] for normalized p)
    binary:        -mean(t log(clip(p) + eps) + (1 - t) log(1 - clip(p) + eps), axis)
                                                                  t <- t (1 - ls) + ls / 2
    binary focal:  mean((1 - p_t)^gamma * bce [* (t alpha + (1 - t)(1 - alpha))], axis)
    cat. focal:    sum(alpha (1 - p)^gamma * (-t log p), axis)
    kl_divergence: sum(t log(t / p), -1) with t, p clipped to [eps, 1]
    poisson:       mean(p - t log(p + eps), -1)

>>> import featherflow as ff
>>> round(float(SparseCategoricalCrossentropy()([1], ff.nn.softmax([[0.0, 0.0]]))), 6)
0.693147
"""

from __future__ import annotations

import warnings

import numpy as np

from featherflow import ops
from featherflow.backend.arrays import epsilon
from featherflow.core.tensor import Tensor
from featherflow.keras.losses._utils import Reduction, as_pred, get_logits, prepare
from featherflow.keras.losses.base import LossFunctionWrapper
from featherflow.ops._host import is_traced, on_host
from featherflow.ops.nn import check_sparse_labels, sparse_xent_mean


def _clip(t, lo, hi):
    return ops.clip_by_value(t, lo, hi)


def _binary_elementwise(target, output, from_logits, fn_name):
    output, from_logits = get_logits(output, from_logits, "Sigmoid", fn_name)
    if from_logits:
        return ops.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    eps = epsilon()
    output = _clip(output, eps, 1.0 - eps)
    bce = target * ops.log(output + eps) + (1.0 - target) * ops.log(1.0 - output + eps)
    return -bce


def _smooth(y_true, label_smoothing, num_classes):
    if not label_smoothing:
        return y_true
    ls = float(label_smoothing)
    if not 0 <= ls <= 1:
        raise ValueError(f"`label_smoothing` must be in [0, 1]. Received: label_smoothing={label_smoothing}")
    return Tensor(y_true.value * (1.0 - ls) + ls / num_classes)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy per sample, averaged over ``axis``.

    Args:
        y_true: targets in ``[0, 1]``, shape ``(batch, d0, .. dN)``.
        y_pred: probabilities (or logits with ``from_logits=True``), same shape.
        label_smoothing: squeeze targets towards 0.5: ``t * (1 - ls) + 0.5 * ls``.

    Returns shape ``(batch, d0, .. dN-1)``.

    >>> round(float(binary_crossentropy([[1.0]], [[0.5]])[0]), 6)
    0.693147
    """
    y_true, y_pred = prepare(y_true, y_pred, "binary_crossentropy", same_shape=True)
    y_true = _smooth(y_true, label_smoothing, 2.0)
    return ops.reduce_mean(_binary_elementwise(y_true, y_pred, from_logits, "binary_crossentropy"), axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                              label_smoothing=0.0, axis=-1):
    """Focal binary cross-entropy (Lin et al., 2017): ``(1 - p_t)^gamma * bce``, averaged over ``axis``.

    >>> round(float(binary_focal_crossentropy([[1.0]], [[0.5]], gamma=0.0)[0]), 6)
    0.693147
    """
    fn = "binary_focal_crossentropy"
    y_true, y_pred = prepare(y_true, y_pred, fn, same_shape=True)
    y_true = _smooth(y_true, label_smoothing, 2.0)
    sigmoidal = ops.sigmoid(y_pred) if from_logits else y_pred
    p_t = y_true * sigmoidal + (1.0 - y_true) * (1.0 - sigmoidal)
    focal = ops.pow(1.0 - p_t, float(gamma)) * _binary_elementwise(y_true, y_pred, from_logits, fn)
    if apply_class_balancing:
        focal = Tensor(y_true.value * alpha + (1.0 - y_true.value) * (1.0 - alpha)) * focal
    return ops.reduce_mean(focal, axis=axis)


def _categorical_prep(y_true, y_pred, fn, label_smoothing, axis):
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")
    y_true, y_pred = prepare(y_true, y_pred, fn, same_shape=True)
    if y_pred.ndim and y_pred.shape[-1] == 1:
        warnings.warn(f"In loss {fn}, expected y_pred.shape to be (batch_size, num_classes) with num_classes > 1. "
                      f"Received: y_pred.shape={tuple(y_pred.shape)}. Consider using 'binary_crossentropy' if you "
                      f"only have 2 classes.", SyntaxWarning, stacklevel=3)
    y_true = _smooth(y_true, label_smoothing, y_true.shape[axis] if y_true.ndim else 1)
    return y_true, y_pred


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical cross-entropy between one-hot (or soft) ``y_true`` and ``y_pred`` along ``axis``.

    >>> round(float(categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])[0]), 6)
    0.693147
    """
    fn = "categorical_crossentropy"
    y_true, y_pred = _categorical_prep(y_true, y_pred, fn, label_smoothing, axis)
    output, from_logits = get_logits(y_pred, from_logits, "Softmax", fn)
    if from_logits:
        return ops.softmax_cross_entropy_with_logits(labels=y_true, logits=output, axis=axis)
    output = output / ops.reduce_sum(output, axis=axis, keepdims=True)
    eps = epsilon()
    output = _clip(output, eps, 1.0 - eps)
    return -ops.reduce_sum(y_true * ops.log(output), axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                                   axis=-1):
    """Focal categorical cross-entropy: ``sum(alpha * (1 - p)^gamma * (-t * log p), axis)``.

    >>> round(float(categorical_focal_crossentropy([[0.0, 1.0]], [[0.5, 0.5]], alpha=1.0, gamma=0.0)[0]), 6)
    0.693147
    """
    fn = "categorical_focal_crossentropy"
    y_true, y_pred = _categorical_prep(y_true, y_pred, fn, label_smoothing, axis)
    output, from_logits = get_logits(y_pred, from_logits, "Softmax", fn)
    if from_logits:
        output = ops.softmax(output, axis=axis)
    output = output / ops.reduce_sum(output, axis=axis, keepdims=True)
    eps = epsilon()
    output = _clip(output, eps, 1.0 - eps)
    cce = -y_true * ops.log(output)
    weighting = ops.pow(1.0 - output, float(gamma)) * float(alpha)
    return ops.reduce_sum(weighting * cce, axis=axis)


def _sparse_labels(y_true, fn):
    arr = y_true.value if isinstance(y_true, Tensor) else np.asarray(y_true)
    if arr.dtype.kind in "USO":
        raise TypeError(f"{fn}: labels must be integer class indices. Received dtype {arr.dtype}.")
    if arr.dtype.kind == "f":  # in a tf.function, checked on the host at every call of the compiled program
        on_host(_check_integral, arr, fn) if is_traced(arr) else _check_integral(arr, fn)
    return np.asarray(arr).astype(np.int64, copy=False)


def _check_integral(arr, fn) -> None:
    bad = arr != np.round(arr)
    if bad.any():
        raise ValueError(f"{fn}: `y_true` must hold integer class indices. Received non-integer values such as "
                         f"{arr[bad].ravel()[:3].tolist()}. For one-hot or soft labels use categorical_crossentropy.")


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1, ignore_class=None):
    """Cross-entropy between integer labels ``y_true`` and class probabilities ``y_pred``.

    Args:
        y_true: integer class indices, shape ``y_pred.shape[:-1]`` (or with a trailing 1).
        y_pred: ``(..., classes)`` probabilities, or logits with ``from_logits=True``.
        axis: the class axis of ``y_pred``.
        ignore_class: a label value whose entries count as 0 loss and are masked out of the mean.

    >>> round(float(sparse_categorical_crossentropy([1], [[0.5, 0.5]])[0]), 6)
    0.693147
    """
    fn = "sparse_categorical_crossentropy"
    y_pred = as_pred(y_pred, fn)
    labels = _sparse_labels(y_true, fn)
    output, from_logits = get_logits(y_pred, from_logits, "Softmax", fn)
    ndim = output.ndim
    if ndim == 0:
        raise ValueError(f"{fn}: `y_pred` must have a class axis. Received: y_pred.shape={tuple(output.shape)}")
    axis = axis % ndim
    if axis != ndim - 1:
        output = ops.transpose(output, [i for i in range(ndim) if i != axis] + [axis])
    classes = output.shape[-1]
    target_shape = tuple(output.shape[:-1])
    if labels.shape != target_shape:
        if labels.ndim == ndim and labels.shape[-1] == 1 and labels.shape[:-1] == target_shape:
            labels = labels.reshape(target_shape)
        elif labels.size == int(np.prod(target_shape)) and labels.ndim in (1, 2) and ndim == 2:
            labels = labels.reshape(target_shape)
        else:
            raise ValueError(f"`{fn}`: `y_true` must hold one class index per prediction, with shape "
                             f"{target_shape} for `y_pred` of shape {tuple(y_pred.shape)}. Received: "
                             f"y_true.shape={labels.shape}. For one-hot labels use categorical_crossentropy.")
    if not from_logits:
        eps = epsilon()
        output = ops.log(_clip(output, eps, 1.0 - eps))
    if ignore_class is None:
        check_sparse_labels(labels, classes, fn)
        return ops.sparse_softmax_cross_entropy_with_logits(labels, output)
    valid = labels != ignore_class
    safe = np.where(valid, labels, 0)
    check_sparse_labels(safe, classes, fn)
    result = ops.sparse_softmax_cross_entropy_with_logits(safe, output) * Tensor(valid.astype(output.value.dtype))
    result._keras_mask = Tensor(valid)
    return result


sparse_categorical_crossentropy._sparse_labels = True


def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence ``sum(t * log(t / p), -1)`` with both clipped to ``[eps, 1]``.

    >>> round(float(kl_divergence([[0.5, 0.5]], [[0.5, 0.5]])[0]), 6)
    0.0
    """
    y_true, y_pred = prepare(y_true, y_pred, "kl_divergence")
    eps = epsilon()
    t = _clip(y_true, eps, 1.0)
    p = _clip(y_pred, eps, 1.0)
    return ops.reduce_sum(t * ops.log(t / p), axis=-1)


def poisson(y_true, y_pred):
    """Poisson loss ``mean(p - t * log(p + eps), -1)``.

    >>> round(float(poisson([[1.0]], [[1.0]])[0]), 6)
    1.0
    """
    y_true, y_pred = prepare(y_true, y_pred, "poisson")
    return ops.reduce_mean(y_pred - y_true * ops.log(y_pred + epsilon()), axis=-1)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy (see ``binary_crossentropy``); ``from_logits``, ``label_smoothing``, ``axis``."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=Reduction.AUTO,
                 name="binary_crossentropy"):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Focal binary cross-entropy (see ``binary_focal_crossentropy``)."""

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction=Reduction.AUTO, name="binary_focal_crossentropy"):
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class CategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy for one-hot labels (see ``categorical_crossentropy``)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=Reduction.AUTO,
                 name="categorical_crossentropy"):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Focal categorical cross-entropy (see ``categorical_focal_crossentropy``)."""

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction=Reduction.AUTO, name="categorical_focal_crossentropy"):
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


def _sparse_mean_fast(y_true, y_pred, from_logits=False, axis=-1, ignore_class=None):
    """The mean of ``sparse_categorical_crossentropy`` as one op for the common case, else ``None``.

    The common case: integer labels of shape ``(n,)`` or ``(n, 1)`` against a 2-D softmax output (or
    logits), no ``ignore_class``. Same numbers and errors as the general path.
    """
    labels = y_true.value if isinstance(y_true, Tensor) else y_true
    if ignore_class is not None or (type(labels) is not np.ndarray and not is_traced(labels)) or \
            labels.dtype.kind not in "iu":
        return None
    value = y_pred.value
    shape = value.shape
    # (n,) labels against a one-unit output: Keras squeezes y_pred first, and the general path explains
    # the resulting shape mismatch - so only (n, 1) labels may meet a one-unit output here
    if len(shape) != 2 or axis not in (-1, 1) or labels.shape not in ((shape[0],), (shape[0], 1)) or \
            (shape[1] == 1 and labels.ndim == 1) or \
            value.dtype.kind != "f" or (not from_logits and not isinstance(getattr(y_pred, "_logits", None), Tensor)):
        return None
    output, _ = get_logits(y_pred, from_logits, "Softmax", "sparse_categorical_crossentropy")
    labels = labels.reshape(shape[0]).astype(np.int64, copy=False)
    check_sparse_labels(labels, shape[1], "sparse_categorical_crossentropy")
    return sparse_xent_mean(labels, output)


sparse_categorical_crossentropy._mean_fast = _sparse_mean_fast


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels (see ``sparse_categorical_crossentropy``)."""

    def __init__(self, from_logits=False, ignore_class=None, reduction=Reduction.AUTO,
                 name="sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, from_logits=from_logits,
                         ignore_class=ignore_class)
        self.from_logits = from_logits


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence (see ``kl_divergence``)."""

    def __init__(self, reduction=Reduction.AUTO, name="kl_divergence"):
        super().__init__(kl_divergence, reduction=reduction, name=name)


class Poisson(LossFunctionWrapper):
    """Poisson loss (see ``poisson``)."""

    def __init__(self, reduction=Reduction.AUTO, name="poisson"):
        super().__init__(poisson, reduction=reduction, name=name)
