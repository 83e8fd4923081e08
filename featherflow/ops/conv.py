"""Convolutions (channels-last): conv1d, conv2d, conv2d_transpose, depthwise_conv2d.

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

import os

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.backend.blas import get_num_threads, parallel_workers, use_threads_for
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops import _kernels
from featherflow.ops._convert import as_float_tensor, binary_operands
from featherflow.ops._workspace import clear_workspace, workspace  # noqa: F401 - clear_workspace: re-exported
from featherflow.ops.nn import _apply_fused, _fused_grad, _relu_inplace  # noqa: F401 - _relu_inplace: tests import it here

_THREADS: dict = {"executor": None, "workers": None}
_PARALLEL_MIN_WORK = 1 << 19  # elements; below this a thread hand-off costs more than it saves


def _worker_count() -> int:
    if _THREADS["workers"] is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cpus = os.cpu_count() or 1
        _THREADS["workers"] = max(1, min(4, cpus))
    return _THREADS["workers"]


def split_batch(fn, n: int, work: int, xp=np) -> None:
    """Run ``fn(start, stop)`` over batch slices in parallel threads (NumPy releases the GIL in copies
    and ufunc loops, so memory-bound work spreads over the cores BLAS uses for the GEMMs).

    Each slice must write only its own rows, so the result does not depend on the split. Small work,
    a single core, or a non-NumPy array module runs ``fn(0, n)`` directly.
    """
    workers = parallel_workers(_worker_count())
    if workers < 2 or n < 2 or work < _PARALLEL_MIN_WORK or xp is not np:
        fn(0, n)
        return
    if _THREADS["executor"] is None or _THREADS.get("pid") != os.getpid():
        # (re)created in a forked child too: the parent's worker threads do not exist there
        from concurrent.futures import ThreadPoolExecutor

        _THREADS["executor"] = ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="featherflow-batch")
        _THREADS["pid"] = os.getpid()
    parts = min(workers, n)
    bounds = [n * i // parts for i in range(parts + 1)]
    futures = [_THREADS["executor"].submit(fn, bounds[i], bounds[i + 1]) for i in range(1, parts)]
    fn(bounds[0], bounds[1])
    for future in futures:
        future.result()


# -- argument handling -----------------------------------------------------------------------

def _tuple_arg(value, n: int, name: str, op: str, channels_pos=None) -> tuple:
    """An int or a list of 1, ``n`` or ``n + 2`` ints (TensorFlow's forms) as ``n`` ints."""
    if isinstance(value, Tensor):
        value = value.value.tolist()
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    try:
        values = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: `{name}` must be an int or a list of ints. Received: {name}={value!r}") from None
    if len(values) == 1:
        values = values * n
    elif len(values) == n + 2:
        inner = values[1:-1] if channels_pos != 1 else values[2:]
        outer = (values[0], values[-1]) if channels_pos != 1 else (values[0], values[1])
        if outer != (1, 1):
            raise ValueError(f"{op}: `{name}` for the batch and channel axes must be 1. Received: {name}={value!r}")
        values = tuple(inner)
    if len(values) != n or any(v < 1 for v in values):
        raise ValueError(f"{op}: `{name}` must hold {n} positive ints (or 1 or {n + 2}). Received: {name}={value!r}")
    return values


def padding_amounts(size: int, k_eff: int, stride: int, padding) -> tuple:
    """``(out_size, pad_before, pad_after)`` for one spatial axis (TensorFlow's SAME/VALID rules).

    >>> padding_amounts(5, 3, 2, "SAME")
    (3, 1, 1)
    """
    if isinstance(padding, tuple):
        before, after = padding
        return (size + before + after - k_eff) // stride + 1, before, after
    if padding == "VALID":
        return (size - k_eff) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + k_eff - size, 0)
    return out, total // 2, total - total // 2


