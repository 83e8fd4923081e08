"""Neural-network ops: core activations, softmax, fused dense and cross-entropy, dropout.

Fused ops (``dense``, the softmax cross-entropies) are single ops with a single backward
rule: fewer temporaries and numerically stable log-sum-exp forms. Their array arithmetic is
``featherflow.ops.array_kernels`` (shared with the layers' and models' array programs).

>>> import featherflow as ff
>>> ff.nn.relu([-1.0, 2.0]).numpy()
array([0., 2.], dtype=float32)
"""

from __future__ import annotations

import weakref

import numpy as np

from featherflow.backend import random as _random
from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops import _dropout_compiled, _softmax_compiled, _xent_compiled
from featherflow.ops import array_kernels as kernels
from featherflow.ops._convert import as_float_tensor, as_tensor, binary_operands


def relu(features, name=None) -> Tensor:
    """``max(x, 0)``.

    >>> relu([-1.0, 3.0]).numpy()
    array([0., 3.], dtype=float32)
    """
    x = as_tensor(features, "relu", "features")
    xv = x.value
    out = array_module(xv).maximum(xv, 0)
    return record("relu", (x,), out, lambda g, needs: (g * (out > 0),))


def sigmoid(x, name=None) -> Tensor:
    """Logistic function ``1 / (1 + exp(-x))``, computed without overflow.

    >>> sigmoid([0.0]).numpy()
    array([0.5], dtype=float32)
    """
    x = as_float_tensor(x, "sigmoid")
    out = kernels.sigmoid(x.value)
    result = record("sigmoid", (x,), out, lambda g, needs: (g * out * (1 - out),))
    result._logits = SigmoidLogits(x)
    return result


class SigmoidLogits:
    """What ``sigmoid(x)._logits`` holds: the logits ``x`` of a sigmoid output, so a binary
    cross-entropy can use the fused stable form (``softmax`` stores its logits Tensor directly;
    the wrapper tells the two apart)."""

    __slots__ = ("logits",)

    def __init__(self, logits):
        self.logits = logits


def tanh(x, name=None) -> Tensor:
    """Hyperbolic tangent.

    >>> tanh([0.0]).numpy()
    array([0.], dtype=float32)
    """
    x = as_float_tensor(x, "tanh")
    out = array_module(x.value).tanh(x.value)
    return record("tanh", (x,), out, lambda g, needs: (g * (1 - out * out),))


def _check_axis(axis, ndim: int, op: str) -> int:
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{op}: axis {axis} is out of range for logits of rank {ndim}. Expected an axis in [{-ndim}, {ndim})."
        )
    return axis


