"""``keras.backend`` neural-network functions: activations, cross-entropies, convolution and pooling,
padding and resizing, normalization, dropout, the generic RNN loop and locally-connected products.

All are differentiable compositions of featherflow ops and follow tf.keras 2's formulas (e.g.
``binary_crossentropy`` is elementwise and clips probabilities to ``[epsilon, 1 - epsilon]``).

>>> from featherflow.keras import backend as K
>>> import numpy as np
>>> K.relu(np.array([-1.0, 2.0, 9.0]), max_value=6.0).numpy()
array([0., 2., 6.])
"""

from __future__ import annotations

import itertools

import numpy as np

from featherflow import ops
from featherflow.backend import epsilon
from featherflow.core import Tensor, convert_to_tensor
from featherflow.keras.backend._math import repeat_elements
from featherflow.keras.backend._state import image_data_format
from featherflow.ops import conv3d as conv3d_ops
from featherflow.ops import ctc


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def _data_format(data_format) -> str:
    if data_format is None:
        data_format = image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Unknown data_format: {data_format}")
    return data_format


def _padding(padding) -> str:
    if padding not in ("same", "valid"):
        raise ValueError(f"Invalid padding: {padding}. Expected 'same' or 'valid'.")
    return padding.upper()


# -- activations ------------------------------------------------------------------------------------------
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with options: ``x`` above ``threshold`` (else ``alpha * (x - threshold)``),
    capped at ``max_value``."""
    x = _t(x)
    dtype = x.dtype
    negative_part = None
    if alpha != 0.0:
        if max_value is None and threshold == 0:
            return ops.leaky_relu(x, alpha=alpha)
        negative_part = ops.relu(-x + ops.constant(threshold, dtype=dtype)) if threshold != 0 else ops.relu(-x)
    if threshold != 0:
        x = x * ops.cast(ops.greater(x, ops.constant(threshold, dtype=dtype)), dtype)
    else:
        x = ops.relu(x)
    if max_value is not None:
        x = ops.clip_by_value(x, ops.constant(0, dtype=dtype), ops.constant(max_value, dtype=dtype))
    if negative_part is not None:
        x = x - ops.constant(alpha, dtype=dtype) * negative_part
    return x


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    x = _t(x)
    res = ops.elu(x)
    if alpha == 1:
        return res
    return ops.where(ops.greater(x, ops.constant(0, dtype=x.dtype)), res, ops.constant(alpha, dtype=x.dtype) * res)


def softmax(x, axis=-1):
    """Softmax along ``axis`` (an int, or a tuple of axes normalised together)."""
    x = _t(x)
    if x.ndim <= 1:
        raise ValueError(f"Cannot apply softmax to a tensor that is 1D. Received input: {x}")
    if isinstance(axis, int):
        return ops.softmax(x, axis=axis)
    numerator = ops.exp(x - ops.reduce_max(x, axis=axis, keepdims=True))
    return numerator / ops.reduce_sum(numerator, axis=axis, keepdims=True)


softplus, softsign, sigmoid, tanh = ops.softplus, ops.softsign, ops.sigmoid, ops.tanh


def hard_sigmoid(x):
    """Piecewise-linear sigmoid ``clip(0.2 * x + 0.5, 0, 1)`` (tf.keras 2's slope)."""
    x = _t(x)
    return ops.clip_by_value(x * ops.constant(0.2, dtype=x.dtype) + ops.constant(0.5, dtype=x.dtype), 0.0, 1.0)


def dropout(x, level, noise_shape=None, seed=None):
    """Zero entries with probability ``level`` and scale the rest by ``1 / (1 - level)``."""
    return ops.dropout(x, rate=level, noise_shape=noise_shape, seed=seed)


def l2_normalize(x, axis=None):
    """``x / sqrt(max(sum(x**2, axis), 1e-12))``."""
    return ops.l2_normalize(x, axis=axis)


def in_top_k(predictions, targets, k):
    """Whether each integer ``targets[i]`` is among the ``k`` largest ``predictions[i]`` (bool)."""
    return ops.in_top_k(targets, predictions, k)


# -- cross-entropies -------------------------------------------------------------------------------------------
def _logits_of(output, from_logits, kind, fn):
    from featherflow.keras.losses._utils import get_logits  # losses sit above the backend in keras

    return get_logits(output, from_logits, kind, fn)


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy (no mean): ``-(t log(p + eps) + (1 - t) log(1 - p + eps))`` with ``p``
    clipped to ``[eps, 1 - eps]``, or the stable form on logits.

    >>> round(float(binary_crossentropy(np.array([1.0]), np.array([0.5]))[0]), 6)
    0.693147
    """
    target, output = _t(target), _t(output)
    output, from_logits = _logits_of(output, from_logits, "Sigmoid", "binary_crossentropy")
    if from_logits:
        return ops.sigmoid_cross_entropy_with_logits(labels=ops.cast(target, output.dtype), logits=output)
    target = ops.cast(target, output.dtype)
    eps = epsilon()
    output = ops.clip_by_value(output, eps, 1.0 - eps)
    return -(target * ops.log(output + eps) + (1.0 - target) * ops.log(1.0 - output + eps))


def binary_focal_crossentropy(target, output, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False):
    """Elementwise focal binary cross-entropy ``(1 - p_t)**gamma * bce`` (Lin et al., 2017), optionally
    weighted by ``alpha`` for positives and ``1 - alpha`` for negatives."""
    target, output = _t(target), _t(output)
    target = ops.cast(target, output.dtype)
    probabilities = ops.sigmoid(output) if from_logits else output
    p_t = target * probabilities + (1.0 - target) * (1.0 - probabilities)
    focal = ops.pow(1.0 - p_t, float(gamma)) * binary_crossentropy(target, output, from_logits=from_logits)
    if apply_class_balancing:
        focal = (target * alpha + (1.0 - target) * (1.0 - alpha)) * focal
    return focal


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy between one-hot (or soft) ``target`` and ``output`` along ``axis``, one value per sample."""
    from featherflow.keras.losses import categorical_crossentropy as loss

    return loss(target, output, from_logits=from_logits, axis=axis)


def categorical_focal_crossentropy(target, output, alpha=0.25, gamma=2.0, from_logits=False, axis=-1):
    """Focal categorical cross-entropy ``sum(alpha (1 - p)**gamma (-t log p), axis)``."""
    from featherflow.keras.losses import categorical_focal_crossentropy as loss

    return loss(target, output, alpha=alpha, gamma=gamma, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1, ignore_class=None):
    """Cross-entropy between integer labels ``target`` and class scores ``output``, one value per label."""
    from featherflow.keras.losses import sparse_categorical_crossentropy as loss

    return loss(target, output, from_logits=from_logits, axis=axis, ignore_class=ignore_class)


# -- normalization ------------------------------------------------------------------------------------------------
def bias_add(x, bias, data_format=None):
    """``x + bias`` with ``bias`` on the channel axis (a 1-D bias) or covering all non-batch axes."""
    data_format = _data_format(data_format)
    x, bias = _t(x), _t(bias)
    if bias.ndim != 1 and bias.ndim != x.ndim - 1:
        raise ValueError(f"Unexpected bias dimensions {bias.ndim}, expect to be 1 or {x.ndim - 1} dimensions")
    if bias.ndim == 1:
        return ops.bias_add(x, bias, data_format="NCHW" if data_format == "channels_first" else "NHWC")
    if data_format == "channels_first" and x.ndim in (3, 4, 5):
        shape = tuple(bias.shape)
        return x + ops.reshape(bias, (1, shape[-1]) + shape[:-1])
    return x + ops.reshape(bias, (1,) + tuple(bias.shape))


def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` (``beta``/``gamma`` may be ``None``); 1-D
    statistics of a 4-D ``x`` sit on ``axis``."""
    x = _t(x)
    mean, var = _t(mean), _t(var)
    if x.ndim == 4 and mean.ndim == 1:
        axis = axis % 4
        shape = [1, 1, 1, 1]
        shape[axis] = -1

        def put(t):
            return None if t is None else ops.reshape(_t(t), shape)

        mean, var, beta, gamma = put(mean), put(var), put(beta), put(gamma)
    return ops.batch_normalization(x, mean, var, beta, gamma, epsilon)


def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):
    """Normalize ``x`` with its own statistics over ``reduction_axes``: returns ``(normalized, mean, variance)``
    (the statistics without the reduced axes)."""
    x = _t(x)
    reduction_axes = [int(a) % x.ndim for a in reduction_axes]
    mean, variance = ops.moments(x, reduction_axes)
    shape = [1 if i in reduction_axes else x.shape[i] for i in range(x.ndim)]

    def put(t):
        return None if t is None else ops.reshape(_t(t), shape)

    normed = ops.batch_normalization(x, put(mean), put(variance), put(beta), put(gamma), epsilon)
    return normed, mean, variance


# -- convolution and pooling -----------------------------------------------------------------------------------------
def _pair(value, n, name):
    value = (value,) * n if isinstance(value, int) else tuple(value)
    if len(value) != n:
        raise ValueError(f"`{name}` must be a tuple of {n} integers. Received: {name}={value}")
    return value


def temporal_padding(x, padding=(1, 1)):
    """Zero-pad the time axis of ``(batch, steps, features)``."""
    if len(padding) != 2:
        raise ValueError(f"`padding` must be a pair of ints. Received: padding={padding}")
    return ops.pad(x, [[0, 0], list(padding), [0, 0]])


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Zero-pad the rows and columns of 4-D images."""
    data_format = _data_format(data_format)
    rows, cols = (list(p) for p in padding)
    pattern = [[0, 0], [0, 0], rows, cols] if data_format == "channels_first" else [[0, 0], rows, cols, [0, 0]]
    return ops.pad(x, pattern)


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    """Zero-pad the three spatial axes of 5-D volumes."""
    data_format = _data_format(data_format)
    pads = [list(p) for p in padding]
    pattern = [[0, 0], [0, 0]] + pads if data_format == "channels_first" else [[0, 0]] + pads + [[0, 0]]
    return ops.pad(x, pattern)


def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1-D convolution; ``padding="causal"`` pads the start of the sequence only."""
    data_format = _data_format(data_format)
    kernel = _t(kernel)
    if padding == "causal":
        if data_format == "channels_first":
            raise ValueError("`padding='causal'` needs `data_format='channels_last'`.")
        x = temporal_padding(x, (dilation_rate * (kernel.shape[0] - 1), 0))
        padding = "valid"
    return ops.conv1d(x, kernel, strides, _padding(padding),
                      data_format="NCW" if data_format == "channels_first" else "NWC", dilations=dilation_rate)


def _nhwc(data_format) -> str:
    return "NCHW" if data_format == "channels_first" else "NHWC"


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    """2-D convolution of ``x`` with ``kernel`` ``(kh, kw, in, out)``."""
    data_format = _data_format(data_format)
    return ops.conv2d(x, kernel, _pair(strides, 2, "strides"), _padding(padding), data_format=_nhwc(data_format),
                      dilations=_pair(dilation_rate, 2, "dilation_rate"))


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """Transposed 2-D convolution with ``kernel`` ``(kh, kw, out, in)`` to ``output_shape``."""
    data_format = _data_format(data_format)
    if isinstance(output_shape, (tuple, list)) and output_shape and output_shape[0] is None:
        output_shape = (_t(x).shape[0],) + tuple(output_shape[1:])
    return ops.conv2d_transpose(x, kernel, output_shape, _pair(strides, 2, "strides"), _padding(padding),
                                data_format=_nhwc(data_format), dilations=_pair(dilation_rate, 2, "dilation_rate"))


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    """Depthwise 2-D convolution with ``depthwise_kernel`` ``(kh, kw, in, multiplier)``."""
    data_format = _data_format(data_format)
    return ops.depthwise_conv2d(x, depthwise_kernel, _pair(strides, 2, "strides"), _padding(padding),
                                data_format=_nhwc(data_format), dilations=_pair(dilation_rate, 2, "dilation_rate"))


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """Depthwise convolution followed by a 1x1 ``pointwise_kernel`` ``(1, 1, in * multiplier, out)``."""
    depthwise = depthwise_conv2d(x, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv2d(depthwise, pointwise_kernel, (1, 1), "valid", data_format)


def _ndhwc(data_format) -> str:
    return "NCDHW" if data_format == "channels_first" else "NDHWC"


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None, dilation_rate=(1, 1, 1)):
    """3-D convolution of ``x`` with ``kernel`` ``(kd, kh, kw, in, out)``."""
    data_format = _data_format(data_format)
    return conv3d_ops.conv3d(x, kernel, _pair(strides, 3, "strides"), _padding(padding),
                             data_format=_ndhwc(data_format), dilations=_pair(dilation_rate, 3, "dilation_rate"))


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None, pool_mode="max"):
    """3-D max or average pooling (``pool_mode`` ``"max"`` / ``"avg"``)."""
    data_format = _data_format(data_format)
    if pool_mode not in ("max", "avg"):
        raise ValueError(f"Invalid pooling mode: {pool_mode}")
    pool = conv3d_ops.max_pool3d if pool_mode == "max" else conv3d_ops.avg_pool3d
    return pool(x, _pair(pool_size, 3, "pool_size"), _pair(strides, 3, "strides"), _padding(padding),
                data_format=_ndhwc(data_format))


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max"):
    """2-D max or average pooling (``pool_mode`` ``"max"`` / ``"avg"``)."""
    data_format = _data_format(data_format)
    pool_size, strides = _pair(pool_size, 2, "pool_size"), _pair(strides, 2, "strides")
    if pool_mode == "max":
        pool = ops.max_pool2d
    elif pool_mode == "avg":
        pool = ops.avg_pool2d
    else:
        raise ValueError(f"Invalid pooling mode: {pool_mode}")
    return pool(x, pool_size, strides, _padding(padding), data_format=_nhwc(data_format))


def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    """Enlarge 4-D images by integer factors (``"nearest"`` repeats pixels; ``"bilinear"`` interpolates)."""
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Invalid `data_format` argument: {data_format}")
    rows, cols = (2, 3) if data_format == "channels_first" else (1, 2)
    x = _t(x)
    if interpolation == "nearest":
        return repeat_elements(repeat_elements(x, height_factor, rows), width_factor, cols)
    if interpolation == "bilinear":
        from featherflow.keras.layers.reshaping import resize_images as resize  # the UpSampling2D kernel

        return resize(x, x.shape[rows] * height_factor, x.shape[cols] * width_factor, "bilinear",
                      channels_first=data_format == "channels_first")
    raise ValueError(f'`interpolation` argument should be one of: "nearest", "bilinear". Received: "{interpolation}".')


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    """Enlarge 5-D volumes by repeating voxels along the three spatial axes."""
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Invalid data_format: {data_format}")
    first = 2 if data_format == "channels_first" else 1
    for axis, factor in zip((first, first + 1, first + 2), (depth_factor, height_factor, width_factor)):
        x = repeat_elements(x, factor, axis)
    return x


def _local_conv(inputs, kernel, kernel_size, strides, output_shape, data_format):
    """The locally-connected product: one weight matrix per output position."""
    inputs, kernel = _t(inputs), _t(kernel)
    feature_dim, channels_out = kernel.shape[1], kernel.shape[-1]
    ndims = len(output_shape)
    patches = []
    for position in itertools.product(*(range(n) for n in output_shape)):
        index = [slice(None)]
        if data_format == "channels_first":
            index.append(slice(None))
        index.extend(slice(p * s, p * s + k) for p, s, k in zip(position, strides, kernel_size))
        if data_format == "channels_last":
            index.append(slice(None))
        patches.append(ops.reshape(inputs[tuple(index)], (1, -1, feature_dim)))
    products = ops.matmul(ops.concat(patches, axis=0), kernel)  # (positions, batch, channels_out)
    out = ops.reshape(products, tuple(output_shape) + (-1, channels_out))
    spatial = list(range(ndims))
    perm = [ndims, ndims + 1] + spatial if data_format == "channels_first" else [ndims] + spatial + [ndims + 1]
    return ops.transpose(out, perm)


def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    """Unshared-weights 1-D convolution: ``kernel`` is ``(output_length, kernel_size * input_dim, filters)``."""
    data_format = _data_format(data_format)
    output_length = _t(kernel).shape[0]
    return _local_conv(inputs, kernel, _pair(kernel_size, 1, "kernel_size"), _pair(strides, 1, "strides"),
                       (output_length,), data_format)


def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format=None):
    """Unshared-weights 2-D convolution: ``kernel`` is ``(rows * cols, kh * kw * channels, filters)``."""
    data_format = _data_format(data_format)
    return _local_conv(inputs, kernel, _pair(kernel_size, 2, "kernel_size"), _pair(strides, 2, "strides"),
                       tuple(output_shape), data_format)


# -- the generic recurrent loop ---------------------------------------------------------------------------------------
def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None, time_major=False, zero_output_for_mask=False, return_all_outputs=True):
    """Run ``step_function(input_t, states + constants) -> (output_t, new_states)`` over the time axis.

    Args:
        inputs: ``(batch, time, ...)`` (``(time, batch, ...)`` with ``time_major``), or a list of such tensors.
        initial_states: list of ``(batch, ...)`` tensors.
        go_backwards: iterate from the last step (outputs are in iteration order).
        mask: ``(batch, time)`` booleans; a masked step keeps the previous output (zeros with
            ``zero_output_for_mask``) and states.
        constants: extra tensors passed to every step after the states.
        unroll, input_length: accepted for compatibility (the loop always runs in Python).
        return_all_outputs: if false, ``outputs`` holds only the last step (time axis of 1).

    Returns:
        ``(last_output, outputs, new_states)``.

    >>> last, outs, states = rnn(lambda x, s: (x + s[0], [x + s[0]]), np.ones((2, 3, 1), "float32"),
    ...                          [np.zeros((2, 1), "float32")])
    >>> outs.numpy()[0, :, 0]
    array([1., 2., 3.], dtype=float32)
    """
    many = isinstance(inputs, (list, tuple))
    flat = [_t(x) for x in (inputs if many else [inputs])]
    time_axis = 0 if time_major else 1
    for x in flat:
        if x.ndim < 3:
            raise ValueError(f"`rnn` inputs must have rank >= 3 (batch, time, features). Received shape "
                             f"{tuple(x.shape)}")
    steps = flat[0].shape[time_axis]
    per_step = [ops.unstack(x, axis=time_axis) for x in flat]
    if mask is not None:
        mask = _t(mask)
        if mask.dtype != np.bool_:
            mask = ops.cast(mask, "bool")
        if mask.ndim == 3:
            mask = ops.squeeze(mask, -1)
        mask_steps = ops.unstack(mask, axis=0 if time_major else 1)
    constants = list(constants or [])
    states = list(initial_states)
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    outputs, last_output = [], None
    for t in order:
        step_input = [p[t] for p in per_step] if many else per_step[0][t]
        output, new_states = step_function(step_input, tuple(states) + tuple(constants))
        new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
        if mask is not None:
            keep = mask_steps[t]
            previous = ops.zeros_like(output) if zero_output_for_mask or last_output is None else last_output
            output = ops.where(_expand_to(keep, output), output, previous)
            new_states = [ops.where(_expand_to(keep, n), n, s) for n, s in zip(new_states, states)]
        last_output = output
        states = new_states
        if return_all_outputs or t == order[-1]:
            outputs.append(output)
    stacked = ops.stack(outputs, axis=time_axis)
    return last_output, stacked, states


def _expand_to(keep, like):
    like = _t(like)
    return ops.reshape(keep, tuple(keep.shape) + (1,) * (like.ndim - keep.ndim))



# -- connectionist temporal classification ------------------------------------------------------------------------
def _lengths(values):
    return np.asarray(values.numpy() if isinstance(values, Tensor) else values).reshape(-1).astype(np.int64)


def ctc_label_dense_to_sparse(labels, label_lengths):
    """Dense CTC labels ``(batch, max_label_length)`` as a ``SparseTensor`` of the first ``label_lengths[b]`` labels
    of each row (dense shape: ``labels``'s), the form TensorFlow's CTC ops take.

    >>> sp = ctc_label_dense_to_sparse(np.array([[1, 2, 3], [4, 0, 0]], "int32"), np.array([3, 1]))
    >>> sp.indices.numpy().tolist(), sp.values.numpy().tolist(), sp.dense_shape.numpy().tolist()
    ([[0, 0], [0, 1], [0, 2], [1, 0]], [1, 2, 3, 4], [2, 3])
    """
    from featherflow.ops.sparse import SparseTensor

    labels = _t(labels)
    lengths = _lengths(label_lengths)
    if labels.ndim != 2 or lengths.shape[0] != labels.shape[0]:
        raise ValueError(f"`ctc_label_dense_to_sparse` expects labels of shape (batch, max_label_length) and one "
                         f"length per row. Received: labels.shape={tuple(labels.shape)}, "
                         f"label_lengths.shape={tuple(np.shape(lengths))}")
    keep = np.arange(labels.shape[1])[None, :] < lengths[:, None]
    return SparseTensor(np.argwhere(keep), labels.numpy()[keep], labels.shape)


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """CTC loss per example, ``(batch, 1)``: ``y_pred`` ``(batch, frames, classes)`` softmax outputs whose last
    class is the blank, ``y_true`` ``(batch, max_label_length)`` labels, the lengths ``(batch, 1)``."""
    y_pred = _t(y_pred)
    logits = ops.log(y_pred + ops.constant(epsilon(), dtype=y_pred.dtype))
    labels = np.asarray(y_true.numpy() if isinstance(y_true, Tensor) else y_true).astype(np.int64)
    loss = ctc.ctc_loss_dense(labels, logits, _lengths(label_length), _lengths(input_length), blank_index=-1)
    return ops.expand_dims(loss, 1)


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1):
    """Decode softmax outputs ``(batch, frames, classes)`` (last class the blank): ``([decoded], log_prob)``.

    Each decoded tensor is ``(batch, frames)`` int64 padded with -1. Greedy: the best class per frame,
    repeats merged, blanks dropped, ``log_prob`` ``(batch, 1)`` the negated sum of the chosen log
    probabilities (TensorFlow's). Beam search: the ``top_paths`` most probable sequences, ``log_prob``
    ``(batch, top_paths)`` their log probabilities.
    """
    y_pred = _t(y_pred)
    batch, steps, classes = y_pred.shape
    log_probs = np.log(y_pred.numpy().astype(np.float64) + epsilon())
    lengths = _lengths(input_length)
    if greedy:
        sequences, log_prob = ctc.ctc_greedy_decode(log_probs, lengths, classes - 1)
        paths = [sequences]
    else:
        paths, log_prob = ctc.ctc_beam_search_decode(log_probs, lengths, classes - 1, beam_width, top_paths)
    decoded = []
    for sequences in paths:
        dense = np.full((batch, steps), -1, dtype=np.int64)
        for i, sequence in enumerate(sequences):
            dense[i, :len(sequence)] = sequence
        decoded.append(Tensor(dense))
    return decoded, Tensor(np.asarray(log_prob, dtype=np.float32))
