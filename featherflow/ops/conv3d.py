"""Volumetric (3-D) convolutions and pooling, channels-last ``(batch, depth, rows, cols, channels)``.

``conv3d`` is one GEMM over an im2col matrix, as the 2-D convolution: the patches are a strided view
``(batch, out_d, out_h, out_w, kd, kh, kw, channels)`` of the padded input, copied once into a
``(batch * out_d * out_h * out_w, kd * kh * kw * channels)`` matrix, times the kernel viewed as
``(kd * kh * kw * channels, filters)``. Backward: ``dW = cols^T @ dZ``, and ``dX`` adds each kernel offset's
block of ``dZ @ W^T`` into its strided window (``kd * kh * kw`` slice-adds, no loop over pixels).
``conv3d_transpose`` is that input gradient run forward (and its backward an im2col GEMM). Pooling combines
one strided slice per window offset; max pooling sends each window's gradient to its first maximum and
average pooling with ``"SAME"`` divides by the number of real entries, as TensorFlow.

>>> import numpy as np
>>> x = np.ones((1, 4, 4, 4, 1), "float32")
>>> conv3d(x, np.ones((2, 2, 2, 1, 3), "float32"), [1, 2, 2, 2, 1], "VALID").numpy()[0, :, :, :, 0]
array([[[8., 8.],
        [8., 8.]],
<BLANKLINE>
       [[8., 8.],
        [8., 8.]]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, binary_operands
from featherflow.ops._host import on_host
from featherflow.ops.array_kernels import apply_activation
from featherflow.ops.conv_utils import activation_grad, padding_amounts, parse_padding, tuple_arg
from featherflow.ops.shape import transpose

_ACTIVATIONS = (None, "linear", "relu", "sigmoid", "tanh")


def _geometry(spatial, kernel, strides, dilations, padding, op):
    """Per axis ``(out, pad_before, pad_after)``; an error names every argument when an output is empty."""
    dims = []
    for axis, size in enumerate(spatial):
        k_eff = (kernel[axis] - 1) * dilations[axis] + 1
        pad = padding if isinstance(padding, str) else padding[axis]
        dims.append(padding_amounts(size, k_eff, strides[axis], pad))
    if any(out <= 0 for out, _, _ in dims):
        raise ValueError(f"{op}: one of the dimensions in the output is <= 0 due to downsampling. Consider increasing "
                         f"the input size. Received input spatial shape {tuple(spatial)} with kernel {tuple(kernel)}, "
                         f"strides {tuple(strides)}, dilations {tuple(dilations)} and padding {padding!r}.")
    return dims


def _pad(xv, pads, fill=0.0):
    if not any(before or after for before, after in pads):
        return xv
    xp = array_module(xv)
    return xp.pad(xv, [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)], constant_values=fill)


def _windows(xpad, kernel, strides, dilations, out):
    """Strided view ``(batch, *out, *kernel, channels)`` of the padded input (no copy)."""
    xp = array_module(xpad)
    s = xpad.strides
    shape = (xpad.shape[0],) + tuple(out) + tuple(kernel) + (xpad.shape[-1],)
    strides_ = ((s[0],) + tuple(s[1 + a] * strides[a] for a in range(3))
                + tuple(s[1 + a] * dilations[a] for a in range(3)) + (s[-1],))
    return xp.lib.stride_tricks.as_strided(xpad, shape=shape, strides=strides_, writeable=False)


def _offset_slices(offset, strides, dilations, out):
    return tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, s, d, n in zip(offset, strides, dilations, out))


def _scatter(blocks, padded_shape, kernel, strides, dilations, out):
    """Add ``blocks`` ``(batch, *out, *kernel, channels)`` into a zeroed ``padded_shape`` array, each kernel
    offset's block into its strided window."""
    xp = array_module(blocks)
    full = xp.zeros(padded_shape, dtype=blocks.dtype)
    for offset in np.ndindex(*kernel):
        window = (slice(None),) + _offset_slices(offset, strides, dilations, out) + (slice(None),)
        full[window] += blocks[(slice(None),) * 4 + offset]
    return full


