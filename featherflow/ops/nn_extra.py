"""More of ``tf.nn``: convolution dispatchers and variants (atrous, separable, transposed 1-D, N-D ``pool``),
morphological dilation/erosion, ``crelu``, local response normalization, moments helpers, weighted and Poisson
losses, sparse embedding lookups, ``isotonic_regression``, ``max_pool_with_argmax``, fractional pooling,
``with_space_to_batch`` and the distribution helpers ``compute_average_loss`` / ``scale_regularization_loss``.

All are compositions of featherflow's differentiable ops (or wrap a recorded op), so gradients flow as in
TensorFlow.

>>> import featherflow as ff
>>> ff.nn.crelu([-1.0, 2.0]).numpy()
array([0., 2., 1., 0.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, as_tensor


def _rank_dispatch(x, op):
    rank = as_tensor(x, op, "input").value.ndim
    if rank not in (3, 4, 5):
        raise ValueError(f"{op}: expected an input of rank 3, 4 or 5 (1-D, 2-D or 3-D). Received rank {rank}")
    return rank


def convolution(input, filters, strides=None, padding="VALID", data_format=None, dilations=None,  # noqa: A002
                name=None) -> Tensor:
    """N-D convolution: ``conv1d``, ``conv2d`` or ``conv3d`` by the input's rank.

    >>> import featherflow as ff
    >>> convolution(ff.ones((1, 4, 1)), ff.ones((2, 1, 1))).numpy()[0, :, 0]
    array([2., 2., 2.], dtype=float32)
    """
    from featherflow.ops.conv import conv1d, conv2d
    from featherflow.ops.conv3d import conv3d

    rank = _rank_dispatch(input, "convolution")
    strides = 1 if strides is None else strides
    if rank == 3:
        return conv1d(input, filters, strides, padding, data_format=data_format or "NWC", dilations=dilations)
    if rank == 4:
        return conv2d(input, filters, strides, padding, data_format=data_format or "NHWC", dilations=dilations)
    return conv3d(input, filters, strides, padding, data_format=data_format or "NDHWC", dilations=dilations)


def conv(input, filter, strides, padding, explicit_paddings=(), data_format="CHANNELS_LAST", dilations=(),  # noqa: A002
         batch_dims=1, groups=1, name=None) -> Tensor:
    """``tf.conv``: an N-D convolution (N = ``filter``'s rank - 2, 2 or 3) with ``batch_dims`` leading batch
    dimensions, ``"CHANNELS_LAST"``/``"CHANNELS_FIRST"`` layouts, ``"EXPLICIT"`` padding and grouped channels.
    ``strides``/``dilations`` give one value per input dimension after the batch ones (N + 2 in all).

    >>> import featherflow as ff
    >>> ff.conv(ff.ones((2, 3, 5, 5, 4)), ff.ones((2, 2, 2, 6)), [1, 1, 1, 1], "VALID", batch_dims=2, groups=2).shape
    (2, 3, 4, 4, 6)
    """
    from featherflow.ops.pad import pad as pad_op
    from featherflow.ops.shape import concat, reshape, split, transpose

    x = as_float_tensor(input, "conv", "input")
    w = as_float_tensor(filter, "conv", "filter")
    n = w.value.ndim - 2
    batch_dims = int(batch_dims)
    if n not in (2, 3):
        raise InvalidArgumentError(f"The input must have 2 or 3 spatial dimensions but got {n}")
    if x.value.ndim != n + 1 + batch_dims:
        raise ValueError(f"conv: the input must have rank N + 1 + batch_dims = {n + 1 + batch_dims} for an (N+2)-D "
                         f"filter. Received: input.shape={x.value.shape}, "
                         f"filter.shape={w.value.shape}, batch_dims={batch_dims}")
    if data_format not in ("CHANNELS_LAST", "CHANNELS_FIRST"):
        raise ValueError(f"conv: data_format must be 'CHANNELS_LAST' or 'CHANNELS_FIRST'. Received: {data_format!r}")
    first = data_format == "CHANNELS_FIRST"
    lead = x.value.shape[:batch_dims]
    x = reshape(x, (-1,) + x.value.shape[batch_dims:])
    if first:
        x = transpose(x, [0, *range(2, n + 2), 1])
    spatial = slice(2, n + 2) if first else slice(1, n + 1)
    strides = [int(v) for v in np.asarray(strides).reshape(-1)][spatial] if np.size(strides) == n + 2 else strides
    dilations = 1 if not np.size(dilations) else (
        [int(v) for v in np.asarray(dilations).reshape(-1)][spatial] if np.size(dilations) == n + 2 else dilations)
    if padding == "EXPLICIT":
        pairs = np.asarray(explicit_paddings, dtype=np.int64).reshape(n + 2, 2)
        pairs = np.concatenate([pairs[:1], pairs[2:], pairs[1:2]]) if first else pairs
        x = pad_op(x, pairs.tolist())
        padding = "VALID"
    groups = int(groups)
    if groups == 1:
        out = convolution(x, w, strides, padding, dilations=dilations)
    else:
        if x.value.shape[-1] % groups or w.value.shape[-1] % groups:
            raise ValueError(f"conv: the input channels ({x.value.shape[-1]}) and filters ({w.value.shape[-1]}) must "
                             f"both be divisible by groups={groups}")
        outs = [convolution(xg, wg, strides, padding, dilations=dilations)
                for xg, wg in zip(split(x, groups, axis=-1), split(w, groups, axis=-1))]
        out = concat(outs, axis=-1)
    if first:
        out = transpose(out, [0, n + 1, *range(1, n + 1)])
    return reshape(out, tuple(lead) + out.value.shape[1:])


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NWC",  # noqa: A002
                     dilations=None, name=None) -> Tensor:
    """The transpose of ``conv1d`` (a ``conv2d_transpose`` over a height of 1).

    >>> import featherflow as ff
    >>> conv1d_transpose(ff.ones((1, 2, 1)), ff.ones((2, 1, 1)), [1, 4, 1], 2).numpy()[0, :, 0]
    array([1., 1., 1., 1.], dtype=float32)
    """
    from featherflow.ops.conv_variants import conv2d_transpose
    from featherflow.ops.shape import expand_dims, squeeze

    channels_first = str(data_format).upper() == "NCW"
    x = expand_dims(as_tensor(input, "conv1d_transpose", "input"), 2 if channels_first else 1)
    w = expand_dims(as_tensor(filters, "conv1d_transpose", "filters"), 0)
    shape = [int(d) for d in np.asarray(output_shape.value if isinstance(output_shape, Tensor) else output_shape)]
    shape.insert(2 if channels_first else 1, 1)
    stride = int(np.asarray(strides).reshape(-1)[-2 if np.size(strides) == 3 else 0])
    dilation = None if dilations is None else (1, int(np.asarray(dilations).reshape(-1)[0]))
    out = conv2d_transpose(x, w, shape, [1, stride], padding, data_format="NCHW" if channels_first else "NHWC",
                           dilations=dilation)
    return squeeze(out, axis=2 if channels_first else 1)


def conv_transpose(input, filters, output_shape, strides, padding="SAME", data_format=None, dilations=None,  # noqa: A002
                   name=None) -> Tensor:
    """Transposed N-D convolution, dispatched on the rank of ``output_shape`` (3, 4 or 5).

    >>> import featherflow as ff
    >>> conv_transpose(ff.ones((1, 2, 2, 1)), ff.ones((2, 2, 1, 1)), [1, 3, 3, 1], 1, "VALID").shape
    (1, 3, 3, 1)
    """
    from featherflow.ops.conv3d import conv3d_transpose
    from featherflow.ops.conv_variants import conv2d_transpose

    rank = len(np.asarray(output_shape.value if isinstance(output_shape, Tensor) else output_shape).reshape(-1))
    if rank == 3:
        return conv1d_transpose(input, filters, output_shape, strides, padding, data_format or "NWC", dilations)
    if rank == 4:
        return conv2d_transpose(input, filters, output_shape, strides, padding, data_format or "NHWC", dilations)
    if rank == 5:
        return conv3d_transpose(input, filters, output_shape, strides, padding, data_format or "NDHWC", dilations)
    raise ValueError(f"conv_transpose: output_shape must have 3, 4 or 5 entries. Received {rank}")


def atrous_conv2d(value, filters, rate, padding, name=None) -> Tensor:
    """``conv2d`` with dilation ``rate`` (stride 1).

    >>> import featherflow as ff
    >>> atrous_conv2d(ff.ones((1, 5, 5, 1)), ff.ones((2, 2, 1, 1)), 2, "VALID").shape
    (1, 3, 3, 1)
    """
    from featherflow.ops.conv import conv2d

    return conv2d(value, filters, 1, padding, dilations=int(rate))


def atrous_conv2d_transpose(value, filters, output_shape, rate, padding, name=None) -> Tensor:
    """The transpose of ``atrous_conv2d`` (its gradient w.r.t. the input).

    >>> import featherflow as ff
    >>> atrous_conv2d_transpose(ff.ones((1, 3, 3, 1)), ff.ones((2, 2, 1, 1)), [1, 5, 5, 1], 2, "VALID").shape
    (1, 5, 5, 1)
    """
    from featherflow.ops.conv_variants import conv2d_transpose

    return conv2d_transpose(value, filters, output_shape, 1, padding, dilations=int(rate))


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding, data_format=None,  # noqa: A002
                     dilations=None, name=None) -> Tensor:
    """A depthwise convolution followed by a 1x1 (pointwise) convolution mixing channels.

    >>> import featherflow as ff
    >>> separable_conv2d(ff.ones((1, 3, 3, 2)), ff.ones((2, 2, 2, 1)), ff.ones((1, 1, 2, 4)), [1, 1, 1, 1],
    ...                  "VALID").shape
    (1, 2, 2, 4)
    """
    from featherflow.ops.conv import conv2d
    from featherflow.ops.conv_variants import depthwise_conv2d

    depthwise = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format=data_format,
                                 dilations=dilations)
    return conv2d(depthwise, pointwise_filter, 1, "VALID", data_format=data_format or "NHWC")


def depthwise_conv2d_backprop_input(input_sizes, filter, out_backprop, strides, padding,  # noqa: A002
                                    data_format="NHWC", dilations=(1, 1, 1, 1), name=None) -> Tensor:
    """The gradient of ``depthwise_conv2d`` w.r.t. its input (of shape ``input_sizes``).

    >>> import featherflow as ff
    >>> depthwise_conv2d_backprop_input([1, 3, 3, 1], ff.ones((2, 2, 1, 1)), ff.ones((1, 2, 2, 1)), [1, 1, 1, 1],
    ...                                 "VALID").numpy()[0, :, :, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]], dtype=float32)
    """
    from featherflow.ops.conv_variants import depthwise_conv2d
    from featherflow.ops.eager_api import _conv_gradient

    return _conv_gradient(depthwise_conv2d, 0, input_sizes, filter, out_backprop,
                          {"strides": strides, "padding": padding, "data_format": data_format,
                           "dilations": list(dilations)[1:3] if dilations is not None and len(dilations) == 4
                           else dilations})


def depthwise_conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                                     data_format="NHWC", dilations=(1, 1, 1, 1), name=None) -> Tensor:
    """The gradient of ``depthwise_conv2d`` w.r.t. its filter (of shape ``filter_sizes``).

    >>> import featherflow as ff
    >>> depthwise_conv2d_backprop_filter(ff.ones((1, 3, 3, 1)), [2, 2, 1, 1], ff.ones((1, 2, 2, 1)),
    ...                                  [1, 1, 1, 1], "VALID").numpy()[:, :, 0, 0]
    array([[4., 4.],
           [4., 4.]], dtype=float32)
    """
    from featherflow.ops.conv_variants import depthwise_conv2d
    from featherflow.ops.eager_api import _conv_gradient

    return _conv_gradient(depthwise_conv2d, 1, input, filter_sizes, out_backprop,
                          {"strides": strides, "padding": padding, "data_format": data_format,
                           "dilations": list(dilations)[1:3] if dilations is not None and len(dilations) == 4
                           else dilations})


def _patches(x, kh, kw, strides, rates, padding, fill):
    """``(batch, out_h, out_w, kh * kw, channels)`` windows of an NHWC tensor (padding with ``fill``)."""
    from featherflow.ops.conv_utils import padding_amounts
    from featherflow.ops.indexing import getitem
    from featherflow.ops.pad import pad
    from featherflow.ops.shape import stack

    sh, sw = strides
    rh, rw = rates
    geometry = [padding_amounts(size, (k - 1) * r + 1, s, padding) for size, k, r, s in
                zip(x.value.shape[1:3], (kh, kw), (rh, rw), (sh, sw))]
    if any(g[1] or g[2] for g in geometry):
        x = pad(x, [[0, 0], [geometry[0][1], geometry[0][2]], [geometry[1][1], geometry[1][2]], [0, 0]],
                constant_values=fill)
    out_h, out_w = geometry[0][0], geometry[1][0]
    pieces = []
    for i in range(kh):
        for j in range(kw):
            pieces.append(getitem(x, (slice(None), slice(i * rh, i * rh + sh * (out_h - 1) + 1, sh),
                                      slice(j * rw, j * rw + sw * (out_w - 1) + 1, sw), slice(None))))
    return stack(pieces, axis=3)


def _four(values, op, arg):
    values = [int(v) for v in np.asarray(values).reshape(-1)]
    if len(values) != 4 or values[0] != 1 or values[3] != 1:
        raise ValueError(f"{op}: `{arg}` must be [1, h, w, 1]. Received: {values}")
    return values[1], values[2]


def dilation2d(input, filters, strides, padding, data_format, dilations, name=None) -> Tensor:  # noqa: A002
    """Grayscale morphological dilation: ``out = max over (dy, dx) of input[.., y*s + dy*r, x*s + dx*r, c] +
    filters[dy, dx, c]`` (NHWC; ``filters`` of shape ``(kh, kw, channels)``).

    >>> import featherflow as ff
    >>> dilation2d(ff.zeros((1, 3, 3, 1)), ff.ones((2, 2, 1)), [1, 1, 1, 1], "VALID", "NHWC", [1, 1, 1, 1]).shape
    (1, 2, 2, 1)
    """
    from featherflow.ops.reduce import reduce_max

    if str(data_format).upper() != "NHWC":
        raise ValueError(f"dilation2d: only data_format='NHWC' is supported, as in TensorFlow. Received: "
                         f"{data_format!r}")
    x = as_float_tensor(input, "dilation2d", "input")
    k = as_tensor(filters, "dilation2d", "filters", dtype=x.value.dtype) if not isinstance(filters, Tensor) else filters
    kh, kw, channels = k.value.shape
    windows = _patches(x, kh, kw, _four(strides, "dilation2d", "strides"), _four(dilations, "dilation2d", "dilations"),
                       str(padding).upper(), -np.inf)
    from featherflow.ops.shape import reshape

    return reduce_max(windows + reshape(k, (kh * kw, channels)), axis=3)


def erosion2d(value, filters, strides, padding, data_format, dilations, name=None) -> Tensor:
    """Grayscale morphological erosion: ``-dilation2d(-value, reverse(filters))``.

    >>> import featherflow as ff
    >>> erosion2d(ff.zeros((1, 3, 3, 1)), ff.ones((2, 2, 1)), [1, 1, 1, 1], "VALID", "NHWC", [1, 1, 1, 1]).numpy()[0, 0, 0]
    array([-1.], dtype=float32)
    """
    from featherflow.ops.shape import reverse

    return -dilation2d(-as_float_tensor(value, "erosion2d", "value"), reverse(filters, [0, 1]), strides, padding,
                       data_format, dilations)


def max_pool_with_argmax(input, ksize, strides, padding, data_format="NHWC", output_dtype="int64",  # noqa: A002
                         include_batch_in_index=False, name=None) -> tuple:
    """``max_pool`` plus the flat index of each maximum: ``((y * width + x) * channels + c)`` (plus the batch
    offset with ``include_batch_in_index``).

    >>> import featherflow as ff
    >>> values, where = max_pool_with_argmax(ff.reshape(ff.range(16.0), (1, 4, 4, 1)), 2, 2, "VALID")
    >>> where.numpy()[0, :, :, 0]
    array([[ 5,  7],
           [13, 15]])
    """
    from featherflow.ops.pooling import max_pool2d

    if str(data_format).upper() != "NHWC":
        raise ValueError("max_pool_with_argmax: only NHWC is supported, as in TensorFlow.")
    x = as_tensor(input, "max_pool_with_argmax", "input")
    values = max_pool2d(x, ksize, strides, padding)
    b, h, w, c = x.value.shape
    kh, kw = (ksize, ksize) if isinstance(ksize, int) else tuple(np.asarray(ksize).reshape(-1)[-3:-1]) \
        if np.size(ksize) == 4 else tuple(np.asarray(ksize).reshape(-1))
    sh, sw = (strides, strides) if isinstance(strides, int) else tuple(np.asarray(strides).reshape(-1)[-3:-1]) \
        if np.size(strides) == 4 else tuple(np.asarray(strides).reshape(-1))
    flat = np.arange(h * w * c).reshape(1, h, w, c) + (np.arange(b).reshape(b, 1, 1, 1) * h * w * c
                                                        if include_batch_in_index else 0)
    flat = np.broadcast_to(flat, (b, h, w, c)).astype(np.float64)
    windows = _patches(Tensor(x.value.astype(np.float64)), int(kh), int(kw), (int(sh), int(sw)), (1, 1),
                       str(padding).upper(), -np.inf).value
    ids = _patches(Tensor(flat), int(kh), int(kw), (int(sh), int(sw)), (1, 1), str(padding).upper(), -1.0).value
    best = np.argmax(windows, axis=3)
    argmax = np.take_along_axis(ids, best[:, :, :, None, :], axis=3)[:, :, :, 0, :]
    return values, Tensor(argmax.astype(np.dtype(output_dtype)))


def pool(input, window_shape, pooling_type, strides=None, padding="VALID", data_format=None,  # noqa: A002
         dilations=None, name=None) -> Tensor:
    """N-D max or average pooling (``pooling_type`` ``"MAX"``/``"AVG"``) over 1, 2 or 3 spatial dimensions.

    >>> import featherflow as ff
    >>> pool(ff.ones((1, 4, 4, 1)), [2, 2], "AVG", strides=[2, 2]).shape
    (1, 2, 2, 1)
    """
    from featherflow.ops.conv3d import avg_pool3d, max_pool3d
    from featherflow.ops.pooling import avg_pool, max_pool

    kind = str(pooling_type).upper()
    if kind not in ("MAX", "AVG"):
        raise ValueError(f'pool: pooling_type must be "MAX" or "AVG". Received: {pooling_type!r}')
    if dilations is not None and any(int(d) != 1 for d in np.asarray(dilations).reshape(-1)):
        return with_space_to_batch(input, dilations, padding, lambda x, p, _: pool(x, window_shape, kind, strides,
                                                                                   p, data_format))
    window = [int(w) for w in np.asarray(window_shape).reshape(-1)]
    strides = window if strides is None else [int(s) for s in np.asarray(strides).reshape(-1)]
    if len(window) == 3:
        fn = max_pool3d if kind == "MAX" else avg_pool3d
        return fn(input, window, strides, padding, data_format=data_format or "NDHWC")
    fn = max_pool if kind == "MAX" else avg_pool
    return fn(input, window, strides, padding, data_format=data_format)


def with_space_to_batch(input, dilation_rate, padding, op, filter_shape=None, spatial_dims=None,  # noqa: A002
                        data_format=None) -> Tensor:
    """Run ``op(converted_input, num_spatial_dims, padding)`` on the space-to-batch form of ``input`` so that a
    stride-1 op behaves as its ``dilation_rate``-dilated version, then undo the transform.

    >>> import featherflow as ff
    >>> y = with_space_to_batch(ff.ones((1, 4, 4, 1)), [2, 2], "VALID", lambda x, n, p: x * 2.0)
    >>> y.shape
    (1, 4, 4, 1)
    """
    from featherflow.ops.blocks import batch_to_space, required_space_to_batch_paddings, space_to_batch_nd

    x = as_tensor(input, "with_space_to_batch", "input")
    rates = [int(r) for r in np.asarray(dilation_rate).reshape(-1)]
    spatial = x.value.shape[1:1 + len(rates)]
    if str(padding).upper() == "SAME" and filter_shape is not None:
        kernel = np.asarray(filter_shape).reshape(-1)[:len(rates)]
        total = (kernel - 1) * np.asarray(rates)
        base = np.stack([total // 2, total - total // 2], axis=1)
    else:
        base = np.zeros((len(rates), 2), np.int64)
    paddings, crops = required_space_to_batch_paddings(list(spatial), rates, base)
    converted = space_to_batch_nd(x, rates, paddings)
    result = op(converted, len(rates), "VALID" if str(padding).upper() == "SAME" else padding)
    return batch_to_space(result, rates, crops)


def _fractional_sequence(size, ratio, pseudo_random, overlapping, rng):
    out_size = int(size / ratio)
    if pseudo_random:
        alpha = size / out_size
        u = rng.uniform(0, 1)
        bounds = np.ceil(alpha * (np.arange(out_size + 1) + u)).astype(np.int64) - int(np.ceil(alpha * u))
    else:
        counts = np.full(out_size, size // out_size)
        counts[:size - counts.sum()] += 1
        rng.shuffle(counts)
        bounds = np.concatenate([[0], np.cumsum(counts)])
    bounds[-1] = size
    return bounds


def _fractional_pool(value, pooling_ratio, pseudo_random, overlapping, seed, kind):
    from featherflow.ops.segment import unsorted_segment_max, unsorted_segment_mean
    from featherflow.ops.shape import reshape, transpose

    x = as_float_tensor(value, f"fractional_{kind}_pool", "value")
    ratios = [float(r) for r in np.asarray(pooling_ratio).reshape(-1)]
    if len(ratios) != 4 or ratios[0] != 1.0 or ratios[3] != 1.0 or min(ratios[1:3]) < 1.0:
        raise ValueError(f"fractional_{kind}_pool: pooling_ratio must be [1.0, rh >= 1, rw >= 1, 1.0]. Received: "
                         f"{ratios}")
    b, h, w, c = x.value.shape
    rng = np.random.default_rng(None if not seed else int(seed))
    rows = _fractional_sequence(h, ratios[1], pseudo_random, overlapping, rng)
    cols = _fractional_sequence(w, ratios[2], pseudo_random, overlapping, rng)
    row_id = np.searchsorted(rows, np.arange(h), side="right") - 1
    col_id = np.searchsorted(cols, np.arange(w), side="right") - 1
    out_h, out_w = len(rows) - 1, len(cols) - 1
    cell = (row_id[:, None] * out_w + col_id[None, :]).reshape(-1)
    if overlapping:  # the boundary row/column also belongs to the previous cell: pool each cell's window
        from featherflow.ops.indexing import getitem
        from featherflow.ops.reduce import reduce_max, reduce_mean
        from featherflow.ops.shape import stack

        cells = []
        for i in range(out_h):
            for j in range(out_w):
                window = getitem(x, (slice(None), slice(rows[i], min(rows[i + 1] + 1, h)),
                                     slice(cols[j], min(cols[j + 1] + 1, w)), slice(None)))
                cells.append((reduce_max if kind == "max" else reduce_mean)(window, axis=[1, 2]))
        out = reshape(stack(cells, axis=1), (b, out_h, out_w, c))
    else:
        flat = transpose(reshape(x, (b, h * w, c)), [1, 0, 2])
        pooled = (unsorted_segment_max if kind == "max" else unsorted_segment_mean)(flat, cell, out_h * out_w)
        out = reshape(transpose(pooled, [1, 0, 2]), (b, out_h, out_w, c))
    return out, Tensor(rows), Tensor(cols)


def fractional_max_pool(value, pooling_ratio, pseudo_random=False, overlapping=False, seed=0, name=None) -> tuple:
    """Max pooling over a random partition into ``size / ratio`` cells per axis (Graham, 2014): returns
    ``(output, row_pooling_sequence, col_pooling_sequence)``.

    >>> import featherflow as ff
    >>> out, rows, cols = fractional_max_pool(ff.ones((1, 6, 6, 1)), [1.0, 1.5, 1.5, 1.0], seed=1)
    >>> out.shape, rows.shape
    ((1, 4, 4, 1), (5,))
    """
    return _fractional_pool(value, pooling_ratio, pseudo_random, overlapping, seed, "max")


def fractional_avg_pool(value, pooling_ratio, pseudo_random=False, overlapping=False, seed=0, name=None) -> tuple:
    """Average pooling over a random partition into ``size / ratio`` cells per axis (see ``fractional_max_pool``).

    >>> import featherflow as ff
    >>> fractional_avg_pool(ff.ones((1, 6, 6, 1)), [1.0, 2.0, 2.0, 1.0], seed=1)[0].shape
    (1, 3, 3, 1)
    """
    return _fractional_pool(value, pooling_ratio, pseudo_random, overlapping, seed, "avg")


def crelu(features, axis=-1, name=None) -> Tensor:
    """Concatenated ReLU: ``concat([relu(x), relu(-x)], axis)`` (Shang et al., 2016).

    >>> crelu([[-1.0, 2.0]]).numpy()
    array([[0., 2., 1., 0.]], dtype=float32)
    """
    from featherflow.ops.nn import relu
    from featherflow.ops.shape import concat

    x = as_tensor(features, "crelu", "features")
    return concat([relu(x), relu(-x)], axis=axis)


def local_response_normalization(input, depth_radius=5, bias=1, alpha=1, beta=0.5, name=None) -> Tensor:  # noqa: A002
    """``x / (bias + alpha * sum(x^2 over depth_radius neighbours on the last axis)) ** beta``.

    >>> import featherflow as ff
    >>> local_response_normalization(ff.ones((1, 1, 1, 3)), depth_radius=1, alpha=1.0, beta=1.0).numpy()[0, 0, 0]
    array([0.33333334, 0.25      , 0.33333334], dtype=float32)
    """
    from featherflow.ops.pad import pad
    from featherflow.ops.reduce import cumsum

    x = as_float_tensor(input, "local_response_normalization", "input")
    if x.value.ndim != 4:
        raise ValueError(f"local_response_normalization: expected a 4-D input. Received: {x.value.shape}")
    r = int(depth_radius)
    depth = x.value.shape[-1]
    squares = pad(x * x, [[0, 0]] * 3 + [[r + 1, r]])
    running = cumsum(squares, axis=-1)
    window = running[..., 2 * r + 1:2 * r + 1 + depth] - running[..., 0:depth]
    return x / (float(bias) + float(alpha) * window) ** float(beta)


lrn = local_response_normalization


def stateless_dropout(x, rate, seed, rng_alg=None, noise_shape=None, name=None) -> Tensor:
    """Dropout whose mask depends only on ``seed`` (shape ``[2]``): the same seed drops the same elements.

    >>> import featherflow as ff
    >>> a = ff.nn.experimental.stateless_dropout(ff.ones((4,)), 0.5, seed=[1, 2])
    >>> bool(ff.reduce_all(a == ff.nn.experimental.stateless_dropout(ff.ones((4,)), 0.5, seed=[1, 2])))
    True
    """
    from featherflow.ops.random_stateless import stateless_uniform

    return general_dropout(x, rate, lambda shape, dtype: stateless_uniform(shape, seed, dtype=dtype), noise_shape)


def general_dropout(x, rate, uniform_sampler, noise_shape=None, name=None) -> Tensor:
    """Dropout with a caller-supplied ``uniform_sampler(shape, dtype)`` of ``[0, 1)`` samples: elements whose
    sample is below ``rate`` are zeroed, the rest scaled by ``1 / (1 - rate)``.

    >>> import featherflow as ff
    >>> ff.nn.experimental.general_dropout(ff.ones((2,)), 0.5, lambda s, dtype: ff.constant([0.1, 0.9])).numpy()
    array([0., 2.], dtype=float32)
    """
    from featherflow.ops.nn import scaled_by_mask

    t = as_float_tensor(x, "general_dropout", "x")
    rate = float(rate)
    if not 0 <= rate < 1:
        raise ValueError(f"general_dropout: rate must be in [0, 1). Received: rate={rate}")
    shape = t.value.shape if noise_shape is None else tuple(int(d) for d in np.asarray(noise_shape).reshape(-1))
    drawn = uniform_sampler(shape, t.value.dtype)
    samples = np.asarray(drawn.value if isinstance(drawn, Tensor) else drawn)
    mask = (samples >= rate).astype(t.value.dtype) / t.value.dtype.type(1.0 - rate)
    return scaled_by_mask(t, np.broadcast_to(mask, t.value.shape))
