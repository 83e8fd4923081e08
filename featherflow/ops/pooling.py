"""Pooling (channels-last): max and average pooling in 1-D and 2-D.

When the stride equals the window and nothing is padded (the usual ``MaxPooling2D()``), the
input is cropped and viewed as ``(batch, out_rows, kh, out_cols, kw, channels)``; otherwise one
strided slice per window position is combined. Either way there is no Python loop over the
batch or pixels. Max pooling sends each window's gradient to its first maximum (as TensorFlow
does), so ties (e.g. the zeros after a ReLU) do not duplicate gradient. Average pooling with
``"SAME"`` padding divides by the number of real (unpadded) entries in each window. With Numba
installed, 2x2/stride-2 max pooling runs compiled kernels instead (:mod:`featherflow.ops._kernels`),
bit-identical to the NumPy path.

>>> import featherflow as ff
>>> import numpy as np
>>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
>>> ff.nn.max_pool2d(x, 2, 2, "VALID").numpy()[0, :, :, 0]
array([[ 5.,  7.],
       [13., 15.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.compiler import concrete
from featherflow.core.tape import is_recording, record
from featherflow.core.tensor import Tensor
from featherflow.ops import _kernels
from featherflow.ops._convert import as_float_tensor
from featherflow.ops._host import on_host
from featherflow.ops._workspace import workspace
from featherflow.ops.conv_utils import (
    compiled_kernel,
    is_channels_first,
    output_geometry,
    pad_spatial,
    parse_padding,
    split_batch,
    tuple_arg,
    window,
)


def pool2d(x, kind: str, pool_size, strides, padding, op: str) -> Tensor:
    """Max (``kind="max"``) or average pooling of an NHWC tensor; sizes as 2-tuples, padding parsed.

    The array work of each variant is a pair of functions (forward, backward) on arrays, called through
    ``on_host`` (one host call each while ``tf.function`` traces; ``featherflow.ops._host``)."""
    x = as_float_tensor(x, op, "input")
    xv = x.value
    if xv.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (batch, rows, cols, channels). Received: input.shape={xv.shape}")
    n, h, w, c = xv.shape
    kh, kw = pool_size
    (ho, pt, pb), (wo, pl, pr) = output_geometry((h, w), (kh, kw), strides, (1, 1), padding, op)
    padded = bool(pt or pb or pl or pr)
    if not padded and (kh, kw) == tuple(strides):
        geometry = (kh, kw, ho, wo)
        index = None
        if kind == "avg":
            out = on_host(_avg_pool_tiled, xv, geometry)
        # (the real array decides: in a tf.function trace xv is traced, and the kernel runs inside the host call)
        elif (kh, kw) == (2, 2) and compiled_kernel("max_pool_2x2", concrete(xv), xv.size) is not None:
            out, index = on_host(_max_pool_2x2_compiled, xv, ho, wo, is_recording())
        else:
            out = on_host(_max_pool_tiled, xv, geometry)

        def tiled_backward(g, needs):
            if kind == "avg":
                return (on_host(_avg_pool_tiled_grad, g, xv.shape, geometry),)
            if index is not None:
                return (on_host(_max_pool_2x2_compiled_grad, g, index, xv.shape, xv.dtype, ho, wo),)
            return (on_host(_max_pool_tiled_grad, g, xv, out, geometry),)

        return record(op, (x,), out, tiled_backward)
    geometry = (kind, kh, kw, tuple(strides), ho, wo, ((pt, pb), (pl, pr)))
    out, xpad = on_host(_pool_windows, xv, geometry)

    def backward(g, needs):
        return (on_host(_pool_windows_grad, g, xpad, out, xv.shape, geometry),)

    return record(op, (x,), out, backward)


def _slices(kh, kw, strides, ho, wo):
    return [(window(i, 1, strides[0], ho), window(j, 1, strides[1], wo)) for i in range(kh) for j in range(kw)]


def _window_count_array(h, w, ho, wo, geometry, dtype):
    """Real (unpadded) entries per window, ``(1, ho, wo, 1)`` (SAME padding excludes the padded ones, as
    TensorFlow)."""
    _, kh, kw, strides, _, _, ((pt, _), (pl, _)) = geometry
    row_count = _window_counts(h, ho, kh, strides[0], pt)
    col_count = _window_counts(w, wo, kw, strides[1], pl)
    return (row_count[:, None] * col_count[None, :]).astype(dtype)[None, :, :, None]


def _pool_windows(xv, geometry):
    """Pooling with padding or overlapping windows: one strided slice per window position is combined.
    Returns ``(out, padded input)``."""
    kind, kh, kw, strides, ho, wo, pads = geometry
    xp = array_module(xv)
    fill = -np.inf if kind == "max" else 0
    xpad = pad_spatial(xv, pads, "pool_pad", fill=fill)
    if xpad is not xv and kind == "max":
        xpad = xpad.copy()  # the backward pass compares against it: keep a private copy
    slices = _slices(kh, kw, strides, ho, wo)
    out = xpad[:, slices[0][0], slices[0][1], :].copy()
    combine = xp.maximum if kind == "max" else xp.add
    for rows, cols in slices[1:]:
        combine(out, xpad[:, rows, cols, :], out=out)
    if kind == "avg":
        out /= _window_count_array(xv.shape[1], xv.shape[2], ho, wo, geometry, xv.dtype)
    return out, xpad


def _pool_windows_grad(g, xpad, out, x_shape, geometry):
    kind, kh, kw, strides, ho, wo, ((pt, _), (pl, _)) = geometry
    xp = array_module(g)
    h, w = x_shape[1], x_shape[2]
    slices = _slices(kh, kw, strides, ho, wo)
    full = xp.zeros(xpad.shape, dtype=g.dtype)
    if kind == "avg":
        share = g / _window_count_array(h, w, ho, wo, geometry, xpad.dtype)
        for rows, cols in slices:
            full[:, rows, cols, :] += share
    else:
        remaining = g.copy()
        for index, (rows, cols) in enumerate(slices):
            taken = remaining * (xpad[:, rows, cols, :] == out)
            full[:, rows, cols, :] += taken
            if index + 1 < len(slices):
                remaining -= taken
    return full[:, pt:pt + h, pl:pl + w, :] if full.shape != tuple(x_shape) else full


def _window_counts(size, out, k, stride, before):
    starts = np.arange(out) * stride - before
    return (np.minimum(starts + k, size) - np.maximum(starts, 0)).astype("float64")


def _tiles(xv, kh, kw, ho, wo):
    """(batch, out_rows, kh, out_cols, kw, channels): a view of non-overlapping windows (only axes are split)."""
    n, _, _, c = xv.shape
    return xv[:, :ho * kh, :wo * kw, :].reshape(n, ho, kh, wo, kw, c)


def _avg_pool_tiled(xv, geometry):
    """Average over non-overlapping windows without padding (no input copy)."""
    kh, kw, ho, wo = geometry
    n, h, w, c = xv.shape
    xp = array_module(xv)
    x6 = _tiles(xv, kh, kw, ho, wo)
    # one strided slice per window position: elementwise adds over output-sized arrays are faster
    # than a reduction over two small non-adjacent axes
    out = xp.empty((n, ho, wo, c), dtype=xv.dtype)

    def pool(start, stop):
        target = out[start:stop]
        xp.copyto(target, x6[start:stop, :, 0, :, 0, :])
        for index in range(1, kh * kw):
            i, j = divmod(index, kw)
            xp.add(target, x6[start:stop, :, i, :, j, :], out=target)
        target *= xv.dtype.type(1.0 / (kh * kw))

    split_batch(pool, n, xv.size, xp)
    return out


def _avg_pool_tiled_grad(g, x_shape, geometry):
    kh, kw, ho, wo = geometry
    n, _, _, c = x_shape
    xp = array_module(g)
    full = _uncovered_zeroed(xp.empty(x_shape, dtype=g.dtype), ho * kh, wo * kw)
    view = full[:, :ho * kh, :wo * kw, :].reshape(n, ho, kh, wo, kw, c)
    xp.multiply(g[:, :, None, :, None, :], g.dtype.type(1.0 / (kh * kw)), out=view)
    return full


def _uncovered_zeroed(full, rows, cols):
    full[:, rows:] = 0  # rows and columns no window covers
    full[:, :, cols:] = 0
    return full


_CHUNK_BYTES = 1 << 18  # input bytes per batch chunk: its temporaries stay in a core's L2 cache


def _chunk_bounds(start, stop, bytes_per_image):
    step = max(1, _CHUNK_BYTES // max(1, bytes_per_image))
    return [(i, min(i + step, stop)) for i in range(start, stop, step)]


def _max_pool_tiled(xv, geometry):
    """Max over non-overlapping windows; the gradient goes to the first maximum of each window in
    row-major order (as TensorFlow), so ties (e.g. the zeros after a ReLU) do not duplicate gradient.

    Both passes run over batch chunks of about ``_CHUNK_BYTES`` of input: these steps are bound by
    memory traffic, and per chunk the window-position mask and the running maximum stay in cache
    between the element-wise passes instead of streaming through memory once per pass.
    """
    kh, kw, ho, wo = geometry
    n, h, w, c = xv.shape
    xp = array_module(xv)
    x6 = _tiles(xv, kh, kw, ho, wo)
    out = workspace("maxpool_out", (n, ho, wo, c), xv.dtype, xp)  # reused once the step drops it
    per_image = xv.itemsize * h * w * c

    # rows of windows as whole image rows: (batch, out_rows, kh, out_cols*kw*channels), contiguous runs
    rows = xv[:, :ho * kh].reshape(n, ho, kh, w * c)[..., :wo * kw * c] if xv.flags.c_contiguous and kh > 1 else None

    def pool(start, stop):
        bounds = _chunk_bounds(start, stop, per_image)
        colmax = xp.empty((bounds[0][1] - bounds[0][0], ho, wo * kw * c), dtype=xv.dtype) if rows is not None \
            and bounds else None
        for lo, hi in bounds:
            target = out[lo:hi]
            if colmax is not None:
                # max over the window rows first (whole image rows at a time), then over the kw columns:
                # the one pass with runs of `channels` numbers covers 1/kh of the data (max is exact in
                # any order)
                part = colmax[:hi - lo]
                xp.maximum(rows[lo:hi, :, 0], rows[lo:hi, :, 1], out=part)
                for i in range(2, kh):
                    xp.maximum(part, rows[lo:hi, :, i], out=part)
                part = part.reshape(hi - lo, ho, wo, kw, c)
                xp.copyto(target, part[:, :, :, 0, :])
                for j in range(1, kw):
                    xp.maximum(target, part[:, :, :, j, :], out=target)
                continue
            xp.copyto(target, x6[lo:hi, :, 0, :, 0, :])
            for index in range(1, kh * kw):
                i, j = divmod(index, kw)
                xp.maximum(target, x6[lo:hi, :, i, :, j, :], out=target)

    split_batch(pool, n, xv.size, xp)
    return out


def _max_pool_tiled_grad(g, xv, out, geometry):
    kh, kw, ho, wo = geometry
    n, h, w, c = xv.shape
    xp = array_module(g)
    x6 = _tiles(xv, kh, kw, ho, wo)
    per_image = xv.itemsize * h * w * c
    full = _uncovered_zeroed(workspace("maxpool_grad", xv.shape, g.dtype, xp), ho * kh, wo * kw)
    full6 = full[:, :ho * kh, :wo * kw, :].reshape(n, ho, kh, wo, kw, c)

    def route(start, stop):
        bounds = _chunk_bounds(start, stop, per_image)
        if not bounds:  # empty batch
            return
        size = bounds[0][1] - bounds[0][0]
        # window-position-major masks: (kh*kw, chunk, out_rows, out_cols, channels), each position
        # contiguous, so the tie passes below run over long rows instead of runs of `channels`
        hit_buf = xp.empty((kh * kw, size, ho, wo, c), dtype=bool)
        taken_buf = xp.empty((size, ho, wo, c), dtype=np.uint8)
        for lo, hi in bounds:
            hit, taken = hit_buf[:, :hi - lo], taken_buf[:hi - lo]
            by_position = hit.reshape(kh, kw, hi - lo, ho, wo, c)
            xp.equal(x6[lo:hi].transpose(2, 4, 0, 1, 3, 5), out[lo:hi], out=by_position)
            # ties: only the first maximum of each window (row-major) keeps its hit
            codes = hit.view(np.uint8)
            xp.copyto(taken, codes[0])
            for index in range(1, kh * kw):
                xp.greater(codes[index], taken, out=codes[index])  # a hit and no earlier hit
                if index + 1 < kh * kw:
                    xp.bitwise_or(taken, codes[index], out=taken)
            xp.multiply(g[lo:hi], by_position, out=full6[lo:hi].transpose(2, 4, 0, 1, 3, 5))

    split_batch(route, n, xv.size, xp)
    return full


def _max_pool_2x2_compiled(xv, ho, wo, recording):
    """2x2 windows, stride 2, with the compiled kernels of :mod:`featherflow.ops._kernels`: one pass each way
    instead of a dozen NumPy passes, bit-identical to :func:`_max_pool_tiled`. Under a recording tape
    (``recording``) the forward pass also stores each window's first-maximum position (one byte per output),
    so the backward pass only scatters ``g``. Returns ``(out, positions or None)``."""
    n = xv.shape[0]
    out = workspace("maxpool_out", (n, ho, wo, xv.shape[3]), xv.dtype, np)
    rows_first = bool(xv.flags.c_contiguous)  # the order in which _max_pool_tiled combines the maximum
    if recording:  # a backward pass is possible (record() records only under an active tape)
        index = workspace("maxpool_index", out.shape, np.uint8, np)
        argmax = _kernels.get("max_pool_2x2_argmax")
        split_batch(lambda lo, hi: argmax(xv, out, index, rows_first, lo, hi), n, xv.size, np)
        return out, index
    kernel = _kernels.get("max_pool_2x2")
    split_batch(lambda lo, hi: kernel(xv, out, rows_first, lo, hi), n, xv.size, np)
    return out, None  # no tape: the op is not recorded, backward never runs


def _max_pool_2x2_compiled_grad(g, index, x_shape, x_dtype, ho, wo):
    n, _, _, c = x_shape
    if type(g) is np.ndarray and g.dtype == x_dtype:
        full = workspace("maxpool_grad", x_shape, g.dtype, np)
        grad = _kernels.get("max_pool_2x2_grad")
        one, zero = g.dtype.type(1), g.dtype.type(0)
        split_batch(lambda lo, hi: grad(g, index, full, one, zero, lo, hi), n, full.size, np)
        return full
    # another gradient dtype: the same routing (g times a boolean hit) in NumPy
    full = np.zeros(x_shape, dtype=np.result_type(g))
    full6 = full[:, :2 * ho, :2 * wo].reshape(n, ho, 2, wo, 2, c)
    for position in range(4):
        full6[:, :, position // 2, :, position % 2, :] = g * (index == position)
    return full


def _pool_nd(input, ksize, strides, padding, data_format, kind, rank, op):  # noqa: A002
    from featherflow.ops.shape import expand_dims, squeeze, transpose

    x = as_float_tensor(input, op, "input")
    if x.ndim != rank + 2:
        raise ValueError(f"{op}: expected a {rank + 2}-D input. Received: input.shape={x.shape}")
    channels_first = is_channels_first(data_format, op)
    ks = tuple_arg(ksize, rank, "ksize", op, 1 if channels_first else None)
    st = tuple_arg(strides, rank, "strides", op, 1 if channels_first else None)
    pad = parse_padding(padding, rank, op, channels_first)
    if channels_first:
        x = transpose(x, (0,) + tuple(range(2, rank + 2)) + (1,))
    if rank == 1:
        pad2 = pad if isinstance(pad, str) else ((0, 0),) + pad
        out = squeeze(pool2d(expand_dims(x, 1), kind, (1,) + ks, (1,) + st, pad2, op), 1)
    else:
        out = pool2d(x, kind, ks, st, pad, op)
    if channels_first:
        out = transpose(out, (0, rank + 1) + tuple(range(1, rank + 1)))
    return out


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:  # noqa: A002
    """2-D max pooling of ``(batch, rows, cols, channels)``.

    Args:
        ksize / strides: int or list of 1, 2 or 4 ints.
        padding: ``"VALID"`` or ``"SAME"`` (pads with -inf).

    >>> import numpy as np
    >>> max_pool2d(np.ones((1, 5, 5, 2), "float32"), 2, 2, "SAME").shape
    (1, 3, 3, 2)
    """
    return _pool_nd(input, ksize, strides, padding, data_format, "max", 2, "max_pool2d")


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:  # noqa: A002
    """2-D average pooling; with ``"SAME"`` each window averages only its real entries.

    >>> import numpy as np
    >>> float(avg_pool2d(np.ones((1, 3, 3, 1), "float32"), 2, 2, "SAME").numpy().min())
    1.0
    """
    return _pool_nd(input, ksize, strides, padding, data_format, "avg", 2, "avg_pool2d")


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None) -> Tensor:  # noqa: A002
    """1-D max pooling of ``(batch, steps, channels)``.

    >>> max_pool1d([[[1.0], [3.0], [2.0], [0.0]]], 2, 2, "VALID").numpy().ravel()
    array([3., 2.], dtype=float32)
    """
    return _pool_nd(input, ksize, strides, padding, data_format, "max", 1, "max_pool1d")


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None) -> Tensor:  # noqa: A002
    """1-D average pooling of ``(batch, steps, channels)``.

    >>> avg_pool1d([[[1.0], [3.0], [2.0], [0.0]]], 2, 2, "VALID").numpy().ravel()
    array([2., 1.], dtype=float32)
    """
    return _pool_nd(input, ksize, strides, padding, data_format, "avg", 1, "avg_pool1d")


def _rank_of(input, data_format, op):  # noqa: A002
    ndim = np.ndim(input.value if isinstance(input, Tensor) else np.asarray(input))
    if ndim not in (3, 4):
        raise ValueError(f"{op}: input must be 3-D (NWC) or 4-D (NHWC); 5-D pooling is not supported. "
                         f"Received: input.ndim={ndim}")
    return ndim - 2


def max_pool(input, ksize, strides, padding, data_format=None, name=None) -> Tensor:  # noqa: A002
    """Max pooling for 3-D or 4-D inputs (``tf.nn.max_pool``)."""
    rank = _rank_of(input, data_format, "max_pool")
    return _pool_nd(input, ksize, strides, padding, data_format, "max", rank, "max_pool")


def avg_pool(input, ksize, strides, padding, data_format=None, name=None) -> Tensor:  # noqa: A002
    """Average pooling for 3-D or 4-D inputs (``tf.nn.avg_pool``)."""
    rank = _rank_of(input, data_format, "avg_pool")
    return _pool_nd(input, ksize, strides, padding, data_format, "avg", rank, "avg_pool")