def _crop(full, pads, spatial):
    index = (slice(None),) + tuple(slice(b, b + n) for (b, _), n in zip(pads, spatial)) + (slice(None),)
    return full[index]


def conv3d_fused(x, kernel, bias=None, activation=None, strides=(1, 1, 1), padding="VALID", dilations=(1, 1, 1),
                 op="conv3d") -> Tensor:
    """``activation(conv3d(x, kernel) + bias)`` as one op (NDHWC input, DHWIO kernel).

    Args:
        x: ``(batch, depth, rows, cols, in_channels)``.
        kernel: ``(kd, kh, kw, in_channels, filters)``.
        bias: optional ``(filters,)``.
        activation: ``None``, ``"relu"``, ``"sigmoid"`` or ``"tanh"``.
        strides, dilations: three ints; padding: ``"SAME"``, ``"VALID"`` or three (before, after) pairs.
    """
    x, kernel = binary_operands(x, kernel, op)
    xv, wv = x.value, kernel.value
    if xv.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point tensor, received {xv.dtype.name}.")
    if xv.ndim != 5 or wv.ndim != 5:
        raise ValueError(f"{op}: expected a 5-D input (batch, depth, rows, cols, channels) and a 5-D kernel "
                         f"(kd, kh, kw, in_channels, filters). Received: input.shape={xv.shape}, "
                         f"filters.shape={wv.shape}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"{op}: activation must be one of {_ACTIVATIONS}. Received: activation={activation!r}")
    c, ksize = xv.shape[-1], wv.shape[:3]
    if wv.shape[3] != c:
        raise ValueError(f"{op}: input depth ({c}) must equal the kernel's input channels ({wv.shape[3]}). "
                         f"Received: input.shape={xv.shape}, filters.shape={wv.shape}")
    spatial = xv.shape[1:4]
    dims = _geometry(spatial, ksize, strides, dilations, padding, op)
    out = tuple(d[0] for d in dims)
    pads = tuple((d[1], d[2]) for d in dims)
    inputs = (x, kernel)
    if bias is not None:
        bias = as_float_tensor(bias, op, "bias")
        inputs = (x, kernel, bias)
    layout = (out, pads, tuple(ksize), strides, dilations, activation)
    result, cols = on_host(_conv3d_forward, xv, wv, None if bias is None else bias.value, layout)

    def backward(g, needs):
        return on_host(_conv3d_backward, g, result, cols, wv, xv.shape, layout, tuple(needs))

    return record(op, inputs, result, backward)


def conv3d_transpose_fused(x, kernel, bias=None, activation=None, out_size=None, strides=(1, 1, 1), padding="VALID",
                           dilations=(1, 1, 1), op="conv3d_transpose") -> Tensor:
    """``activation(conv3d_transpose(x, kernel) + bias)`` as one op; kernel ``(kd, kh, kw, filters, in_channels)``.

    Output position ``o`` along an axis receives ``x[i] * kernel[k]`` for ``o + pad_before = i * s + k * d``,
    ``pad_before`` being the forward convolution's padding for an input of ``out_size``.
    """
    x, kernel = binary_operands(x, kernel, op)
    xv, wv = x.value, kernel.value
    if xv.ndim != 5 or wv.ndim != 5:
        raise ValueError(f"{op}: expected a 5-D input and a 5-D kernel (kd, kh, kw, out_channels, in_channels). "
                         f"Received: input.shape={xv.shape}, filters.shape={wv.shape}")
    c, ksize = xv.shape[-1], wv.shape[:3]
    if wv.shape[4] != c:
        raise ValueError(f"{op}: input depth ({c}) must equal the kernel's last axis ({wv.shape[4]}). "
                         f"Received: input.shape={xv.shape}, filters.shape={wv.shape}")
    out_size = tuple(int(v) for v in out_size)
    spatial = xv.shape[1:4]
    dims = _geometry(out_size, ksize, strides, dilations, padding, op)
    if tuple(d[0] for d in dims) != tuple(spatial):
        raise ValueError(f"{op}: output_shape {out_size} does not map back to the input's spatial shape {spatial} "
                         f"with strides {strides} and padding {padding!r} (the forward conv3d would give "
                         f"{tuple(d[0] for d in dims)}).")
    full = tuple(max((i - 1) * s + (kk - 1) * d + 1, p[1] + o)
                 for i, s, kk, d, p, o in zip(spatial, strides, ksize, dilations, dims, out_size))
    pads = tuple((p[1], f - p[1] - o) for p, f, o in zip(dims, full, out_size))
    inputs = (x, kernel)
    if bias is not None:
        bias = as_float_tensor(bias, op, "bias")
        inputs = (x, kernel, bias)
    layout = (out_size, full, pads, tuple(ksize), strides, dilations, activation)
    result = on_host(_conv3d_transpose_forward, xv, wv, None if bias is None else bias.value, layout)

    def backward(g, needs):
        return on_host(_conv3d_transpose_backward, g, result, xv, wv, layout, tuple(needs))

    return record(op, inputs, result, backward)


def _conv3d_forward(xv, wv, bv, layout):
    """The array work of ``conv3d_fused`` (a run of ``on_host``): ``(result, cols)``, ``cols`` the patch matrix
    the backward reuses."""
    out, pads, ksize, strides, dilations, activation = layout
    n, c, filters = xv.shape[0], xv.shape[-1], wv.shape[4]
    k = int(np.prod(ksize)) * c
    cols = _windows(_pad(xv, pads), ksize, strides, dilations, out).reshape(-1, k)  # the one copy
    z = cols @ wv.reshape(k, filters)
    if bv is not None:
        z += bv
    return apply_activation(z, activation).reshape((n,) + out + (filters,)), cols


def _conv3d_backward(g, result, cols, wv, x_shape, layout, needs):
    """The gradients ``(gx, gw[, gb])`` of ``conv3d_fused`` (``None`` where not needed; a run of ``on_host``)."""
    out, pads, ksize, strides, dilations, activation = layout
    n, c, filters = x_shape[0], x_shape[-1], wv.shape[4]
    spatial = tuple(x_shape[1:4])
    dz = activation_grad(g, result, activation).reshape(-1, filters)
    gx = gw = None
    if needs[1]:
        gw = (dz.T @ cols).T.reshape(wv.shape)
    if needs[0]:
        blocks = (dz @ wv.reshape(-1, filters).T).reshape((n,) + out + ksize + (c,))
        padded = (n,) + tuple(s + b + a for s, (b, a) in zip(spatial, pads)) + (c,)
        gx = _crop(_scatter(blocks, padded, ksize, strides, dilations, out), pads, spatial)
    if len(needs) == 3:
        return gx, gw, dz.sum(axis=0) if needs[2] else None
    return gx, gw


def _conv3d_transpose_forward(xv, wv, bv, layout):
    """The array work of ``conv3d_transpose_fused`` (a run of ``on_host``): its output."""
    out_size, full, pads, ksize, strides, dilations, activation = layout
    n, c, filters = xv.shape[0], xv.shape[-1], wv.shape[3]
    spatial = tuple(xv.shape[1:4])
    wmat = wv.transpose(4, 0, 1, 2, 3).reshape(c, -1)  # (in, kd*kh*kw*out)
    blocks = (xv.reshape(-1, c) @ wmat).reshape((n,) + spatial + ksize + (filters,))
    z = np.ascontiguousarray(_crop(_scatter(blocks, (n,) + full + (filters,), ksize, strides, dilations, spatial),
                                   pads, out_size))
    if bv is not None:
        z += bv
    return apply_activation(z, activation)


def _conv3d_transpose_backward(g, result, xv, wv, layout, needs):
    """The gradients ``(gx, gw[, gb])`` of ``conv3d_transpose_fused`` (a run of ``on_host``)."""
    out_size, full, pads, ksize, strides, dilations, activation = layout
    c, filters = xv.shape[-1], wv.shape[3]
    k = int(np.prod(ksize)) * filters
    dz = activation_grad(g, result, activation)
    dcols = _windows(_pad(dz, pads), ksize, strides, dilations, tuple(xv.shape[1:4])).reshape(-1, k)
    gx = gw = None
    if needs[0]:
        gx = (dcols @ wv.transpose(4, 0, 1, 2, 3).reshape(c, k).T).reshape(xv.shape)
    if needs[1]:
        gw = (xv.reshape(-1, c).T @ dcols).reshape((c,) + ksize + (filters,)).transpose(1, 2, 3, 4, 0)
    if len(needs) == 3:
        return gx, gw, dz.reshape(-1, filters).sum(axis=0) if needs[2] else None
    return gx, gw


def _transpose_in(x, channels_first):
    return transpose(x, (0, 2, 3, 4, 1)) if channels_first else x


def _transpose_out(x, channels_first):
    return transpose(x, (0, 4, 1, 2, 3)) if channels_first else x


def _channels_first(data_format, op):
    if data_format in (None, "NDHWC", "channels_last"):
        return False
    if data_format in ("NCDHW", "channels_first"):
        return True
    raise ValueError(f'{op}: data_format must be "NDHWC" or "NCDHW". Received: data_format={data_format!r}')


def conv3d(input, filters, strides, padding, data_format="NDHWC", dilations=None, name=None) -> Tensor:  # noqa: A002
    """3-D convolution (cross-correlation), ``tf.nn.conv3d``.

    Args:
        input: ``(batch, depth, rows, cols, channels)`` (``"NCDHW"`` transposed in and out).
        filters: ``(kd, kh, kw, in_channels, out_channels)``.
        strides: list of 5 ints ``[1, sd, sh, sw, 1]`` (or 1 or 3 ints).
        padding: ``"SAME"``, ``"VALID"`` or explicit pairs.
        dilations: optional, like ``strides``.

    >>> import numpy as np
    >>> conv3d(np.ones((2, 5, 5, 5, 3), "float32"), np.ones((3, 3, 3, 3, 4), "float32"), 1, "SAME").shape
    (2, 5, 5, 5, 4)
    """
    first = _channels_first(data_format, "conv3d")
    st = tuple_arg(strides, 3, "strides", "conv3d", 1 if first else None)
    dil = tuple_arg(1 if dilations is None else dilations, 3, "dilations", "conv3d", 1 if first else None)
    pad = parse_padding(padding, 3, "conv3d", first)
    out = conv3d_fused(_transpose_in(input, first), filters, None, None, st, pad, dil)
    return _transpose_out(out, first)


def conv3d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NDHWC",  # noqa: A002
                     dilations=None, name=None) -> Tensor:
    """Transposed 3-D convolution (the gradient of ``conv3d`` w.r.t. its input), ``tf.nn.conv3d_transpose``.

    Args:
        input: ``(batch, depth, rows, cols, in_channels)``.
        filters: ``(kd, kh, kw, out_channels, in_channels)``.
        output_shape: ``(batch, out_depth, out_rows, out_cols, out_channels)``.

    >>> import numpy as np
    >>> conv3d_transpose(np.ones((1, 2, 2, 2, 1), "float32"), np.ones((2, 2, 2, 3, 1), "float32"),
    ...                  (1, 4, 4, 4, 3), 2, "VALID").shape
    (1, 4, 4, 4, 3)
    """
    first = _channels_first(data_format, "conv3d_transpose")
    st = tuple_arg(strides, 3, "strides", "conv3d_transpose", 1 if first else None)
    dil = tuple_arg(1 if dilations is None else dilations, 3, "dilations", "conv3d_transpose", 1 if first else None)
    pad = parse_padding(padding, 3, "conv3d_transpose", first)
    if isinstance(output_shape, Tensor):
        output_shape = output_shape.value.tolist()
    shape = tuple(int(d) for d in output_shape)
    size = shape[2:] if first else shape[1:4]
    out = conv3d_transpose_fused(_transpose_in(input, first), filters, None, None, size, st, pad, dil)
    return _transpose_out(out, first)


