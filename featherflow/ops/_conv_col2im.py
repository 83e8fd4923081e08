"""The col2im of a convolution's input gradient and of a transposed convolution, straight into the cropped
(unpadded) result, for inputs with many channels.

``conv_utils.col2im`` computes one ``(rows, c)`` block per kernel position with a batched GEMM and scatter-adds
the blocks into a zeroed *padded* input, which the caller then crops (another copy). With ``c`` of at least
``MIN_CHANNELS`` this module does the same sums with less work:

- one GEMM ``dy @ W^T`` gives the patch gradients in the patch matrix's own layout ``(n, ho, wo, kh, kw, c)``:
  a single well-shaped product instead of ``kh*kw`` narrow ones (``3136x64 @ 64x512``: 2.4 ms against
  2.75 ms for sixteen ``64x32`` blocks on one core);
- the scatter-add writes into the ``(n, h, w, c)`` result directly, skipping the contributions that land in
  the padding (no padded buffer, no crop copy); each add moves a run of ``c`` numbers.

Every result element is summed from ``+0.0`` over the kernel positions in row-major order, the same order as
``conv_utils.scatter_blocks``; the optional Numba kernel (``_numba_conv.scatter_cols``) and the NumPy loop
here give the same bits. Below ``MIN_CHANNELS`` the runs are too short for NumPy's strided adds, and with
stride 1 the blocks' path is faster (``applies``): the callers keep ``conv_utils.col2im`` there.

>>> import numpy as np
>>> dy = np.ones((4, 1), "float32")  # one image, 2x2 outputs, one filter
>>> w_t = np.ones((1, 2 * 2 * 16), "float32")  # (filters, kh*kw*c)
>>> col2im_cropped(dy, w_t, 2, 2, (1, 3, 3, 16), ((0, 0), (0, 0)), (1, 1), (1, 1), 2, 2, "doc")[0, :, :, 0]
array([[1., 2., 1.],
       [2., 4., 2.],
       [1., 2., 1.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.ops._workspace import workspace
from featherflow.ops.conv_utils import compiled_kernel, images_per_chunk, over_chunks, split_batch

MIN_CHANNELS = 16  # a kernel position's run of c numbers is long enough for NumPy's strided adds from here


def applies(channels: int, strides) -> bool:
    """Whether ``col2im_cropped`` pays: ``channels`` (the scattered result's) of at least ``MIN_CHANNELS`` and a
    stride above 1. With stride 1 the kernel windows overlap densely and the block path was faster (a 3x3
    Conv2D(32 -> 64) input gradient on 128 images of 13x13: 10.9 ms against 11.8 ms on one core; a 4x4
    stride-2 one on 64 images of 14x14: 3.3 against 2.9 ms)."""
    return channels >= MIN_CHANNELS and max(strides) > 1


def col2im_cropped(dy, w_t, kh, kw, out_shape, pads, strides, dilations, ho, wo, role):
    """``(n, h, w, c)``: the patch gradients ``dy @ w_t`` (``dy`` ``(n*ho*wo, f)``, ``w_t`` ``(f, kh*kw*c)``,
    columns in ``(kh, kw, c)`` order) added into the input positions they came from, padding dropped.

    Row ``(b, r, s)`` and kernel position ``(i, j)`` land on input ``(b, r*sh + i*dh - pad_top,
    s*sw + j*dw - pad_left)`` (positions outside ``[0, h) x [0, w)`` are the padding)."""
    xp = array_module(dy)
    n, h, w, c = out_shape
    (pt, _), (pl, _) = pads
    dtype = xp.result_type(dy, w_t)
    rows = ho * wo
    # a few images at a time (numpy): each chunk's patch gradients are still in cache for the scatter-add, and the
    # chunks run in threads with one BLAS thread each (the same products whatever the split); with the Numba
    # kernel or without, the same chunks (the products' rounding depends on the rows multiplied together)
    chunk = images_per_chunk(rows * kh * kw * c * dtype.itemsize, n) if xp is np else n
    out = workspace(role, out_shape, dtype, xp)
    kernel = compiled_kernel("scatter_cols", dy, dy.shape[0] * kh * kw * c) if dtype == dy.dtype else None
    add = kernel or _scatter_numpy(kh, kw, out_shape, pads, strides, dilations, ho, wo)

    def scatter(cols6, target, count):
        if kernel is not None:  # one compiled pass (optional Numba): the same sums in the same order
            kernel(cols6, target, *strides, *dilations, pt, pl, 0, count)
        else:
            add(cols6, target)

    if chunk < n:
        def run(start, stop):
            cols = workspace(role + "_chunk", (chunk * rows, kh * kw * c), dtype, xp)
            part = cols[:(stop - start) * rows]
            xp.matmul(dy[start * rows:stop * rows], w_t, out=part)
            scatter(part.reshape(stop - start, ho, wo, kh, kw, c), out[start:stop], stop - start)

        over_chunks(run, n, chunk, dy.shape[0] * kh * kw * c, xp)
        return out
    cols = workspace(role + "_cols", (dy.shape[0], kh * kw * c), dtype, xp)
    xp.matmul(dy, w_t, out=cols)
    cols6 = cols.reshape(n, ho, wo, kh, kw, c)
    split_batch(lambda start, stop: scatter(cols6[start:stop], out[start:stop], stop - start), n, cols.size, xp)
    return out


def _scatter_numpy(kh, kw, out_shape, pads, strides, dilations, ho, wo):
    """The NumPy scatter-add of ``scatter_cols``: ``add(cols6, target)`` zeroes ``target`` (images of
    ``out_shape``) and adds the kernel positions' patch gradients in row-major order."""
    _, h, w, _ = out_shape
    (pt, _), (pl, _) = pads
    spans = [[_span(i, dilations[0], strides[0], ho, pt, h) for i in range(kh)],
             [_span(j, dilations[1], strides[1], wo, pl, w) for j in range(kw)]]

    def add(cols6, target):
        target[...] = 0
        for i, (rows_in, rows_out) in enumerate(spans[0]):
            for j, (cols_in, cols_out) in enumerate(spans[1]):
                if rows_in is not None and cols_in is not None:
                    target[:, rows_out, cols_out, :] += cols6[:, rows_in, cols_in, i, j, :]

    return add


def _span(tap, dilation, stride, out_size, pad, size):
    """For kernel tap ``tap`` along one axis: ``(slice of output positions r, slice of input positions)`` with
    ``r*stride + tap*dilation - pad`` inside ``[0, size)``, or ``(None, None)`` when there is none."""
    offset = tap * dilation - pad
    first = 0 if offset >= 0 else (stride - 1 - offset) // stride  # the first r with r*stride + offset >= 0
    last = min(out_size - 1, (size - 1 - offset) // stride)
    if last < first:
        return None, None
    start = first * stride + offset
    return slice(first, last + 1), slice(start, start + (last - first) * stride + 1, stride)