def softmax(logits, axis=-1, name=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the max for stability.

    The output remembers its logits, so a following cross-entropy can use the fused,
    stable form (as Keras does).

    >>> softmax([[0.0, 0.0]]).numpy()
    array([[0.5, 0.5]], dtype=float32)
    """
    x = as_float_tensor(logits, "softmax", "logits")
    axis = _check_axis(axis, x.value.ndim, "softmax")
    run = _softmax_compiled.compiled_softmax(x.value, axis)  # 2-D rows with Numba: one kernel (eager and traced)
    out = run(x.value) if run is not None else kernels.softmax(x.value, axis)

    def backward(g, needs):
        return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)

    result = record("softmax", (x,), out, backward)
    result._logits = x
    return result


def log_softmax(logits, axis=-1, name=None) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``.

    >>> log_softmax([[0.0, 0.0]]).numpy()
    array([[-0.6931472, -0.6931472]], dtype=float32)
    """
    x = as_float_tensor(logits, "log_softmax", "logits")
    axis = _check_axis(axis, x.value.ndim, "log_softmax")
    out = x.value - kernels.logsumexp(x.value, axis)
    xp = array_module(out)

    def backward(g, needs):
        return (g - xp.exp(out) * g.sum(axis=axis, keepdims=True),)

    return record("log_softmax", (x,), out, backward)


def _logits_and_labels(logits, labels, op):
    """Float logits, and labels in the logits' dtype (Python/NumPy labels are converted to it)."""
    logits = as_float_tensor(logits, op, "logits")
    if isinstance(labels, Tensor):
        if labels.value.dtype != logits.value.dtype:
            raise TypeError(
                f"{op}: `labels` and `logits` must have the same dtype. Received: labels.dtype="
                f"{labels.dtype.name}, logits.dtype={logits.dtype.name}. Cast the labels with featherflow.cast."
            )
        return logits, labels
    labels = as_tensor(labels, op, "labels")
    return logits, Tensor(labels.value.astype(logits.value.dtype, copy=False))


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None) -> Tensor:
    """Cross-entropy between a distribution ``labels`` and ``softmax(logits)``, one value per row.

    ``-sum(labels * log_softmax(logits), axis)``, computed in the log-sum-exp form.

    >>> softmax_cross_entropy_with_logits([[0.0, 1.0]], [[0.0, 0.0]]).numpy()
    array([0.6931472], dtype=float32)
    """
    logits, labels = _logits_and_labels(logits, labels, "softmax_cross_entropy_with_logits")
    zv, yv = logits.value, labels.value
    if zv.shape != yv.shape:
        raise ValueError(
            "softmax_cross_entropy_with_logits: `labels` and `logits` must have the same shape. "
            f"Received: labels.shape={yv.shape}, logits.shape={zv.shape}"
        )
    logp = zv - kernels.logsumexp(zv, axis)
    loss = -(yv * logp).sum(axis=axis)
    xp = array_module(zv)

    def backward(g, needs):
        ge = xp.expand_dims(g, axis)
        glabels = -ge * logp if needs[0] else None
        glogits = None
        if needs[1]:
            glogits = ge * (xp.exp(logp) * yv.sum(axis=axis, keepdims=True) - yv)
        return glabels, glogits

    return record("softmax_cross_entropy_with_logits", (labels, logits), loss, backward)


def check_sparse_labels(labels_array, num_classes: int, op: str):
    """Raise a clear error when integer class labels fall outside ``[0, num_classes)``.

    Inside a ``tf.function`` trace the check reads the labels on the host, at every call (a host call of
    ``featherflow.compiler``), so a compiled step still refuses out-of-range labels.
    """
    if getattr(labels_array, "_ff_traced", False):
        from featherflow import compiler

        tracer = compiler.current()
        real = compiler.concrete(labels_array)
        key = ("sparse_labels", id(real), num_classes)
        if tracer is not None and tracer.memo.get(key) is real:
            return  # the same labels were checked earlier in this step (the loss, then its op): once per call
        compiler.host_call(_check_sparse_labels, labels_array, num_classes, op)
        if tracer is not None:
            tracer.memo[key] = real
        return
    _check_sparse_labels(labels_array, num_classes, op)


# (weak reference to the array, min, max) of the last few integer label arrays whose range is known
# (``note_label_range``; weak: a segmentation model's label chunks can be large)
_LABEL_RANGES: list = []
_LABEL_RANGE_SLOTS = 4


def note_label_range(labels) -> None:
    """Note the value range of ``labels``, a new integer array no one else writes (``fit``'s gathered chunk of a
    few batches' labels): the range check of a view of it (a batch, reshaped) then compares the noted range
    instead of scanning the batch (2.95 -> 0.48 us a batch of 32 in isolation). The last ``_LABEL_RANGE_SLOTS`` arrays are
    kept. A label outside the model's classes still fails the check, with the batch's own message.

    >>> labels = np.array([0, 3, 1])
    >>> note_label_range(labels); _LABEL_RANGES[0][1:]
    (0, 3)
    """
    if labels.dtype.kind not in "iu" or labels.size == 0:
        return
    _LABEL_RANGES.insert(0, (weakref.ref(labels), int(labels.min()), int(labels.max())))
    del _LABEL_RANGES[_LABEL_RANGE_SLOTS:]


def _known_range_fits(labels_array, num_classes: int) -> bool:
    """Whether ``labels_array`` views an array of ``note_label_range`` (same dtype) whose values all fit."""
    root = labels_array
    while type(root.base) is np.ndarray:
        root = root.base
    if root.dtype != labels_array.dtype:
        return False  # a reinterpreting view: other values
    for array, lo, hi in _LABEL_RANGES:
        if array() is root:
            return lo >= 0 and hi < num_classes
    return False


