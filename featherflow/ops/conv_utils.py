"""The helpers every convolution and pooling op shares: argument parsing, output geometry, padding, im2col /
col2im, and batch-split threads.

A convolution is one GEMM over an im2col matrix (``featherflow.ops.conv``); its transposed and depthwise
variants (``featherflow.ops.conv_variants``) and the pooling ops (``featherflow.ops.pooling``) build on the same
geometry and copies. Everything here works on raw arrays (NHWC), with ``xp`` for NumPy or CuPy, and takes its
large buffers from the ops' pool (``featherflow.ops._workspace``).

>>> padding_amounts(5, 3, 2, "SAME")  # (out_size, pad_before, pad_after)
(3, 1, 1)
>>> parse_padding("same", 2, "conv2d")
'SAME'
"""

from __future__ import annotations

import os

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.backend.blas import get_num_threads, parallel_workers, use_threads_for
from featherflow.core.tensor import Tensor
from featherflow.ops import _kernels
from featherflow.ops._workspace import workspace
from featherflow.ops.array_kernels import activation_grad as fused_activation_grad

_THREADS: dict = {"executor": None, "workers": None, "size": 0}
PARALLEL_MIN_WORK = 1 << 19  # elements; below this a thread hand-off costs more than it saves


def _worker_count() -> int:
    if _THREADS["workers"] is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cpus = os.cpu_count() or 1
        _THREADS["workers"] = max(1, min(4, cpus))
    return _THREADS["workers"]


def split_parts(n: int, work: int, xp=np) -> int:
    """How many slices ``split_batch`` cuts ``n`` batch rows of ``work`` elements into now (1: no threads):
    the cores a large product would use (``backend.blas.parallel_workers``), at most ``n``; 1 for small work,
    a single core, or a non-NumPy array module."""
    workers = parallel_workers(_worker_count())
    if workers < 2 or n < 2 or work < PARALLEL_MIN_WORK or xp is not np:
        return 1
    return min(workers, n)


