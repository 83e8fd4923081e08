"""Convolutions (channels-last): conv1d, conv2d and the fused conv2d op (``conv2d_transpose`` and
``depthwise_conv2d`` are in ``featherflow.ops.conv_variants``; the shared helpers in ``conv_utils``).

A convolution is one GEMM over an im2col matrix: the input patches are copied into a
``(batch*rows*cols, kh*kw*channels)`` buffer (one strided copy per kernel row, no Python loop
over the batch or pixels; built transposed for a single input channel) and multiplied by the
kernel viewed as ``(kh*kw*channels, filters)``. The backward rule reuses the same matrix:

    dW = cols^T @ dY          dX = sum over kernel positions (i, j) of shift_ij(dY @ W[i, j]^T)

(the input gradient as one batched GEMM of contiguous per-position blocks, each added into its
shifted input window). With a ReLU on one BLAS thread, the GEMM and the ReLU (forward) and the
ReLU mask and both GEMMs (backward) run over row chunks that stay in cache. Work buffers (and the
op outputs) are pooled and reused between steps once nothing refers to them any more.
Padding follows TensorFlow: ``"VALID"`` (none), ``"SAME"`` (``out = ceil(in / stride)``,
the odd pixel padded after), or explicit ``[[0, 0], [top, bottom], [left, right], [0, 0]]``.

>>> import featherflow as ff
>>> import numpy as np
>>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
>>> ff.nn.conv2d(x, np.ones((2, 2, 1, 1), "float32"), strides=2, padding="VALID").numpy()[0, :, :, 0]
array([[10., 18.],
       [42., 50.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.backend.blas import get_num_threads, use_threads_for
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._conv_col2im import applies as applies_cols
from featherflow.ops._conv_col2im import col2im_cropped
from featherflow.ops._convert import as_float_tensor, binary_operands
from featherflow.ops._host import on_host_fixed
from featherflow.ops._workspace import workspace
from featherflow.ops.array_kernels import FUSED_ACTIVATIONS, apply_activation, relu_inplace
from featherflow.ops.conv_utils import (
    activation_grad,
    block_buffer,
    col2im_crop,
    compiled_kernel,
    crop,
    im2col,
    is_channels_first,
    output_geometry,
    parse_padding,
    scatter_blocks,
    tuple_arg,
    weight_product,
)

_ROW_CHUNK_BYTES = 1 << 19  # output bytes per row chunk of a fused GEMM + activation (measured best of 2^16..2^20)


def _single_thread_blas() -> bool:
    return get_num_threads() == 1


def _row_chunk(rows: int, filters: int, itemsize: int, xp) -> int | None:
    """Rows per chunk when a conv's GEMM and its ReLU (forward) or ReLU mask and GEMMs (backward) run
    chunk by chunk, or None for one whole GEMM.

    On one BLAS thread a GEMM over a block of rows runs at the same rate as the whole product, and
    the block's output (or ``dz``) is still in cache when the element-wise pass touches it: the full
    ``(rows, filters)`` array never streams through memory again (measured on the small CNN's first
    layer: 11 MB per pass). With several BLAS threads one large GEMM keeps them busy instead.
    """
    step = max(64, _ROW_CHUNK_BYTES // max(1, filters * itemsize))
    if xp is not np or rows <= step or not _single_thread_blas():
        return None
    return step


def conv2d_fused(x, kernel, bias=None, activation=None, strides=1, padding="VALID", dilations=1,
                 op="conv2d") -> Tensor:
    """``activation(conv2d(x, kernel) + bias)`` as one op (NHWC input, HWIO kernel).

    Args:
        x: ``(batch, rows, cols, in_channels)``.
        kernel: ``(kh, kw, in_channels, filters)``.
        bias: optional ``(filters,)``.
        activation: ``None``, ``"relu"``, ``"sigmoid"`` or ``"tanh"`` (fused into the op).
        strides / dilations: two ints; padding: ``"SAME"``, ``"VALID"`` or two (before, after) pairs.

    Returns ``(batch, out_rows, out_cols, filters)``.
    """
    x, kernel = binary_operands(x, kernel, op)
    xv, wv = x.value, kernel.value
    if xv.dtype.kind not in "fc":
        raise TypeError(f"{op}: input must be a floating-point tensor, received {xv.dtype.name}.")
    if xv.ndim != 4 or wv.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (batch, rows, cols, channels) and a 4-D kernel "
                         f"(kh, kw, in_channels, filters). Received: input.shape={xv.shape}, "
                         f"filters.shape={wv.shape}")
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"{op}: activation must be one of {FUSED_ACTIVATIONS}. Received: activation={activation!r}")
    n, h, w, c = xv.shape
    kh, kw, kc, filters = wv.shape
    if kc != c:
        raise ValueError(f"{op}: input depth ({c}) must equal the kernel's input channels ({kc}) (grouped "
                         f"convolutions are not supported). Received: input.shape={xv.shape}, "
                         f"filters.shape={wv.shape}")
    (ho, pt, pb), (wo, pl, pr) = output_geometry((h, w), (kh, kw), strides, dilations, padding, op)
    pads = ((pt, pb), (pl, pr))
    inputs = (x, kernel)
    if bias is not None:
        bias = as_float_tensor(bias, op, "bias")
        inputs = (x, kernel, bias)
    geometry = (ho, wo, pads, strides, dilations, activation)
    out, z, cols2d = on_host_fixed(_forward, xv, wv, None if bias is None else bias.value, geometry)

    def backward(g, needs):
        return on_host_fixed(_backward, g, z, cols2d, wv, xv.shape, geometry, tuple(needs))

    return record(op, inputs, out, backward)


def _forward(xv, wv, bv, geometry):
    """The convolution's array work: ``(out, z, cols2d)``, ``z`` the ``(rows, filters)`` result and
    ``cols2d`` the patch matrix the backward rule reuses (a run of ``on_host``)."""
    ho, wo, pads, strides, dilations, activation = geometry
    (pt, pb), (pl, pr) = pads
    n, h, w, c = xv.shape
    kh, kw, _, filters = wv.shape
    xp = array_module(xv)
    k = kh * kw * c
    wmat = wv.reshape(k, filters)
    pointwise = kh == kw == 1 and strides == (1, 1) and not (pt or pb or pl or pr)
    # with im2col, the bias rides along as a ones column of the patch matrix and a bias row of the
    # kernel matrix: one GEMM adds it, and the weight-gradient GEMM yields its gradient too
    augmented = bv is not None and not pointwise
    use_threads_for(n * ho * wo * k * filters)
    step = None  # rows per chunk of a GEMM fused with its ReLU (None: one GEMM)
    if pointwise:
        cols2d = xv.reshape(-1, c)
        z = cols2d @ wmat
        if bv is not None:
            z += bv
    else:
        cols2d = im2col(xv, kh, kw, strides, dilations, ho, wo, "conv_cols", ones_column=augmented, pads=pads)
        wfull = xp.concatenate([wmat, bv[None, :]]) if augmented else wmat
        # the output comes from the pool too: the op's result is reused once the step has dropped it
        z = workspace("conv_out", (n * ho * wo, filters), xp.result_type(cols2d, wfull), xp)
        step = _row_chunk(z.shape[0], filters, z.itemsize, xp) if activation == "relu" else None
        for start in range(0, z.shape[0], step) if step else ():
            relu_inplace(xp.matmul(cols2d[start:start + step], wfull, out=z[start:start + step]), xp)
        if not step:
            xp.matmul(cols2d, wfull, out=z)
    if not step:
        z = apply_activation(z, activation)
    return z.reshape(n, ho, wo, filters), z, cols2d


def _backward(g, z, cols2d, wv, x_shape, geometry, needs):
    """The gradients ``(gx, gw[, gb])`` (``None`` where not needed) from the forward's saved arrays."""
    ho, wo, pads, strides, dilations, activation = geometry
    (pt, pb), (pl, pr) = pads
    n, h, w, c = x_shape
    kh, kw, _, filters = wv.shape
    xp = array_module(z)
    k = kh * kw * c
    wmat = wv.reshape(k, filters)
    pointwise = kh == kw == 1 and strides == (1, 1) and not (pt or pb or pl or pr)
    augmented = len(needs) == 3 and not pointwise
    out = z.reshape(n, ho, wo, filters)
    gx = gw = gb = None
    use_threads_for(n * ho * wo * k * filters)
    step = None if pointwise or activation != "relu" else _row_chunk(z.shape[0], filters, z.itemsize, xp)
    if step and (needs[1] or (augmented and needs[2])):
        gw, gb, gx = _relu_backward_chunked(g, z, cols2d, wv, step, needs, augmented, k, xp)
        if needs[0]:
            full = scatter_blocks(gx, kh, kw, (n, h + pt + pb, w + pl + pr, c), strides, dilations, ho, wo,
                                  "conv_dx")
            gx = crop(full, pads, h, w)
        return (gx, gw, gb) if len(needs) == 3 else (gx, gw)
    dz = activation_grad(g, out, activation, "conv_dz").reshape(-1, filters)
    if needs[1] or (augmented and needs[2]):
        full_gw = weight_product(cols2d, dz)
        gw = full_gw[:k].reshape(wv.shape) if needs[1] else None
        gb = full_gw[k] if augmented and needs[2] else None
    if len(needs) == 3 and needs[2] and not augmented:
        gb = dz.sum(axis=0)
    if needs[0]:
        if pointwise:
            gx = (dz @ wmat.T).reshape(x_shape)
        elif applies_cols(c, strides):
            # one GEMM into the patch layout, added straight into the unpadded input gradient
            gx = col2im_cropped(dz, wmat.T, kh, kw, x_shape, pads, strides, dilations, ho, wo, "conv_dx")
        else:
            # kernel position (i, j) maps dz back through wv[i, j]^T: blocks (kh, kw, filters, c)
            gx = col2im_crop(dz, wv.transpose(0, 1, 3, 2), (n, h + pt + pb, w + pl + pr, c), pads, strides,
                             dilations, ho, wo, "conv_dx")
    return (gx, gw, gb) if len(needs) == 3 else (gx, gw)


