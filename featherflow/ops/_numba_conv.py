"""The Numba kernels of :mod:`featherflow.ops._kernels` for the im2col convolution (imported only when Numba
is installed: this module imports it).

Each kernel does the work of several NumPy passes in one, on batch slices ``[lo, hi)`` (``nogil``, for
:func:`featherflow.ops.conv_utils.split_batch`), with the NumPy path's values bit for bit:

- ``relu_grad``: ``dz = g * (z > 0)`` with the mask as ``1``/``0`` in ``g``'s dtype (what the NumPy path
  multiplies by), so ``g * 0`` keeps its sign and NaN stays NaN;
- ``scatter_blocks``: the col2im scatter-add, every input element summed from ``+0.0`` over the kernel
  positions in the same row-major order as the NumPy loop (float addition is not associative: the order
  is part of the result);
- ``im2col_rows``: the patch-matrix copy (copies are exact);
- ``scatter_blocks_1ch``: ``scatter_blocks`` for one channel (a first conv's input gradient, an image-producing
  transposed conv), straight into the cropped result, the same sums in the same order.

``fastmath`` stays off; ``error_model="numpy"`` drops Python's error checks so the loops vectorize;
``cache=True`` compiles once per machine into ``__pycache__``.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def relu_grad(g, z, dz, one, zero):  # pragma: no cover - compiled
    """``dz[r] = g[r] * (1 if z[r] > 0 else 0)`` for 2-D ``(rows, filters)`` arrays."""
    for r in range(dz.shape[0]):
        for k in range(dz.shape[1]):
            dz[r, k] = g[r, k] * (one if z[r, k] > 0 else zero)


@njit(cache=True, nogil=True, error_model="numpy")
def scatter_blocks(blocks, out, stride_h, stride_w, dilation_h, dilation_w, lo, hi):  # pragma: no cover
    """``out[b] = 0``, then ``out[b, i*dh + r*sh, j*dw + s*sw] += blocks[i, j, b, r, s]`` over the kernel
    positions ``(i, j)`` in row-major order, for ``b`` in ``[lo, hi)``. ``blocks``: ``(kh, kw, n, ho, wo,
    c)``; ``out``: ``(n, H, W, c)``."""
    kh, kw, _, ho, wo, c = blocks.shape
    h, w = out.shape[1], out.shape[2]
    for b in range(lo, hi):
        for r in range(h):
            for s in range(w):
                for k in range(c):
                    out[b, r, s, k] = 0
        for i in range(kh):
            for j in range(kw):
                for r in range(ho):
                    row = i * dilation_h + r * stride_h
                    for s in range(wo):
                        col = j * dilation_w + s * stride_w
                        for k in range(c):
                            out[b, row, col, k] += blocks[i, j, b, r, s, k]


@njit(cache=True, nogil=True, error_model="numpy")
def im2col_rows(xpad, cols, stride_h, stride_w, dilation_h, dilation_w, lo, hi):  # pragma: no cover
    """``cols[b, r, s, i, j] = xpad[b, i*dh + r*sh, j*dw + s*sw]`` (channel vectors) for ``b`` in
    ``[lo, hi)``. ``cols``: ``(n, ho, wo, kh, kw, c)``, any strides (the patch matrix with or without its
    ones column)."""
    _, ho, wo, kh, kw, c = cols.shape
    for b in range(lo, hi):
        for r in range(ho):
            for s in range(wo):
                for i in range(kh):
                    row = i * dilation_h + r * stride_h
                    for j in range(kw):
                        col = j * dilation_w + s * stride_w
                        for k in range(c):
                            cols[b, r, s, i, j, k] = xpad[b, row, col, k]


@njit(cache=True, nogil=True, error_model="numpy")
def scatter_cols(cols, out, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, lo, hi):  # pragma: no cover
    """``out[b] = 0``, then ``out[b, r*sh + i*dh - pad_top, s*sw + j*dw - pad_left] += cols[b, r, s, i, j]`` over
    the kernel positions ``(i, j)`` in row-major order, for ``b`` in ``[lo, hi)``, positions outside ``out``
    (the padding) skipped. ``cols``: ``(n, ho, wo, kh, kw, c)``; ``out``: ``(n, h, w, c)``."""
    _, ho, wo, kh, kw, c = cols.shape
    h, w = out.shape[1], out.shape[2]
    for b in range(lo, hi):
        for r in range(h):
            for s in range(w):
                for k in range(c):
                    out[b, r, s, k] = 0
        for i in range(kh):
            for j in range(kw):
                for r in range(ho):
                    row = r * stride_h + i * dilation_h - pad_top
                    if row < 0 or row >= h:
                        continue
                    for s in range(wo):
                        col = s * stride_w + j * dilation_w - pad_left
                        if col < 0 or col >= w:
                            continue
                        for k in range(c):
                            out[b, row, col, k] += cols[b, r, s, i, j, k]



@njit(cache=True, nogil=True, error_model="numpy")
def im2col_rows_padded(x, cols, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, lo, hi):  # pragma: no cover
    """``im2col_rows`` of the zero-padded input without the padded copy: ``cols[b, r, s, i, j] = x[b, r*sh +
    i*dh - pad_top, s*sw + j*dw - pad_left]`` (channel vectors), zeros where that falls outside ``x``."""
    _, ho, wo, kh, kw, c = cols.shape
    h, w = x.shape[1], x.shape[2]
    zero = cols.dtype.type(0)
    for b in range(lo, hi):
        for r in range(ho):
            for s in range(wo):
                for i in range(kh):
                    row = r * stride_h + i * dilation_h - pad_top
                    for j in range(kw):
                        col = s * stride_w + j * dilation_w - pad_left
                        if row < 0 or row >= h or col < 0 or col >= w:
                            for k in range(c):
                                cols[b, r, s, i, j, k] = zero
                        else:
                            for k in range(c):
                                cols[b, r, s, i, j, k] = x[b, row, col, k]


@njit(cache=True, nogil=True, error_model="numpy")
def scatter_blocks_1ch(blocks, out, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, lo, hi):  # pragma: no cover
    """``scatter_blocks`` for one channel, straight into the cropped result: ``out[b] = 0``, then ``out[b, r*sh +
    i*dh - pad_top, s*sw + j*dw - pad_left] += blocks[i, j, b, r, s]`` over the kernel positions ``(i, j)`` in
    row-major order (the same sums in the same order: the same bits), positions outside ``out`` (the padding)
    skipped, for ``b`` in ``[lo, hi)``. ``blocks``: ``(kh, kw, n, ho, wo)``; ``out``: ``(n, h, w)``. (The
    general kernel's loop over the channels costs more than the add itself with one channel.)"""
    kh, kw, _, ho, wo = blocks.shape
    h, w = out.shape[1], out.shape[2]
    for b in range(lo, hi):
        for y in range(h):
            for x in range(w):
                out[b, y, x] = 0
        for i in range(kh):
            for j in range(kw):
                for r in range(ho):
                    row = r * stride_h + i * dilation_h - pad_top
                    if row < 0 or row >= h:
                        continue
                    for s in range(wo):
                        col = s * stride_w + j * dilation_w - pad_left
                        if 0 <= col < w:
                            out[b, row, col] += blocks[i, j, b, r, s]