def split_batch(fn, n: int, work: int, xp=np, parts: int | None = None) -> None:
    """Run ``fn(start, stop)`` over batch slices in parallel threads (NumPy releases the GIL in copies
    and ufunc loops, so memory-bound work spreads over the cores BLAS uses for the GEMMs).

    Each slice must write only its own rows, so the result does not depend on the split. Small work,
    a single core, or a non-NumPy array module runs ``fn(0, n)`` directly. ``parts``: the count
    ``split_parts(n, work, xp)`` gave the caller (which may set BLAS's threads by it), else asked now.
    """
    parts = split_parts(n, work, xp) if parts is None else min(parts, n)
    if parts < 2:
        fn(0, n)
        return
    if _THREADS["executor"] is None or _THREADS.get("pid") != os.getpid() or _THREADS["size"] < parts - 1:
        # (re)created in a forked child too: the parent's worker threads do not exist there
        from concurrent.futures import ThreadPoolExecutor

        _THREADS["executor"] = ThreadPoolExecutor(max_workers=max(parts, _worker_count()) - 1,
                                                  thread_name_prefix="featherflow-batch")
        _THREADS["size"] = max(parts, _worker_count()) - 1
        _THREADS["pid"] = os.getpid()
    bounds = [n * i // parts for i in range(parts + 1)]
    futures = [_THREADS["executor"].submit(fn, bounds[i], bounds[i + 1]) for i in range(1, parts)]
    fn(bounds[0], bounds[1])
    for future in futures:
        future.result()


CHUNK_BYTES = 1 << 19  # a chunk's patch matrix: half a core's L2 (best of 2^18..2^20 in the DCGAN step)


def images_per_chunk(bytes_per_image: int, n: int) -> int:
    """Images per chunk when a convolution's patch matrix is built and used a few images at a time (``n``: no
    chunks), from the patch matrix's bytes per image; depends on the shapes only, so the chunks (and the
    products' rounding) are the same on every call and for every thread count."""
    if not CHUNK_BYTES:
        return max(1, n)
    return max(1, min(n, CHUNK_BYTES // max(1, bytes_per_image)))


def over_chunks(fn, n: int, chunk: int, work: int, xp=np) -> None:
    """``fn(start, stop)`` over the image chunks ``[0, chunk), [chunk, 2*chunk), ...`` of a batch of ``n``, the
    chunks dealt to ``split_batch``'s threads when the ``work`` (elements) pays for them. BLAS runs one thread per
    chunk product: each chunk's products are then the same whatever the thread count (and the threads are the
    cores BLAS would use)."""
    count = -(-n // chunk)
    use_threads_for(0)

    def chunks(lo, hi):
        for index in range(lo, hi):
            fn(index * chunk, min(n, (index + 1) * chunk))

    split_batch(chunks, count, work, xp)


# -- argument handling -----------------------------------------------------------------------

def tuple_arg(value, n: int, name: str, op: str, channels_pos=None) -> tuple:
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


def output_geometry(in_hw, k_hw, strides, dilations, padding, op):
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


def pad_spatial(xv, pads, role, fill=0):
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


def window(i, dilation, stride, out_size):
    start = i * dilation
    return slice(start, start + stride * (out_size - 1) + 1, stride)


def im2col(xpad, kh, kw, strides, dilations, ho, wo, role, ones_column=False, pads=None):
    """Patch matrix ``(n*ho*wo, kh*kw*c [+ 1])``: row ``(b, i, j)`` holds the window at output ``(i, j)``,
    columns in ``(kh, kw, c)`` order (the kernel's layout); ``ones_column`` appends a column of ones
    so that a bias row in the kernel matrix is added by the same GEMM. ``pads``: ``xpad`` is the unpadded
    input and these its ``((top, bottom), (left, right))`` zero padding (the compiled kernel reads the
    input directly and writes zeros for the padding: no padded copy; otherwise it is padded first).

    With a single input channel the matrix is built transposed, ``(kh*kw [+ 1], n*ho*wo)``, and
    returned as its ``.T`` view (BLAS takes either layout): in the row layout every copy would move
    runs of ``kw`` floats (a first layer on grayscale images: ~7x slower to fill), in the transposed
    one runs of ``wo``."""
    xp = array_module(xpad)
    if pads is not None and any(pads[0] + pads[1]):
        kernel = compiled_kernel("im2col_rows_padded", xpad, xpad.size) if xpad.shape[3] > 1 else None
        if kernel is not None:  # one compiled pass (optional Numba, the same copies and zeros)
            n, _, _, c = xpad.shape
            buf = workspace(role, (n * ho * wo, kh * kw * c + int(ones_column)), xpad.dtype, xp)
            if ones_column:
                buf[:, kh * kw * c] = 1
            cols6 = (buf[:, :kh * kw * c] if ones_column else buf).reshape(n, ho, wo, kh, kw, c)
            split_batch(lambda start, stop: kernel(xpad, cols6, *strides, *dilations, pads[0][0], pads[1][0], start,
                                                   stop), n, buf.size, xp)
            return buf
        xpad = pad_spatial(xpad, pads, role + "_pad")
    n, _, _, c = xpad.shape
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
    kernel = compiled_kernel("im2col_rows", xpad, buf.size)
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
                rows = window(i, dilations[0], strides[0], ho)
                for j in range(kw):
                    cols6[start:stop, :, :, i, j, :] = xpad[start:stop, rows,
                                                            window(j, dilations[1], strides[1], wo), :]
    split_batch(fill, n, cols.size, xp)
    return buf


def col2im(dy, kernel_blocks, padded_shape, strides, dilations, ho, wo, role):
    """Scatter-add of patch gradients into a zeroed padded input ``padded_shape`` ``(n, H, W, c)``.

    ``dy`` is ``(n*ho*wo, f)`` and ``kernel_blocks`` ``(kh, kw, f, c)``: the patch gradient of kernel
    position ``(i, j)`` is ``dy @ kernel_blocks[i, j]``, ``(n, ho, wo, c)``, and lands on the input
    window ``[:, i*d : i*d + s*ho : s, j*d : j*d + s*wo : s, :]``. The products are computed per
    kernel position (one batched GEMM, the same multiply-adds as ``dy @ W^T``) so that each block is
    contiguous: with stride 1 every add then runs over whole ``(wo, c)`` rows, where slicing one
    ``(n*ho*wo, kh*kw*c)`` product would give inner runs of only ``c`` numbers (4x slower).
    """
    blocks = block_buffer(dy, kernel_blocks, role)
    kh, kw, f, c = kernel_blocks.shape
    xp = array_module(dy)
    if c == 1:
        # one input channel (a first convolution's input gradient, an image-producing transposed
        # convolution): the kh*kw products would be matrix-vector products; one GEMM of the kernel's
        # (kh*kw, f) matrix with dy^T yields the same blocks, in their layout, 2.5x faster
        _blocks_1ch(kernel_blocks, dy, blocks, xp)
    else:
        xp.matmul(dy, kernel_blocks.reshape(kh * kw, f, c), out=blocks)
    return scatter_blocks(blocks, kh, kw, padded_shape, strides, dilations, ho, wo, role)


def col2im_crop(dy, kernel_blocks, padded_shape, pads, strides, dilations, ho, wo, role, out=None):
    """``crop(col2im(...), pads, h, w)``, written into ``out`` when given: with one channel and the compiled kernel, the blocks are added straight into the cropped result
    (``_numba_conv.scatter_blocks_1ch``: the same sums in the same order, no padded buffer, no crop copy; a
    contiguous pooled buffer of ``role`` when no ``out`` is given)."""
    n, hp, wp, c = padded_shape
    (pt, pb), (pl, pr) = pads
    h, w = hp - pt - pb, wp - pl - pr
    kernel = compiled_kernel("scatter_blocks_1ch", dy, dy.size) if c == 1 else None
    if kernel is None:
        cropped = crop(col2im(dy, kernel_blocks, padded_shape, strides, dilations, ho, wo, role), pads, h, w)
        if out is None:
            return cropped  # a view of the pooled padded buffer
        out[...] = cropped
        return out
    blocks = block_buffer(dy, kernel_blocks, role)
    kh, kw, f, _ = kernel_blocks.shape
    _blocks_1ch(kernel_blocks, dy, blocks, array_module(dy))
    if out is None:
        out = workspace(role, (n, h, w, 1), blocks.dtype)  # not the blocks' role: both are in use here
    blocks5 = blocks.reshape(kh, kw, n, ho, wo)
    out3 = out.reshape(n, h, w)
    split_batch(lambda start, stop: kernel(blocks5, out3, *strides, *dilations, pt, pl, start, stop), n, out.size * kh
                * kw)
    return out


WEIGHT_PRODUCT_MIN_ROWS = 256  # a threaded weight-gradient product's result needs this many rows to be safe


def weight_product(cols, dz):
    """``cols^T @ dz`` (``cols`` ``(rows, k)``, ``dz`` ``(rows, filters)``; ``rows`` large): a weight gradient.

    On one BLAS thread ``(dz^T @ cols)^T`` (faster for tall ``cols``). On several, the orientation whose result
    has the most rows, and one thread when even that has fewer than ``WEIGHT_PRODUCT_MIN_ROWS``: OpenBLAS's
    threaded product with a result of few rows synchronizes its threads per block of ``rows``, and when another
    process holds a core each synchronization waits a scheduler time slice. On the loaded 2-core machine the
    DCGAN discriminator's (64, 3136) x (3136, 513) took 80 ms (1.6 quiet), as (513, 3136) x (3136, 64) 4 ms;
    its first layer's (17, 12544) x (12544, 32) 320 ms, on one thread 0.5 ms."""
    if type(cols) is np.ndarray and get_num_threads() > 1:
        if max(cols.shape[1], dz.shape[1]) < WEIGHT_PRODUCT_MIN_ROWS:
            use_threads_for(0)
        elif cols.shape[1] >= dz.shape[1]:
            return cols.T @ dz
    return (dz.T @ cols).T


def _blocks_1ch(kernel_blocks, dy, blocks, xp):
    """The one-channel col2im's blocks ``(kh*kw, rows)`` as one GEMM on one BLAS thread: a threaded product with
    a result of so few rows (``kh*kw``) stalls a scheduler time slice per block when another process holds a
    core (7.6 ms instead of 0.37 for the DCGAN's 16 x 12544 blocks on the loaded 2-core machine), and the
    product is small (a quarter of a millisecond on one core)."""
    kh, kw, f, _ = kernel_blocks.shape
    use_threads_for(0)
    xp.matmul(kernel_blocks.reshape(kh * kw, f), dy.T, out=blocks.reshape(kh * kw, -1))


def block_buffer(dy, kernel_blocks, role):
    """Pooled ``(kh*kw, rows, c)`` buffer for the per-kernel-position products of :func:`col2im`."""
    xp = array_module(dy)
    kh, kw, _, c = kernel_blocks.shape
    return workspace(role + "_blocks", (kh * kw, dy.shape[0], c), xp.result_type(dy, kernel_blocks), xp)


def scatter_blocks(blocks, kh, kw, padded_shape, strides, dilations, ho, wo, role):
    """The scatter-add half of :func:`col2im`: ``blocks`` ``(kh*kw, n*ho*wo, c)`` into a zeroed input."""
    xp = array_module(blocks)
    n, c = padded_shape[0], blocks.shape[-1]
    blocks = blocks.reshape(kh, kw, n, ho, wo, c)
    out = workspace(role, padded_shape, blocks.dtype, xp)
    kernel = compiled_kernel("scatter_blocks", blocks, blocks.size)
    if kernel is not None:  # one compiled pass (optional Numba): the same sums in the same order
        split_batch(lambda start, stop: kernel(blocks, out, *strides, *dilations, start, stop), n, blocks.size, xp)
        return out

    def add(start, stop):
        out[start:stop] = 0
        for i in range(kh):
            rows = window(i, dilations[0], strides[0], ho)
            for j in range(kw):
                out[start:stop, rows, window(j, dilations[1], strides[1], wo), :] += blocks[i, j, start:stop]

    split_batch(add, n, blocks.size, xp)
    return out


def compiled_kernel(name, arr, size):
    """The optional compiled kernel ``name`` of :mod:`featherflow.ops._kernels` for a float32/float64 NumPy
    ``arr`` (None otherwise, or when Numba is missing or not loaded for this ``size``)."""
    if type(arr) is not np.ndarray or arr.dtype.char not in "fd":
        return None
    return _kernels.get(name, size)


def crop(arr, pads, h, w):
    (pt, _), (pl, _) = pads
    if arr.shape[1] == h and arr.shape[2] == w:
        return arr
    return arr[:, pt:pt + h, pl:pl + w, :]


def activation_grad(dz, out, activation, role="act_grad"):
    if activation == "relu":
        xp = array_module(dz)
        result = workspace(role, dz.shape, xp.result_type(dz, out), xp)
        kernel = compiled_kernel("relu_grad", out, out.size) if type(dz) is np.ndarray and dz.dtype == out.dtype \
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
    return fused_activation_grad(dz, out, activation)


def is_channels_first(data_format, op: str) -> bool:
    """Whether ``data_format`` is channels-first (``"NCHW"``/``"NCW"``/``"channels_first"``); raises on an unknown one."""
    if data_format in (None, "NHWC", "NWC", "channels_last"):
        return False
    if data_format in ("NCHW", "NCW", "channels_first"):
        return True
    raise ValueError(f'{op}: data_format must be "NHWC" or "NCHW" ("NWC"/"NCW" for 1-D). '
                     f"Received: data_format={data_format!r}")