def parse_padding(padding, n: int, op: str, channels_first=False):
    """``"SAME"``/``"VALID"`` (any case) or explicit pairs -> a string or ``n`` (before, after) tuples."""
    if isinstance(padding, str):
        upper = padding.upper()
        if upper not in ("SAME", "VALID"):
            raise ValueError(f'{op}: `padding` must be "SAME", "VALID" or a list of pairs. Received: padding={padding!r}')
        return upper
    try:
        pairs = [tuple(int(v) for v in pair) for pair in padding]
    except (TypeError, ValueError):
        raise ValueError(f"{op}: explicit `padding` must be a list of [before, after] pairs. "
                         f"Received: padding={padding!r}") from None
    if len(pairs) == n + 2:
        pairs = pairs[2:] if channels_first else pairs[1:-1]
    if len(pairs) != n or any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise ValueError(f"{op}: explicit `padding` must hold {n} (or {n + 2}) non-negative [before, after] pairs. "
                         f"Received: padding={padding!r}")
    return tuple(pairs)


def _geometry(in_hw, k_hw, strides, dilations, padding, op):
    dims = []
    for axis in range(2):
        k_eff = (k_hw[axis] - 1) * dilations[axis] + 1
        pad = padding if isinstance(padding, str) else padding[axis]
        out, before, after = padding_amounts(in_hw[axis], k_eff, strides[axis], pad)
        if out <= 0:
            raise ValueError(
                f"{op}: one of the dimensions in the output is <= 0 due to downsampling. Consider increasing the "
                f"input size. Received input spatial shape {tuple(in_hw)} with kernel {tuple(k_hw)}, strides "
                f"{tuple(strides)}, dilations {tuple(dilations)} and padding {padding!r}, which would produce an "
                f"output with a zero or negative size."
            )
        dims.append((out, before, after))
    return dims


def _pad(xv, pads, role, fill=0):
    """``xv`` (NHWC) padded on the two spatial axes, in a pooled buffer (``xv`` itself when no pad)."""
    (pt, pb), (pl, pr) = pads
    if not (pt or pb or pl or pr):
        return xv
    n, h, w, c = xv.shape
    xp = array_module(xv)
    out = workspace(role, (n, h + pt + pb, w + pl + pr, c), xv.dtype, xp)
    if pt:
        out[:, :pt] = fill
    if pb:
        out[:, h + pt:] = fill
    if pl:
        out[:, pt:h + pt, :pl] = fill
    if pr:
        out[:, pt:h + pt, w + pl:] = fill
    out[:, pt:h + pt, pl:w + pl] = xv
    return out


def _window(i, dilation, stride, out_size):
    start = i * dilation
    return slice(start, start + stride * (out_size - 1) + 1, stride)


def _im2col(xpad, kh, kw, strides, dilations, ho, wo, role, ones_column=False):
    """Patch matrix ``(n*ho*wo, kh*kw*c [+ 1])``: row ``(b, i, j)`` holds the window at output ``(i, j)``,
    columns in ``(kh, kw, c)`` order (the kernel's layout); ``ones_column`` appends a column of ones
    so that a bias row in the kernel matrix is added by the same GEMM.

    With a single input channel the matrix is built transposed, ``(kh*kw [+ 1], n*ho*wo)``, and
    returned as its ``.T`` view (BLAS takes either layout): in the row layout every copy would move
    runs of ``kw`` floats (a first layer on grayscale images: ~7x slower to fill), in the transposed
    one runs of ``wo``."""
    n, _, _, c = xpad.shape
    xp = array_module(xpad)
    k = kh * kw * c
    s_n, s_h, s_w, s_c = xpad.strides
    if c == 1:
        buf = workspace(role + "_t", (k + int(ones_column), n * ho * wo), xpad.dtype, xp)
        if ones_column:
            buf[k] = 1
        planes = buf[:k].reshape(kh, kw, c, n, ho, wo)

        def fill_t(start, stop):
            for i in range(kh):
                # (kw, c, batch, ho, wo) view of the windows of kernel row i: one copy per kernel row
                window = xp.lib.stride_tricks.as_strided(
                    xpad[start:stop, i * dilations[0]:], shape=(kw, c, stop - start, ho, wo),
                    strides=(s_w * dilations[1], s_c, s_n, s_h * strides[0], s_w * strides[1]))
                planes[i, :, :, start:stop] = window
        split_batch(fill_t, n, k * n * ho * wo, xp)
        return buf.T
    buf = workspace(role, (n * ho * wo, k + int(ones_column)), xpad.dtype, xp)
    if ones_column:
        buf[:, k] = 1
    cols = buf[:, :k] if ones_column else buf
    kernel = _kernel_for("im2col_rows", xpad, buf.size)
    if kernel is not None:  # one compiled pass (optional Numba, same copies)
        cols6 = cols.reshape(n, ho, wo, kh, kw, c)
        split_batch(lambda start, stop: kernel(xpad, cols6, *strides, *dilations, start, stop), n, cols.size, xp)
        return buf
    if dilations[1] == 1 and xpad.flags.c_contiguous:
        # a kernel row's kw*c inputs are contiguous in NHWC memory: one strided copy per kernel row
        # with long inner runs instead of one per kernel position
        rows_view = cols.reshape(n, ho, wo, kh, kw * c)

        def fill(start, stop):
            for i in range(kh):
                window = xp.lib.stride_tricks.as_strided(
                    xpad[start:stop, i * dilations[0]:], shape=(stop - start, ho, wo, kw * c),
                    strides=(s_n, s_h * strides[0], s_w * strides[1], s_c))
                rows_view[start:stop, :, :, i, :] = window
    else:
        cols6 = cols.reshape(n, ho, wo, kh, kw, c)

        def fill(start, stop):
            for i in range(kh):
                rows = _window(i, dilations[0], strides[0], ho)
                for j in range(kw):
                    cols6[start:stop, :, :, i, j, :] = xpad[start:stop, rows,
                                                            _window(j, dilations[1], strides[1], wo), :]
    split_batch(fill, n, cols.size, xp)
    return buf


