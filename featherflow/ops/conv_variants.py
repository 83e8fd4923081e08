"""Transposed and depthwise 2-D convolutions (channels-last), on the helpers of :mod:`featherflow.ops.conv_utils`.

``conv2d_transpose`` is the input gradient of ``conv2d`` run forward: one batched GEMM of
per-kernel-position blocks scatter-added into the output (``col2im``), and its backward pass is an
im2col GEMM. ``depthwise_conv2d`` convolves every channel with its own filters (one broadcast
multiply-add per kernel position).

>>> import numpy as np
>>> from featherflow.ops.conv_variants import conv2d_transpose
>>> conv2d_transpose(np.ones((1, 2, 2, 1), "float32"), np.ones((2, 2, 3, 1), "float32"),
...                  (1, 4, 4, 3), 2, "VALID").numpy()[0, :, :, 0]
array([[1., 1., 1., 1.],
       [1., 1., 1., 1.],
       [1., 1., 1., 1.],
       [1., 1., 1., 1.]], dtype=float32)
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.backend.blas import use_threads_for
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._conv_col2im import applies as applies_cols
from featherflow.ops._conv_col2im import col2im_cropped
from featherflow.ops._convert import as_float_tensor, binary_operands
from featherflow.ops._host import on_host_fixed
from featherflow.ops.array_kernels import apply_activation
from featherflow.ops.conv_utils import (
    activation_grad,
    col2im_crop,
    crop,
    im2col,
    is_channels_first,
    output_geometry,
    pad_spatial,
    parse_padding,
    tuple_arg,
    weight_product,
    window,
)


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NHWC", dilations=None,  # noqa: A002
                     name=None) -> Tensor:
    """Transposed 2-D convolution (the gradient of ``conv2d`` w.r.t. its input).

    Args:
        input: ``(batch, rows, cols, in_channels)``.
        filters: ``(kh, kw, out_channels, in_channels)`` (TensorFlow's layout).
        output_shape: ``(batch, out_rows, out_cols, out_channels)``.
        strides, padding, dilations: those of the forward ``conv2d`` that maps the output back to the input.

    >>> import numpy as np
    >>> conv2d_transpose(np.ones((1, 2, 2, 1), "float32"), np.ones((2, 2, 3, 1), "float32"),
    ...                  (1, 4, 4, 3), 2, "VALID").shape
    (1, 4, 4, 3)
    """
    from featherflow.ops.shape import transpose

    channels_first = is_channels_first(data_format, "conv2d_transpose")
    strides_t = tuple_arg(strides, 2, "strides", "conv2d_transpose", 1 if channels_first else None)
    dil = tuple_arg(1 if dilations is None else dilations, 2, "dilations", "conv2d_transpose",
                     1 if channels_first else None)
    pad = parse_padding(padding, 2, "conv2d_transpose", channels_first)
    if isinstance(output_shape, Tensor):
        output_shape = output_shape.value.tolist()
    output_shape = tuple(int(d) for d in output_shape)
    if channels_first:
        input = transpose(input, (0, 2, 3, 1))
        output_shape = (output_shape[0],) + tuple(output_shape[2:]) + (output_shape[1],)
    out = conv2d_transpose_fused(input, filters, None, None, output_shape[1:3], strides_t, pad, dil)
    return transpose(out, (0, 3, 1, 2)) if channels_first else out


def conv2d_transpose_fused(x, kernel, bias=None, activation=None, out_hw=None, strides=(1, 1), padding="VALID",
                           dilations=(1, 1), op="conv2d_transpose") -> Tensor:
    """``activation(conv2d_transpose(x, kernel) + bias)`` as one op; kernel ``(kh, kw, filters, in_channels)``.

    The output position ``o`` along an axis receives ``x[i] * kernel[k]`` for ``o + pad_before = i*s + k*d``,
    where ``pad_before`` is the forward convolution's padding for an input of size ``out_hw``.
    """
    x, kernel = binary_operands(x, kernel, op)
    xv, wv = x.value, kernel.value
    if xv.ndim != 4 or wv.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input and a 4-D kernel (kh, kw, out_channels, in_channels). "
                         f"Received: input.shape={xv.shape}, filters.shape={wv.shape}")
    n, h, w, c = xv.shape
    kh, kw, filters, kc = wv.shape
    if kc != c:
        raise ValueError(f"{op}: input depth ({c}) must equal the kernel's last axis ({kc}). "
                         f"Received: input.shape={xv.shape}, filters.shape={wv.shape}")
    ho, wo = int(out_hw[0]), int(out_hw[1])
    geometry = output_geometry((ho, wo), (kh, kw), strides, dilations, padding, op)
    (fh, pt, _), (fw, pl, _) = geometry
    if (fh, fw) != (h, w):
        raise ValueError(f"{op}: output_shape {(ho, wo)} does not map back to the input's spatial shape {(h, w)} "
                         f"with strides {strides} and padding {padding!r} (the forward conv2d would give "
                         f"{(fh, fw)}).")
    # the scatter target must cover every x[i]*k[k] position and the whole (padded) output
    full_h = max((h - 1) * strides[0] + (kh - 1) * dilations[0] + 1, pt + ho)
    full_w = max((w - 1) * strides[1] + (kw - 1) * dilations[1] + 1, pl + wo)
    inputs = (x, kernel)
    if bias is not None:
        bias = as_float_tensor(bias, op, "bias")
        inputs = (x, kernel, bias)
    layout = (ho, wo, pt, pl, full_h, full_w, strides, dilations, activation)
    out = on_host_fixed(_transpose_forward, xv, wv, None if bias is None else bias.value, layout)

    def backward(g, needs):
        return on_host_fixed(_transpose_backward, g, out, xv, wv, layout, tuple(needs))

    return record(op, inputs, out, backward)


def _transpose_forward(xv, wv, bv, layout):
    """The array work of ``conv2d_transpose_fused`` (a run of ``on_host``): its output."""
    ho, wo, pt, pl, full_h, full_w, strides, dilations, activation = layout
    n, h, w, c = xv.shape
    kh, kw, filters, _ = wv.shape
    xp = array_module(xv)
    use_threads_for(n * h * w * c * kh * kw * filters)
    if applies_cols(filters, strides):
        # one GEMM of x with the (in, kh*kw*out) kernel matrix, added straight into the cropped output
        w_t = xp.ascontiguousarray(wv.transpose(3, 0, 1, 2)).reshape(c, kh * kw * filters)
        z = col2im_cropped(xv.reshape(-1, c), w_t, kh, kw, (n, ho, wo, filters), ((pt, 0), (pl, 0)), strides,
                           dilations, h, w, "convt_out")
    else:
        # kernel position (i, j) sends x through wv[i, j]^T: blocks (kh, kw, in, out)
        z = col2im_crop(xv.reshape(-1, c), wv.transpose(0, 1, 3, 2), (n, full_h, full_w, filters),
                        ((pt, full_h - pt - ho), (pl, full_w - pl - wo)), strides, dilations, h, w, "convt_out",
                        out=xp.empty((n, ho, wo, filters), xp.result_type(xv, wv)))  # own memory: not pooled
    if bv is not None:
        z += bv
    return apply_activation(z, activation)


def _transpose_backward(g, out, xv, wv, layout, needs):
    """The gradients ``(gx, gw[, gb])`` of ``conv2d_transpose_fused`` (``None`` where not needed), from the
    forward's input, kernel and output (a run of ``on_host``)."""
    ho, wo, pt, pl, full_h, full_w, strides, dilations, activation = layout
    n, h, w, c = xv.shape
    kh, kw, filters, _ = wv.shape
    pads = ((pt, full_h - pt - ho), (pl, full_w - pl - wo))
    use_threads_for(n * h * w * c * kh * kw * filters)
    dz = activation_grad(g, out, activation)
    dcols = im2col(dz, kh, kw, strides, dilations, h, w, "convt_cols", pads=pads).reshape(-1, kh * kw * filters)
    gx = gw = None
    if needs[0]:
        wmat = wv.transpose(3, 0, 1, 2).reshape(c, kh * kw * filters)  # (in, kh*kw*out)
        gx = (dcols @ wmat.T).reshape(xv.shape)
    if needs[1]:
        gw = weight_product(dcols, xv.reshape(-1, c)).reshape(kh, kw, filters, c)
    if len(needs) == 3:
        return gx, gw, dz.reshape(-1, filters).sum(axis=0) if needs[2] else None
    return gx, gw


def depthwise_conv2d_fused(x, kernel, bias=None, activation=None, strides=(1, 1), padding="VALID",
                           dilations=(1, 1), op="depthwise_conv2d") -> Tensor:
    """Depthwise convolution, one op: channel ``c`` is convolved with ``kernel[:, :, c, m]`` for each
    multiplier ``m``; output channel ``c * multiplier + m``. Kernel ``(kh, kw, in_channels, multiplier)``."""
    x, kernel = binary_operands(x, kernel, op)
    xv, wv = x.value, kernel.value
    if xv.ndim != 4 or wv.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input and a 4-D kernel (kh, kw, in_channels, multiplier). "
                         f"Received: input.shape={xv.shape}, filter.shape={wv.shape}")
    n, h, w, c = xv.shape
    kh, kw, kc, mult = wv.shape
    if kc != c:
        raise ValueError(f"{op}: input depth ({c}) must equal the kernel's third axis ({kc}). "
                         f"Received: input.shape={xv.shape}, filter.shape={wv.shape}")
    (ho, pt, pb), (wo, pl, pr) = output_geometry((h, w), (kh, kw), strides, dilations, padding, op)
    inputs = (x, kernel)
    if bias is not None:
        bias = as_float_tensor(bias, op, "bias")
        inputs = (x, kernel, bias)
    layout = (ho, wo, ((pt, pb), (pl, pr)), strides, dilations, activation)
    out = on_host_fixed(_depthwise_forward, xv, wv, None if bias is None else bias.value, layout)

    def backward(g, needs):
        return on_host_fixed(_depthwise_backward, g, out, xv, wv, layout, tuple(needs))

    return record(op, inputs, out, backward)