def _relu_backward_chunked(g, z, cols2d, wv, step, needs, augmented, k, xp):
    """The ReLU mask, weight gradient and per-position input-gradient blocks over row chunks of ``dz``:
    ``dz = g * (z > 0)`` is formed a chunk at a time in a small buffer and used by both GEMMs while it
    is in cache (``dW`` accumulated over the chunks). Returns ``(gw, gb, blocks or None)``."""
    filters = z.shape[1]
    g2 = g.reshape(-1, filters)
    dtype = xp.result_type(g2, z)
    dz_buf = xp.empty((step, filters), dtype=dtype)
    positive = xp.empty((step, filters), dtype=bool)
    # the mask as 0/1 numbers: a float * float multiply is faster than float * bool (which casts in
    # buffered blocks), with the same products
    scale = xp.empty((step, filters), dtype=dtype)
    blocks = kernel_t = None
    # dz = g * (z > 0) in one compiled pass (optional Numba) instead of three NumPy passes, same products
    relu_grad = compiled_kernel("relu_grad", z, z.size) if g2.dtype == z.dtype and type(g2) is np.ndarray else None
    one, zero = dtype.type(1), dtype.type(0)
    if needs[0]:
        kernel_blocks = wv.transpose(0, 1, 3, 2)  # (kh, kw, filters, c): position (i, j) maps dz through wv[i, j]^T
        blocks = block_buffer(g2, kernel_blocks, "conv_dx")
        kernel_t = kernel_blocks.reshape(-1, filters, wv.shape[2])
    total = None
    for start in range(0, z.shape[0], step):
        stop = min(start + step, z.shape[0])
        dz = dz_buf[:stop - start]
        if relu_grad is not None:
            relu_grad(g2[start:stop], z[start:stop], dz, one, zero)
        else:
            xp.greater(z[start:stop], 0, out=positive[:stop - start])
            xp.copyto(scale[:stop - start], positive[:stop - start])
            xp.multiply(g2[start:stop], scale[:stop - start], out=dz)
        # (dz^T @ cols)^T is markedly faster than cols^T @ dz for tall cols
        part = dz.T @ cols2d[start:stop]
        if total is None:
            total = part
        else:
            total += part
        if blocks is not None:
            xp.matmul(dz, kernel_t, out=blocks[:, start:stop])
    full_gw = total.T
    gw = full_gw[:k].reshape(wv.shape) if needs[1] else None
    gb = full_gw[k] if augmented and len(needs) == 3 and needs[2] else None
    return gw, gb, blocks


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None, name=None) -> Tensor:  # noqa: A002
    """2-D convolution (cross-correlation, as TensorFlow): ``out[b, i, j, o] =
    sum_{di, dj, c} input[b, i*s + di*d, j*s + dj*d, c] * filters[di, dj, c, o]``.

    Args:
        input: ``(batch, rows, cols, channels)`` (``"NCHW"`` is transposed to NHWC and back).
        filters: ``(kh, kw, in_channels, out_channels)``.
        strides: int or list of 1, 2 or 4 ints.
        padding: ``"SAME"``, ``"VALID"`` or explicit pairs per axis.
        dilations: int or list (atrous convolution).

    >>> import numpy as np
    >>> conv2d(np.ones((1, 3, 3, 1), "float32"), np.ones((3, 3, 1, 2), "float32"), 1, "SAME").shape
    (1, 3, 3, 2)
    """
    from featherflow.ops.shape import transpose

    channels_first = is_channels_first(data_format, "conv2d")
    strides_t = tuple_arg(strides, 2, "strides", "conv2d", 1 if channels_first else None)
    dil = tuple_arg(1 if dilations is None else dilations, 2, "dilations", "conv2d", 1 if channels_first else None)
    pad = parse_padding(padding, 2, "conv2d", channels_first)
    if channels_first:
        input = transpose(input, (0, 2, 3, 1))
    out = conv2d_fused(input, filters, None, None, strides_t, pad, dil, op="conv2d")
    return transpose(out, (0, 3, 1, 2)) if channels_first else out


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None, name=None) -> Tensor:  # noqa: A002
    """1-D convolution over ``(batch, steps, channels)`` with a ``(k, in_channels, out_channels)`` kernel.

    >>> import numpy as np
    >>> conv1d(np.ones((2, 5, 3), "float32"), np.ones((2, 3, 4), "float32"), 1, "VALID").shape
    (2, 4, 4)
    """
    from featherflow.ops.shape import expand_dims, squeeze, transpose

    channels_first = is_channels_first(data_format, "conv1d")
    s = tuple_arg(stride, 1, "stride", "conv1d", 1 if channels_first else None)[0]
    d = tuple_arg(1 if dilations is None else dilations, 1, "dilations", "conv1d",
                   1 if channels_first else None)[0]
    pad = parse_padding(padding, 1, "conv1d", channels_first)
    if channels_first:
        input = transpose(input, (0, 2, 1))
    pad2 = pad if isinstance(pad, str) else ((0, 0),) + pad
    out = conv2d_fused(expand_dims(input, 1), expand_dims(filters, 0), None, None, (1, s), pad2, (1, d),
                       op="conv1d")
    out = squeeze(out, 1)
    return transpose(out, (0, 2, 1)) if channels_first else out