def _check_sparse_labels(labels_array, num_classes: int, op: str):
    if labels_array.size == 0:
        return
    if _LABEL_RANGES and type(labels_array) is np.ndarray and _known_range_fits(labels_array, num_classes):
        return
    lo, hi = labels_array.min(), labels_array.max()
    if lo < 0 or hi >= num_classes:
        bad = hi if hi >= num_classes else lo
        raise ValueError(
            f"{op}: received a label value of {bad} which is outside the valid range of [0, {num_classes}). "
            f"Labels must be integer class indices in [0, {num_classes}); the model has {num_classes} outputs. "
            f"Received: labels min={lo}, max={hi}"
        )


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None) -> Tensor:
    """Cross-entropy between integer class ``labels`` and ``softmax(logits)`` (last axis).

    Args:
        labels: integer tensor of shape ``logits.shape[:-1]`` with values in ``[0, classes)``.
        logits: float tensor ``(..., classes)``.

    >>> sparse_softmax_cross_entropy_with_logits([1], [[0.0, 0.0]]).numpy()
    array([0.6931472], dtype=float32)
    """
    logits = as_float_tensor(logits, "sparse_softmax_cross_entropy_with_logits", "logits")
    labels = as_tensor(labels, "sparse_softmax_cross_entropy_with_logits", "labels")
    zv = logits.value
    lv = labels.value
    if lv.dtype.kind == "f":
        if not (lv == lv.round()).all():
            raise ValueError(
                "sparse_softmax_cross_entropy_with_logits: labels must be integer class indices. "
                f"Received non-integer values such as {lv[lv != lv.round()].ravel()[:3].tolist()}"
            )
    lv = lv.astype("int64", copy=False)
    if lv.shape != zv.shape[:-1]:
        raise ValueError(
            "sparse_softmax_cross_entropy_with_logits: `labels` must have shape logits.shape[:-1]. "
            f"Received: labels.shape={lv.shape}, logits.shape={zv.shape}"
        )
    classes = zv.shape[-1]
    check_sparse_labels(lv, classes, "sparse_softmax_cross_entropy_with_logits")
    flat = zv.reshape(-1, classes)
    idx = lv.reshape(-1)
    compiled = _xent_compiled.compiled_rows(flat)
    if compiled is not None:  # one Numba pass each way (small logits: NumPy's per-call cost is the whole cost)
        lse, per_row = compiled(flat, idx)

        def backward(g, needs):
            return (_xent_compiled.grad(flat, lse, idx, g.reshape(-1, 1)).reshape(zv.shape),)
    else:
        rows, lse, per_row = kernels.sparse_xent_rows(flat, idx)

        def backward(g, needs):
            return (kernels.sparse_xent_grad(flat, lse, rows, idx, g.reshape(-1, 1)).reshape(zv.shape),)
    loss = per_row.reshape(lv.shape)

    return record("sparse_softmax_cross_entropy_with_logits", (logits,), loss.astype(zv.dtype, copy=False),
                  backward)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None) -> Tensor:
    """Elementwise ``-z*log(sigmoid(x)) - (1-z)*log(1-sigmoid(x))`` in the stable form
    ``max(x, 0) - x*z + log(1 + exp(-|x|))``.

    >>> sigmoid_cross_entropy_with_logits([1.0], [0.0]).numpy()
    array([0.6931472], dtype=float32)
    """
    if labels is None or logits is None:
        raise ValueError("sigmoid_cross_entropy_with_logits: both `labels` and `logits` must be given.")
    logits, labels = _logits_and_labels(logits, labels, "sigmoid_cross_entropy_with_logits")
    xv, zv = logits.value, labels.value
    if xv.shape != zv.shape:
        raise ValueError(
            "sigmoid_cross_entropy_with_logits: `labels` and `logits` must have the same shape. "
            f"Received: labels.shape={zv.shape}, logits.shape={xv.shape}"
        )
    xp = array_module(xv)
    loss = xp.maximum(xv, 0) - xv * zv + xp.log1p(xp.exp(-xp.abs(xv)))

    def backward(g, needs):
        return (-g * xv if needs[0] else None, g * (kernels.sigmoid(xv) - zv) if needs[1] else None)

    return record("sigmoid_cross_entropy_with_logits", (labels, logits), loss, backward)


