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
here give the same bits. Below ``MIN_CHANNELS`` the runs are too short for NumPy's strided adds, and the
callers keep ``conv_utils.col2im``.

>>> import numpy as np
>>> dy = np.ones((4, 1), "float32")  # one image, 2x2 outputs, one filter
>>> w_t = np.ones((1, 2 * 2 * 16), "float32")  # (filters, kh*kw*c)
>>> col2im_cropped(dy, w_t, 2, 2, (1, 3, 3, 16), ((0, 0), (0, 0)), (1, 1), (1, 1), 2, 2, "doc")[0, :, :, 0]
array([[1., 2., 1.],
       [2., 4., 2.],
       [1., 2., 1.]], dtype=float32)
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.ops._workspace import workspace
from featherflow.ops.conv_utils import compiled_kernel, split_batch

MIN_CHANNELS = 16  # a kernel position's run of c numbers is long enough for NumPy's strided adds from here


def col2im_cropped(dy, w_t, kh, kw, out_shape, pads, strides, dilations, ho, wo, role):
    """``(n, h, w, c)``: the patch gradients ``dy @ w_t`` (``dy`` ``(n*ho*wo, f)``, ``w_t`` ``(f, kh*kw*c)``,
    columns in ``(kh, kw, c)`` order) added into the input positions they came from, padding dropped.

    Row ``(b, r, s)`` and kernel position ``(i, j)`` land on input ``(b, r*sh + i*dh - pad_top,
    s*sw + j*dw - pad_left)`` (positions outside ``[0, h) x [0, w)`` are the padding)."""
    xp = array_module(dy)
    n, h, w, c = out_shape
    cols = workspace(role + "_cols", (dy.shape[0], kh * kw * c), xp.result_type(dy, w_t), xp)
    xp.matmul(dy, w_t, out=cols)
    cols6 = cols.reshape(n, ho, wo, kh, kw, c)
    out = workspace(role, out_shape, cols.dtype, xp)
    (pt, _), (pl, _) = pads
    kernel = compiled_kernel("scatter_cols", cols, cols.size)
    if kernel is not None:  # one compiled pass (optional Numba): the same sums in the same order
        split_batch(lambda start, stop: kernel(cols6, out, *strides, *dilations, pt, pl, start, stop), n, cols.size,
                    xp)
        return out
    spans = [[_span(i, dilations[0], strides[0], ho, pt, h) for i in range(kh)],
             [_span(j, dilations[1], strides[1], wo, pl, w) for j in range(kw)]]

    def add(start, stop):
        out[start:stop] = 0
        for i, (rows_in, rows_out) in enumerate(spans[0]):
            for j, (cols_in, cols_out) in enumerate(spans[1]):
                if rows_in is not None and cols_in is not None:
                    out[start:stop, rows_out, cols_out, :] += cols6[start:stop, rows_in, cols_in, i, j, :]

    split_batch(add, n, cols.size, xp)
    return out


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