def pool3d(x, kind: str, pool_size, strides, padding, op: str = "pool3d") -> Tensor:
    """Max (``kind="max"``) or average pooling of an NDHWC tensor; sizes as 3-tuples, padding parsed."""
    x = as_float_tensor(x, op, "input")
    xv = x.value
    if xv.ndim != 5:
        raise ValueError(f"{op}: expected a 5-D input (batch, depth, rows, cols, channels). "
                         f"Received: input.shape={xv.shape}")
    xp = array_module(xv)
    spatial = xv.shape[1:4]
    dims = _geometry(spatial, pool_size, strides, (1, 1, 1), padding, op)
    out = tuple(d[0] for d in dims)
    pads = tuple((d[1], d[2]) for d in dims)
    xpad = _pad(xv, pads, -np.inf if kind == "max" else 0.0)
    offsets = list(np.ndindex(*pool_size))
    windows = [(slice(None),) + _offset_slices(o, strides, (1, 1, 1), out) + (slice(None),) for o in offsets]
    result = xpad[windows[0]].copy()
    combine = xp.maximum if kind == "max" else xp.add
    for window in windows[1:]:
        combine(result, xpad[window], out=result)
    count = None
    if kind == "avg":
        per_axis = []
        for (size, before, _), n_out, k, s in zip([(sz,) + tuple(p) for sz, p in zip(spatial, pads)], out,
                                                  pool_size, strides):
            starts = np.arange(n_out) * s - before
            per_axis.append(np.minimum(starts + k, size) - np.maximum(starts, 0))
        count = (per_axis[0][:, None, None] * per_axis[1][None, :, None] * per_axis[2][None, None, :])
        count = count.astype(xv.dtype)[None, :, :, :, None]
        result /= count

    def backward(g, needs):
        full = xp.zeros(xpad.shape, dtype=g.dtype)
        if kind == "avg":
            share = g / count
            for window in windows:
                full[window] += share
        else:
            remaining = g.copy()
            for index, window in enumerate(windows):
                taken = remaining * (xpad[window] == result)
                full[window] += taken
                if index + 1 < len(windows):
                    remaining -= taken
        return (_crop(full, pads, spatial),)

    return record(op, (x,), result, backward)