def sparse_xent_mean(labels, logits: Tensor) -> Tensor:
    """``mean(sparse_softmax_cross_entropy_with_logits(labels, logits))`` for 2-D ``logits`` as ONE op.

    The training loop's loss for integer labels: the same numbers as the two ops it replaces (per-row
    cross-entropy, then ``reduce_mean``), with one recorded node whose gradient is
    ``(softmax(logits) - one_hot(labels)) * g / n``. ``labels`` must already be a checked integer
    array of shape ``(n,)`` (the Keras loss validates it); this op does no argument checking.

    >>> import numpy as np
    >>> round(float(sparse_xent_mean(np.array([1, 0]), Tensor(np.zeros((2, 2), "float32")))), 6)
    0.693147
    """
    zv = logits.value
    xp = array_module(zv)
    compiled = _xent_compiled.compiled_rows(zv)
    if compiled is not None:  # the per-row op's kernels: the same numbers as that op and reduce_mean
        lse, per_row = compiled(zv, labels)
    else:
        rows, lse, per_row = kernels.sparse_xent_rows(zv, labels)
    per_row = per_row.astype(zv.dtype, copy=False)
    count = per_row.shape[0]
    out = xp.asarray(per_row.mean()) if count else xp.asarray(per_row.sum() * xp.nan)
    scale = 1.0 / count if count else 0.0

    def backward(g, needs):
        if compiled is not None:  # (reshaped: in a trace, a host call's output shape is not known statically)
            return (_xent_compiled.grad(zv, lse, labels, g * scale).reshape(zv.shape),)
        return (kernels.sparse_xent_grad(zv, lse, rows, labels, g * scale),)

    return record("sparse_xent_mean", (logits,), out.astype(zv.dtype, copy=False), backward)


def dense(x, kernel, bias=None, activation=None) -> Tensor:
    """Fused ``activation(x @ kernel + bias)`` over the last axis of ``x``, one op.

    Args:
        x: ``(..., in)`` inputs.
        kernel: ``(in, out)`` weights.
        bias: optional ``(out,)`` bias.
        activation: ``None``/``"linear"``, ``"relu"``, ``"sigmoid"`` or ``"tanh"``.

    The arithmetic is ``array_kernels.dense_forward`` / ``dense_backward`` (shared with the array programs).

    >>> dense([[1.0, 2.0]], [[1.0], [1.0]], [0.5], "relu").numpy()
    array([[3.5]], dtype=float32)
    """
    if activation not in kernels.FUSED_ACTIVATIONS:
        raise ValueError(f"dense: activation must be one of {kernels.FUSED_ACTIVATIONS}. Received: "
                         f"activation={activation!r}")
    x, kernel = binary_operands(x, kernel, "dense")
    xv, wv = x.value, kernel.value
    if wv.ndim != 2 or xv.ndim < 1 or xv.shape[-1] != wv.shape[0]:
        raise ValueError(
            f"dense: expected x of shape (..., {wv.shape[0] if wv.ndim == 2 else 'in'}) and a 2-D kernel. "
            f"Received: x.shape={xv.shape}, kernel.shape={wv.shape}"
        )
    x2 = xv.reshape(-1, wv.shape[0]) if xv.ndim != 2 else xv
    inputs = (x, kernel)
    bv = None
    if bias is not None:
        bias = as_tensor(bias, "dense", "bias", dtype=wv.dtype)
        bv = bias.value
        inputs = (x, kernel, bias)
    out = kernels.dense_forward(x2, wv, bv, activation)
    out_shape = xv.shape[:-1] + (wv.shape[1],)

    def backward(g, needs):
        gx, gw, gb = kernels.dense_backward(g.reshape(-1, wv.shape[1]) if g.ndim != 2 else g, x2, wv, out,
                                            activation, needs[0], needs[1], len(needs) == 3 and needs[2])
        if gx is not None and gx.shape != xv.shape:
            gx = gx.reshape(xv.shape)
        return (gx, gw, gb) if len(needs) == 3 else (gx, gw)

    return record("dense", inputs, out.reshape(out_shape) if out.shape != out_shape else out, backward)