def _depthwise_windows(kh, kw, ho, wo, strides, dilations):
    return [(window(i, dilations[0], strides[0], ho), window(j, dilations[1], strides[1], wo))
            for i in range(kh) for j in range(kw)]


def _depthwise_forward(xv, wv, bv, layout):
    """The array work of ``depthwise_conv2d_fused`` (a run of ``on_host``): its output."""
    ho, wo, pads, strides, dilations, activation = layout
    n, h, w, c = xv.shape
    kh, kw, _, mult = wv.shape
    xp = array_module(xv)
    xpad = pad_spatial(xv, pads, "dw_pad")
    z = xp.zeros((n, ho, wo, c, mult), dtype=xv.dtype)
    for index, (rows, cols) in enumerate(_depthwise_windows(kh, kw, ho, wo, strides, dilations)):
        z += xpad[:, rows, cols, :, None] * wv[index // kw, index % kw]
    z = z.reshape(n, ho, wo, c * mult)
    if bv is not None:
        z += bv
    return apply_activation(z, activation)


def _depthwise_backward(g, out, xv, wv, layout, needs):
    """The gradients ``(gx, gw[, gb])`` of ``depthwise_conv2d_fused`` (``None`` where not needed), from the
    forward's input, kernel and output (a run of ``on_host``; the padded input is rebuilt here)."""
    ho, wo, pads, strides, dilations, activation = layout
    n, h, w, c = xv.shape
    kh, kw, _, mult = wv.shape
    xp = array_module(xv)
    xpad = pad_spatial(xv, pads, "dw_pad")
    dz = activation_grad(g, out, activation)
    dz5 = dz.reshape(n, ho, wo, c, mult)
    gx = gw = None
    if needs[0]:
        full = xp.zeros(xpad.shape, dtype=xv.dtype)
    if needs[1]:
        gw = xp.empty(wv.shape, dtype=wv.dtype)
    for index, (rows, cols) in enumerate(_depthwise_windows(kh, kw, ho, wo, strides, dilations)):
        i, j = divmod(index, kw)
        if needs[0]:
            full[:, rows, cols, :] += (dz5 * wv[i, j]).sum(axis=-1)
        if needs[1]:
            patch = xpad[:, rows, cols, :].reshape(-1, c)
            gw[i, j] = (dz5.reshape(-1, c, mult) * patch[:, :, None]).sum(axis=0)
    if needs[0]:
        gx = crop(full, pads, h, w)
    if len(needs) == 3:
        return gx, gw, dz.reshape(-1, c * mult).sum(axis=0) if needs[2] else None
    return gx, gw


def depthwise_conv2d(input, filter, strides, padding, data_format=None, dilations=None, name=None) -> Tensor:  # noqa: A002
    """Depthwise 2-D convolution (``tf.nn.depthwise_conv2d``): each input channel gets its own
    ``multiplier`` filters; output depth ``in_channels * multiplier``.

    Args:
        input: ``(batch, rows, cols, in_channels)``.
        filter: ``(kh, kw, in_channels, multiplier)``.
        strides: list of 4 ints ``[1, s, s, 1]`` (or 1 or 2 ints).
        padding: ``"SAME"`` or ``"VALID"``.

    >>> import numpy as np
    >>> depthwise_conv2d(np.ones((1, 3, 3, 2), "float32"), np.ones((2, 2, 2, 3), "float32"),
    ...                  [1, 1, 1, 1], "VALID").shape
    (1, 2, 2, 6)
    """
    from featherflow.ops.shape import transpose

    channels_first = is_channels_first(data_format, "depthwise_conv2d")
    strides_t = tuple_arg(strides, 2, "strides", "depthwise_conv2d", 1 if channels_first else None)
    dil = tuple_arg(1 if dilations is None else dilations, 2, "dilations", "depthwise_conv2d")
    pad = parse_padding(padding, 2, "depthwise_conv2d", channels_first)
    if channels_first:
        input = transpose(input, (0, 2, 3, 1))
    out = depthwise_conv2d_fused(input, filter, None, None, strides_t, pad, dil)
    return transpose(out, (0, 3, 1, 2)) if channels_first else out