def _col2im(dy, kernel_blocks, padded_shape, strides, dilations, ho, wo, role):
    """Scatter-add of patch gradients into a zeroed padded input ``padded_shape`` ``(n, H, W, c)``.

    ``dy`` is ``(n*ho*wo, f)`` and ``kernel_blocks`` ``(kh, kw, f, c)``: the patch gradient of kernel
    position ``(i, j)`` is ``dy @ kernel_blocks[i, j]``, ``(n, ho, wo, c)``, and lands on the input
    window ``[:, i*d : i*d + s*ho : s, j*d : j*d + s*wo : s, :]``. The products are computed per
    kernel position (one batched GEMM, the same multiply-adds as ``dy @ W^T``) so that each block is
    contiguous: with stride 1 every add then runs over whole ``(wo, c)`` rows, where slicing one
    ``(n*ho*wo, kh*kw*c)`` product would give inner runs of only ``c`` numbers (4x slower).
    """
    blocks = _block_buffer(dy, kernel_blocks, role)
    kh, kw, f, c = kernel_blocks.shape
    array_module(dy).matmul(dy, kernel_blocks.reshape(kh * kw, f, c), out=blocks)
    return _scatter_blocks(blocks, kh, kw, padded_shape, strides, dilations, ho, wo, role)


def _block_buffer(dy, kernel_blocks, role):
    """Pooled ``(kh*kw, rows, c)`` buffer for the per-kernel-position products of :func:`_col2im`."""
    xp = array_module(dy)
    kh, kw, _, c = kernel_blocks.shape
    return workspace(role + "_blocks", (kh * kw, dy.shape[0], c), xp.result_type(dy, kernel_blocks), xp)


def _scatter_blocks(blocks, kh, kw, padded_shape, strides, dilations, ho, wo, role):
    """The scatter-add half of :func:`_col2im`: ``blocks`` ``(kh*kw, n*ho*wo, c)`` into a zeroed input."""
    xp = array_module(blocks)
    n, c = padded_shape[0], blocks.shape[-1]
    blocks = blocks.reshape(kh, kw, n, ho, wo, c)
    out = workspace(role, padded_shape, blocks.dtype, xp)
    kernel = _kernel_for("scatter_blocks", blocks, blocks.size)
    if kernel is not None:  # one compiled pass (optional Numba): the same sums in the same order
        split_batch(lambda start, stop: kernel(blocks, out, *strides, *dilations, start, stop), n, blocks.size, xp)
        return out

    def add(start, stop):
        out[start:stop] = 0
        for i in range(kh):
            rows = _window(i, dilations[0], strides[0], ho)
            for j in range(kw):
                out[start:stop, rows, _window(j, dilations[1], strides[1], wo), :] += blocks[i, j, start:stop]

    split_batch(add, n, blocks.size, xp)
    return out