def dropout(x, rate, noise_shape=None, seed=None, name=None) -> Tensor:
    """Inverted dropout: zero each element with probability ``rate``, scale the rest by ``1/(1-rate)``.

    Args:
        x: float tensor.
        rate: drop probability in ``[0, 1)``.
        noise_shape: shape of the keep/drop mask, broadcast against ``x`` (e.g. ``(batch, 1, features)``).
        seed: optional integer seed for this call; otherwise the global seeded generator is used.

    >>> import featherflow as ff
    >>> ff.nn.dropout(ff.ones((2, 2)), rate=0.0).numpy()
    array([[1., 1.],
           [1., 1.]], dtype=float32)
    """
    x = as_float_tensor(x, "dropout")
    rate = float(rate)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be a float in the range [0, 1). Received: rate={rate}")
    if rate == 0:
        return x
    xv = x.value
    rng = _random.make_generator(seed) if seed is not None else _random.generator()
    shape = xv.shape
    if noise_shape is not None:
        dims = noise_shape.value.tolist() if isinstance(noise_shape, Tensor) else list(noise_shape)
        shape = tuple(xv.shape[i] if d is None else int(d) for i, d in enumerate(dims)) if len(dims) == xv.ndim else ()
        if len(dims) != xv.ndim or any(d not in (1, n) for d, n in zip(shape, xv.shape)):
            raise ValueError(
                f"dropout: noise_shape must have one entry per axis of x, each equal to that axis' size or 1. "
                f"Received: noise_shape={dims}, x.shape={xv.shape}"
            )
    run = _dropout_compiled.compiled_dropout(xv) if tuple(shape) == xv.shape else None
    if run is not None:  # the mask and the output in one compiled pass (eager and traced alike)
        return masked_output(x, *run(xv, rate, rng if seed is not None else None))
    mask = kernels.dropout_mask(kernels.dropout_uniform(rng, shape, xv.dtype), rate, xv.dtype)
    xp = array_module(xv)
    return scaled_by_mask(x, mask if xp is np else xp.asarray(mask))


def scaled_by_mask(x: Tensor, mask) -> Tensor:
    """The dropout op proper: ``x * mask`` for a ready ``mask`` (``array_kernels.dropout_mask``), gradient
    ``g * mask``. The Dropout layer calls it with a mask drawn from its own generator.

    >>> scaled_by_mask(Tensor(np.ones(3, "float32")), np.array([2.0, 0.0, 2.0], "float32")).numpy()
    array([2., 0., 2.], dtype=float32)
    """
    return masked_output(x, x.value * mask, mask)


def masked_output(x: Tensor, out, mask) -> Tensor:
    """The dropout op for a ready output ``out = x * mask`` (``_dropout_compiled`` makes both in one pass):
    gradient ``g * mask``, as ``scaled_by_mask``'s.

    >>> masked_output(Tensor(np.ones(2, "float32")), np.array([2.0, 0.0], "float32"), np.array([2.0, 0.0], "float32")).numpy()
    array([2., 0.], dtype=float32)
    """
    return record("dropout", (x,), out, lambda g, needs: (g * mask,))


