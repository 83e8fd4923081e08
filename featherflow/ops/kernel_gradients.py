"""Differentiable gradient rules of the fused kernels behind the Keras layers, for higher-order gradients
(gradient penalties through convolutional critics, Hessian-vector products of CNNs).

The kernels (``conv.conv2d_fused``: ``tf.nn.conv2d``/``conv1d`` and Keras's ``Conv1D``/``Conv2D``;
``conv_variants.depthwise_conv2d_fused`` and ``conv2d_transpose_fused``: the depthwise and transposed
convolutions and their layers; ``pooling.pool2d`` (its general, tiled and compiled paths): ``tf.nn.max_pool*``/
``avg_pool*`` (1-D and 2-D) and the Keras pooling layers; ``normalization._normalize`` and its compiled
``_layer_norm_rows``: ``BatchNormalization`` and ``LayerNormalization``; ``embedding.embedding``: ``Embedding``) keep their fast raw-array backward passes
for first-order gradients. When their gradient must be differentiated again, the rule here recomputes the op
from differentiable ops (padding, strided slices, one matrix product for a convolution; the window's first
maximum or its mean for pooling, exactly the first-order routing; means and variances for a normalization)
and takes that computation's gradient on a tape, so the outer tapes record it. Keras layers record these ops
under the layer's name, so the rules are registered under the kernel's backward closure
(``core.higher_order.closure_key``).

>>> import featherflow as ff, numpy as np
>>> x = ff.Variable(np.arange(16.0).reshape(1, 4, 4, 1))
>>> w = ff.constant(np.ones((2, 2, 1, 1)))
>>> with ff.GradientTape() as outer:
...     with ff.GradientTape() as inner:
...         y = ff.reduce_sum(ff.nn.conv2d(x, w, 1, "VALID") ** 2)
...     g = inner.gradient(y, x)
...     penalty = ff.reduce_sum(g * g)
>>> outer.gradient(penalty, x).shape
(1, 4, 4, 1)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.gradients import register_gradient
from featherflow.core.tensor import Tensor


def _vjp(reference, op, g):
    """The gradient of ``reference(*op.inputs)`` for the output gradient ``g``, computed on a tape of
    differentiable ops (recorded by the outer tapes)."""
    from featherflow.core.tape import GradientTape

    inputs = list(op.inputs)
    with GradientTape() as tape:
        for t in inputs:
            tape.watch(t)
        y = reference(*inputs)
    return tuple(tape.gradient(y, inputs, output_gradients=g))


def _windows(kh, kw, strides, dilations, ho, wo):
    """One ``(rows, cols)`` slice pair per window position, row-major."""
    return [(slice(i * dilations[0], i * dilations[0] + (ho - 1) * strides[0] + 1, strides[0]),
             slice(j * dilations[1], j * dilations[1] + (wo - 1) * strides[1] + 1, strides[1]))
            for i in range(kh) for j in range(kw)]


def _patches(x, pads, slices):
    """``(n, out_rows, out_cols, positions, channels)``: the windows of ``x`` padded by ``pads``, as ops."""
    from featherflow.ops.indexing import getitem
    from featherflow.ops.pad import pad
    from featherflow.ops.shape import stack

    (pt, pb), (pl, pr) = pads
    padded = pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]]) if pt or pb or pl or pr else x
    return stack([getitem(padded, (slice(None), rows, cols, slice(None))) for rows, cols in slices], axis=3)


@register_gradient("featherflow.ops.conv:conv2d_fused.<locals>.backward")
def _conv2d_rule(op, g):
    from featherflow.ops.linalg import matmul
    from featherflow.ops.shape import reshape

    c = op.captured
    ho, wo, pads, strides, dilations, activation = c["geometry"]
    kh, kw = c["wv"].shape[:2]
    slices = _windows(kh, kw, strides, dilations, ho, wo)

    def reference(x, kernel, bias=None):
        n, channels, filters = x.value.shape[0], x.value.shape[3], kernel.value.shape[3]
        cols = reshape(_patches(x, pads, slices), (-1, kh * kw * channels))
        z = matmul(cols, reshape(kernel, (kh * kw * channels, filters)))
        if bias is not None:
            z = z + bias
        return _activate(reshape(z, (n, ho, wo, filters)), activation)

    return _vjp(reference, op, g)


def _activate(z, activation):
    """The fused activation (``None``, ``"relu"``, ``"sigmoid"`` or ``"tanh"``) as an op."""
    from featherflow.ops.nn import relu, sigmoid, tanh

    return {None: lambda t: t, "relu": relu, "sigmoid": sigmoid, "tanh": tanh}[activation](z)


@register_gradient("featherflow.ops.conv_variants:depthwise_conv2d_fused.<locals>.backward")
def _depthwise_rule(op, g):
    from featherflow.ops.reduce import reduce_sum
    from featherflow.ops.shape import expand_dims, reshape

    c = op.captured
    ho, wo, pads, strides, dilations, activation = c["layout"]
    kh, kw, _, mult = c["wv"].shape
    slices = _windows(kh, kw, strides, dilations, ho, wo)

    def reference(x, kernel, bias=None):
        n, channels = x.value.shape[0], x.value.shape[3]
        taps = reshape(kernel, (len(slices), channels, mult))
        z = reduce_sum(expand_dims(_patches(x, pads, slices), -1) * taps, axis=3)
        z = reshape(z, (n, ho, wo, channels * mult))
        return _activate(z if bias is None else z + bias, activation)

    return _vjp(reference, op, g)


@register_gradient("featherflow.ops.conv_variants:conv2d_transpose_fused.<locals>.backward")
def _conv2d_transpose_rule(op, g):
    """The transposed convolution is the adjoint of ``y -> conv2d(pad(y), kernel)`` (what its raw backward
    computes); its reference takes that adjoint on a tape, so it stays differentiable in both inputs."""
    from featherflow.core.tape import GradientTape
    from featherflow.ops.creation import zeros
    from featherflow.ops.linalg import matmul
    from featherflow.ops.shape import reshape

    c = op.captured
    ho, wo, pt, pl, full_h, full_w, strides, dilations, activation = c["layout"]
    kh, kw = c["wv"].shape[:2]
    h, w = c["xv"].shape[1:3]
    pads = ((pt, full_h - pt - ho), (pl, full_w - pl - wo))
    slices = _windows(kh, kw, strides, dilations, h, w)

    def reference(x, kernel, bias=None):
        n, filters = x.value.shape[0], kernel.value.shape[2]
        dy = zeros((n, ho, wo, filters), dtype=x.value.dtype)
        with GradientTape() as tape:
            tape.watch(dy)
            cols = reshape(_patches(dy, pads, slices), (-1, kh * kw * filters))
            # the raw backward's `dcols @ wmat.T`: kernel (kh, kw, out, in) as a (kh*kw*out, in) matrix
            forward = reshape(matmul(cols, reshape(kernel, (kh * kw * filters, -1))), (n, h, w, -1))
        z = tape.gradient(forward, dy, output_gradients=x)
        return _activate(z if bias is None else z + bias, activation)

    return _vjp(reference, op, g)


def _pool_reference(kind, pads, slices, count=None):
    """Max pooling as the window's first maximum (the routing of the first-order kernels, ties included) or
    average pooling as the window sum over ``count`` (TensorFlow's: padded entries do not count)."""
    from featherflow.ops.reduce import reduce_mean, reduce_sum

    def reference(x):
        windows = _patches(x, pads, slices)
        if kind == "avg":
            if count is None:
                return reduce_mean(windows, axis=3)
            return reduce_sum(windows, axis=3) / Tensor(np.asarray(count, dtype=x.value.dtype))
        (pt, pb), (pl, pr) = pads
        raw = np.pad(np.asarray(x.value), [(0, 0), (pt, pb), (pl, pr), (0, 0)], constant_values=-np.inf)
        first = np.argmax(np.stack([raw[:, rows, cols, :] for rows, cols in slices], axis=3), axis=3)
        onehot = (np.arange(len(slices))[None, None, None, :, None] == first[:, :, :, None, :])
        return reduce_sum(windows * Tensor(onehot.astype(x.value.dtype)), axis=3)

    return reference


@register_gradient("featherflow.ops.pooling:pool2d.<locals>.backward")
def _pool2d_rule(op, g):
    from featherflow.ops.pooling import _window_count_array

    c = op.captured
    kind, kh, kw, strides, ho, wo, pads = c["geometry"]
    xv = c["xv"]
    count = None if kind == "max" else _window_count_array(xv.shape[1], xv.shape[2], ho, wo, c["geometry"],
                                                           xv.dtype)
    return _vjp(_pool_reference(kind, pads, _windows(kh, kw, strides, (1, 1), ho, wo), count), op, g)


@register_gradient("featherflow.ops.pooling:pool2d.<locals>.tiled_backward")
def _tiled_pool_rule(op, g):
    c = op.captured
    kh, kw, ho, wo = c["geometry"]
    slices = _windows(kh, kw, (kh, kw), (1, 1), ho, wo)
    return _vjp(_pool_reference(c["kind"], ((0, 0), (0, 0)), slices), op, g)


@register_gradient("featherflow.ops.normalization:_batch_norm_channels.<locals>.backward")
@register_gradient("featherflow.ops.normalization:_layer_norm_rows.<locals>.backward")
@register_gradient("featherflow.ops.normalization:_normalize.<locals>.backward")
def _normalize_rule(op, g):
    from featherflow.ops.math import rsqrt
    from featherflow.ops.reduce import reduce_mean

    c = op.captured
    axes, epsilon = c["attrs"].get("axes", c.get("axes")), c["attrs"]["epsilon"]
    has_gamma, has_beta = c.get("gamma") is not None, c.get("beta") is not None

    def reference(x, *params):
        mean = reduce_mean(x, axis=axes, keepdims=True)
        centered = x - mean
        variance = reduce_mean(centered * centered, axis=axes, keepdims=True)
        out = centered * rsqrt(variance + epsilon)
        params = list(params)
        if has_gamma:
            out = out * params.pop(0)
        if has_beta:
            out = out + params.pop(0)
        return out

    return _vjp(reference, op, g)


@register_gradient("featherflow.ops.embedding:embedding.<locals>.backward")
def _embedding_rule(op, g):
    from featherflow.ops.segment import unsorted_segment_sum
    from featherflow.ops.shape import reshape

    ids, table = op.captured["iv"], op.captured["tv"]
    return (unsorted_segment_sum(reshape(g, (-1, table.shape[1])), Tensor(np.asarray(ids).reshape(-1)),
                                 table.shape[0]),)