def _kernel_for(name, arr, size):
    """The optional compiled kernel ``name`` of :mod:`featherflow.ops._kernels` for a float32/float64 NumPy
    ``arr`` (None otherwise, or when Numba is missing or not loaded for this ``size``)."""
    if type(arr) is not np.ndarray or arr.dtype.char not in "fd":
        return None
    return _kernels.get(name, size)


def _crop(arr, pads, h, w):
    (pt, _), (pl, _) = pads
    if arr.shape[1] == h and arr.shape[2] == w:
        return arr
    return arr[:, pt:pt + h, pl:pl + w, :]


def _activation_grad(dz, out, activation, role="act_grad"):
    if activation == "relu":
        xp = array_module(dz)
        result = workspace(role, dz.shape, xp.result_type(dz, out), xp)
        kernel = _kernel_for("relu_grad", out, out.size) if type(dz) is np.ndarray and dz.dtype == out.dtype \
            and dz.shape == out.shape and dz.ndim >= 2 and dz.size else None
        if kernel is not None:  # one compiled pass (optional Numba) instead of two, the same products
            one, zero = result.dtype.type(1), result.dtype.type(0)
            d2, o2, r2 = (a.reshape(len(a), -1) for a in (dz, out, result))
            split_batch(lambda start, stop: kernel(d2[start:stop], o2[start:stop], r2[start:stop], one, zero),
                        len(dz), dz.size, xp)
            return result
        positive = workspace(role + "_mask", out.shape, bool, xp)

        def mask(start, stop):
            xp.greater(out[start:stop], 0, out=positive[start:stop])
            xp.multiply(dz[start:stop], positive[start:stop], out=result[start:stop])

        split_batch(mask, dz.shape[0] if dz.ndim else 1, dz.size, xp)
        return result
    return _fused_grad(dz, out, activation)