def bias_add(value, bias, data_format=None, name=None) -> Tensor:
    """Add a 1-D ``bias`` along the channel axis of ``value`` (last axis; axis 1 for ``"NC..."`` formats).

    >>> bias_add([[1.0, 2.0]], [10.0, 20.0]).numpy()
    array([[11., 22.]], dtype=float32)
    """
    x = as_tensor(value, "bias_add", "value")
    b = as_tensor(bias, "bias_add", "bias", dtype=x.value.dtype) if not isinstance(bias, Tensor) else bias
    xv, bv = x.value, b.value
    if bv.dtype != xv.dtype:
        raise TypeError(f"bias_add: `bias` must have the dtype of `value` ({xv.dtype.name}), received {bv.dtype.name}.")
    channels_first = data_format is not None and str(data_format).upper().startswith("NC")
    if data_format is not None and not channels_first and not str(data_format).upper().endswith("C"):
        raise ValueError(f"bias_add: unknown data_format. Expected e.g. 'NHWC' or 'NCHW'. Received: {data_format!r}")
    axis = 1 if channels_first else -1
    if bv.ndim != 1 or xv.ndim < 2 or xv.shape[axis] != bv.shape[0]:
        raise ValueError(
            f"bias_add: `bias` must be 1-D with the size of the channel axis of `value` (rank >= 2). "
            f"Received: value.shape={xv.shape}, bias.shape={bv.shape}, data_format={data_format!r}"
        )
    shaped = bv.reshape((-1,) + (1,) * (xv.ndim - 2)) if channels_first else bv
    reduce_axes = tuple(i for i in range(xv.ndim) if i != axis % xv.ndim)

    def backward(g, needs):
        return (g, g.sum(axis=reduce_axes) if needs[1] else None)

    return record("bias_add", (x, b), xv + shaped, backward)


def l2_loss(t, name=None) -> Tensor:
    """Half the squared L2 norm: ``sum(t ** 2) / 2`` (no square root); gradient ``t``.

    >>> float(l2_loss([1.0, 2.0]))
    2.5
    """
    x = as_float_tensor(t, "l2_loss", "t")
    xv = x.value
    xp = array_module(xv)
    return record("l2_loss", (x,), xp.asarray((xv * xv).sum() / 2, dtype=xv.dtype), lambda g, needs: (g * xv,))


def moments(x, axes, shift=None, keepdims=False, name=None) -> tuple:
    """Mean and (population) variance of ``x`` over ``axes``: ``(mean, variance)``.

    >>> mean, variance = moments([[1.0, 2.0], [3.0, 4.0]], axes=[0])
    >>> mean.numpy(), variance.numpy()
    (array([2., 3.], dtype=float32), array([1., 1.], dtype=float32))
    """
    from featherflow.ops.math import squared_difference, stop_gradient
    from featherflow.ops.reduce import reduce_mean
    from featherflow.ops.shape import squeeze

    x = as_float_tensor(x, "moments")
    axes = list(axes) if isinstance(axes, (list, tuple)) else [axes]
    mean = reduce_mean(x, axis=axes, keepdims=True)
    # The mean's own gradient path already carries d(mean); TF stops it inside the variance too.
    variance = reduce_mean(squared_difference(x, stop_gradient(mean)), axis=axes, keepdims=True)
    if not keepdims:
        squeezed = sorted(a % max(x.value.ndim, 1) for a in axes)
        mean, variance = squeeze(mean, squeezed), squeeze(variance, squeezed)
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None) -> Tensor:
    """``scale * (x - mean) / sqrt(variance + variance_epsilon) + offset`` (``offset``/``scale`` may be None).

    >>> batch_normalization([[1.0], [3.0]], 2.0, 1.0, None, None, 0.0).numpy()
    array([[-1.],
           [ 1.]], dtype=float32)
    """
    from featherflow.ops import math as m

    x = as_float_tensor(x, "batch_normalization")
    inv = m.rsqrt(m.add(as_tensor(variance, "batch_normalization", "variance", dtype=x.value.dtype)
                        if not isinstance(variance, Tensor) else variance, variance_epsilon))
    if scale is not None:
        inv = m.multiply(inv, scale)
    shift = m.negative(m.multiply(mean, inv)) if offset is None else m.subtract(offset, m.multiply(mean, inv))
    return m.add(m.multiply(x, inv), shift)


def embedding_lookup(params, ids, max_norm=None, name=None) -> Tensor:
    """Rows of ``params`` at ``ids`` (``gather`` along axis 0).

    >>> embedding_lookup([[1.0, 2.0], [3.0, 4.0]], [1]).numpy()
    array([[3., 4.]], dtype=float32)
    """
    from featherflow.ops.indexing import gather

    if max_norm is not None:
        raise ValueError(f"embedding_lookup: max_norm is not supported. Received: max_norm={max_norm}")
    return gather(params, ids, axis=0)