def _pool_op(input, ksize, strides, padding, data_format, kind, op):  # noqa: A002
    first = _channels_first(data_format, op)
    ks = tuple_arg(ksize, 3, "ksize", op, 1 if first else None)
    st = tuple_arg(strides, 3, "strides", op, 1 if first else None)
    pad = parse_padding(padding, 3, op, first)
    return _transpose_out(pool3d(_transpose_in(as_float_tensor(input, op, "input"), first), kind, ks, st, pad, op),
                          first)


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None) -> Tensor:  # noqa: A002
    """3-D max pooling of ``(batch, depth, rows, cols, channels)`` (``tf.nn.max_pool3d``).

    >>> import numpy as np
    >>> float(max_pool3d(np.arange(8.0, dtype="float32").reshape(1, 2, 2, 2, 1), 2, 2, "VALID").numpy().ravel()[0])
    7.0
    """
    return _pool_op(input, ksize, strides, padding, data_format, "max", "max_pool3d")


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None) -> Tensor:  # noqa: A002
    """3-D average pooling (``tf.nn.avg_pool3d``); with ``"SAME"`` each window averages its real entries only.

    >>> import numpy as np
    >>> float(avg_pool3d(np.arange(8.0, dtype="float32").reshape(1, 2, 2, 2, 1), 2, 2, "VALID").numpy().ravel()[0])
    3.5
    """
    return _pool_op(input, ksize, strides, padding, data_format, "avg", "avg_pool3d")