_ACTIVATIONS = (None, "linear", "relu", "sigmoid", "tanh")

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
    if activation not in _ACTIVATIONS:
        raise ValueError(f"{op}: activation must be one of {_ACTIVATIONS}. Received: activation={activation!r}")
    n, h, w, c = xv.shape
    kh, kw, kc, filters = wv.shape
    if kc != c:
        raise ValueError(f"{op}: input depth ({c}) must equal the kernel's input channels ({kc}) (grouped "
                         f"convolutions are not supported). Received: input.shape={xv.shape}, "
                         f"filters.shape={wv.shape}")
    (ho, pt, pb), (wo, pl, pr) = _geometry((h, w), (kh, kw), strides, dilations, padding, op)
    pads = ((pt, pb), (pl, pr))
    xp = array_module(xv)
    k = kh * kw * c
    wmat = wv.reshape(k, filters)
    pointwise = kh == kw == 1 and strides == (1, 1) and not (pt or pb or pl or pr)
    inputs = (x, kernel)
    if bias is not None:
        bias = as_float_tensor(bias, op, "bias")
        inputs = (x, kernel, bias)
    # with im2col, the bias rides along as a ones column of the patch matrix and a bias row of the
    # kernel matrix: one GEMM adds it, and the weight-gradient GEMM yields its gradient too
    augmented = bias is not None and not pointwise
    macs = n * ho * wo * k * filters
    use_threads_for(macs)
    step = None  # rows per chunk of a GEMM fused with its ReLU (None: one GEMM)
    if pointwise:
        cols2d = xv.reshape(-1, c)
        z = cols2d @ wmat
        if bias is not None:
            z += bias.value
    else:
        cols2d = _im2col(_pad(xv, pads, "conv_pad"), kh, kw, strides, dilations, ho, wo, "conv_cols",
                         ones_column=augmented)
        wfull = xp.concatenate([wmat, bias.value[None, :]]) if augmented else wmat
        # the output comes from the pool too: the op's result is reused once the step has dropped it
        z = workspace("conv_out", (n * ho * wo, filters), xp.result_type(cols2d, wfull), xp)
        step = _row_chunk(z.shape[0], filters, z.itemsize, xp) if activation == "relu" else None
        for start in range(0, z.shape[0], step) if step else ():
            _relu_inplace(xp.matmul(cols2d[start:start + step], wfull, out=z[start:start + step]), xp)
        if not step:
            xp.matmul(cols2d, wfull, out=z)
    if not step:
        z = _apply_fused(z, activation)
    out = z.reshape(n, ho, wo, filters)

    def backward(g, needs):
        gx = gw = gb = None
        use_threads_for(macs)
        step = None if pointwise or activation != "relu" else _row_chunk(z.shape[0], filters, z.itemsize, xp)
        if step and (needs[1] or (augmented and needs[2])):
            gw, gb, gx = _relu_backward_chunked(g, z, cols2d, wv, step, needs, augmented, k, xp)
            if needs[0]:
                full = _scatter_blocks(gx, kh, kw, (n, h + pt + pb, w + pl + pr, c), strides, dilations, ho, wo,
                                       "conv_dx")
                gx = _crop(full, pads, h, w)
            return (gx, gw, gb) if len(needs) == 3 else (gx, gw)
        dz = _activation_grad(g, out, activation, "conv_dz").reshape(-1, filters)
        if needs[1] or (augmented and needs[2]):
            # (dz^T @ cols)^T is markedly faster than cols^T @ dz for tall cols
            full_gw = (dz.T @ cols2d).T
            gw = full_gw[:k].reshape(wv.shape) if needs[1] else None
            gb = full_gw[k] if augmented and needs[2] else None
        if len(needs) == 3 and needs[2] and not augmented:
            gb = dz.sum(axis=0)
        if needs[0]:
            if pointwise:
                gx = (dz @ wmat.T).reshape(xv.shape)
            else:
                # kernel position (i, j) maps dz back through wv[i, j]^T: blocks (kh, kw, filters, c)
                full = _col2im(dz, wv.transpose(0, 1, 3, 2), (n, h + pt + pb, w + pl + pr, c), strides,
                               dilations, ho, wo, "conv_dx")
                gx = _crop(full, pads, h, w)
        return (gx, gw, gb) if len(needs) == 3 else (gx, gw)

    return record(op, inputs, out, backward)


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
    relu_grad = _kernel_for("relu_grad", z, z.size) if g2.dtype == z.dtype and type(g2) is np.ndarray else None
    one, zero = dtype.type(1), dtype.type(0)
    if needs[0]:
        kernel_blocks = wv.transpose(0, 1, 3, 2)  # (kh, kw, filters, c): position (i, j) maps dz through wv[i, j]^T
        blocks = _block_buffer(g2, kernel_blocks, "conv_dx")
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


def _to_nhwc(x, data_format, op, rank=4):
    if data_format in (None, "NHWC", "NWC", "channels_last"):
        return False
    if data_format in ("NCHW", "NCW", "channels_first"):
        return True
    raise ValueError(f'{op}: data_format must be "NHWC" or "NCHW" ("NWC"/"NCW" for 1-D). '
                     f"Received: data_format={data_format!r}")


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

    channels_first = _to_nhwc(input, data_format, "conv2d")
    strides_t = _tuple_arg(strides, 2, "strides", "conv2d", 1 if channels_first else None)
    dil = _tuple_arg(1 if dilations is None else dilations, 2, "dilations", "conv2d", 1 if channels_first else None)
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

    channels_first = _to_nhwc(input, data_format, "conv1d")
    s = _tuple_arg(stride, 1, "stride", "conv1d", 1 if channels_first else None)[0]
    d = _tuple_arg(1 if dilations is None else dilations, 1, "dilations", "conv1d",
                   1 if channels_first else None)[0]
    pad = parse_padding(padding, 1, "conv1d", channels_first)
    if channels_first:
        input = transpose(input, (0, 2, 1))
    pad2 = pad if isinstance(pad, str) else ((0, 0),) + pad
    out = conv2d_fused(expand_dims(input, 1), expand_dims(filters, 0), None, None, (1, s), pad2, (1, d),
                       op="conv1d")
    out = squeeze(out, 1)
    return transpose(out, (0, 2, 1)) if channels_first else out


# transposed and depthwise convolutions live in conv_variants (which builds on the helpers above);
# importable from here as before
from featherflow.ops.conv_variants import (  # noqa: E402, F401
    conv2d_transpose,
    conv2d_transpose_fused,
    depthwise_conv2d,
    depthwise_conv2d_fused,
)
