"""Moving blocks between space, batch and depth: ``space_to_batch_nd``, ``batch_to_space``,
``space_to_depth``, ``depth_to_space``, ``required_space_to_batch_paddings`` and
``extract_volume_patches``.

All are written with ``pad``, ``reshape``, ``transpose`` and slicing, so they are differentiable to any order.

>>> import featherflow as ff
>>> ff.nn.space_to_depth(ff.zeros((1, 4, 4, 3)), 2).shape
(1, 2, 2, 12)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor
from featherflow.ops.pad import pad
from featherflow.ops.shape import reshape, stack, transpose


def _int_list(value, op, arg):
    if isinstance(value, Tensor):
        value = value.value.tolist()
    return np.asarray(value, dtype=np.int64).reshape(-1 if np.ndim(value) <= 1 else np.shape(value)).tolist()


def space_to_batch_nd(input, block_shape, paddings, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Zero-pad the ``M`` spatial axes after the batch axis, then move ``block_shape`` blocks into the batch.

    Output shape: ``[batch * prod(block_shape)] + [(padded_i / block_i)] + remaining``.

    >>> import featherflow as ff
    >>> space_to_batch_nd(ff.reshape(ff.range(16.0), (1, 4, 4, 1)), [2, 2], [[0, 0], [0, 0]]).shape
    (4, 2, 2, 1)
    """
    x = as_tensor(input, "space_to_batch_nd", "input")
    block = _int_list(block_shape, "space_to_batch_nd", "block_shape")
    pads = np.asarray(_int_list(paddings, "space_to_batch_nd", "paddings"), dtype=np.int64).reshape(-1, 2)
    m = len(block)
    shape = x.value.shape
    if pads.shape[0] != m or len(shape) < m + 1 or min(block, default=1) < 1 or (pads < 0).any():
        raise InvalidArgumentError(None, None, f"space_to_batch_nd: block_shape needs one positive entry and "
                                   f"paddings one non-negative [before, after] pair per spatial axis. Received: "
                                   f"input.shape={shape}, block_shape={block}, paddings={pads.tolist()}")
    full = [[0, 0]] + pads.tolist() + [[0, 0]] * (len(shape) - m - 1)
    padded = pad(x, full)
    pshape = padded.value.shape
    for i, b in enumerate(block):
        if pshape[1 + i] % b:
            raise InvalidArgumentError(None, None, f"space_to_batch_nd: padded spatial axis {i} of size "
                                       f"{pshape[1 + i]} is not divisible by block_shape[{i}]={b}")
    batch, rest = pshape[0], pshape[m + 1:]
    split = [batch]
    for i, b in enumerate(block):
        split += [pshape[1 + i] // b, b]
    y = reshape(padded, split + list(rest))
    perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)]
    perm += list(range(1 + 2 * m, 1 + 2 * m + len(rest)))
    y = transpose(y, perm)
    return reshape(y, [batch * int(np.prod(block))] + [pshape[1 + i] // b for i, b in enumerate(block)] + list(rest))


def space_to_batch(input, block_shape, paddings, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """``space_to_batch_nd`` (TensorFlow 2's ``tf.space_to_batch`` takes the same arguments).

    >>> import featherflow as ff
    >>> space_to_batch(ff.zeros((1, 4, 4, 1)), [2, 2], [[0, 0], [0, 0]]).shape
    (4, 2, 2, 1)
    """
    return space_to_batch_nd(input, block_shape, paddings)


def batch_to_space(input, block_shape, crops, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The inverse of ``space_to_batch_nd``: move batch blocks back into the spatial axes, then crop.

    >>> import featherflow as ff
    >>> x = ff.reshape(ff.range(16.0), (1, 4, 4, 1))
    >>> y = space_to_batch_nd(x, [2, 2], [[0, 0], [0, 0]])
    >>> bool(ff.reduce_all(batch_to_space(y, [2, 2], [[0, 0], [0, 0]]) == x))
    True
    """
    from featherflow.ops.indexing import getitem

    x = as_tensor(input, "batch_to_space", "input")
    block = _int_list(block_shape, "batch_to_space", "block_shape")
    crop = np.asarray(_int_list(crops, "batch_to_space", "crops"), dtype=np.int64).reshape(-1, 2)
    m = len(block)
    shape = x.value.shape
    prod = int(np.prod(block))
    if crop.shape[0] != m or len(shape) < m + 1 or shape[0] % prod or (crop < 0).any():
        raise InvalidArgumentError(None, None, f"batch_to_space: the batch ({shape[0] if shape else None}) must be "
                                   f"divisible by prod(block_shape)={prod}, with one non-negative crop pair per "
                                   f"spatial axis. Received: input.shape={shape}, crops={crop.tolist()}")
    batch = shape[0] // prod
    spatial, rest = list(shape[1:m + 1]), list(shape[m + 1:])
    y = reshape(x, block + [batch] + spatial + rest)
    perm = [m]
    for i in range(m):
        perm += [m + 1 + i, i]
    perm += list(range(2 * m + 1, 2 * m + 1 + len(rest)))
    y = transpose(y, perm)
    full = [s * b for s, b in zip(spatial, block)]
    y = reshape(y, [batch] + full + rest)
    key = (slice(None),) + tuple(slice(int(c0), size - int(c1)) for (c0, c1), size in zip(crop, full))
    return getitem(y, key)


def _nhwc(x, data_format, op):
    fmt = str(data_format).upper()
    if fmt not in ("NHWC", "NCHW"):
        raise ValueError(f'{op}: data_format must be "NHWC" or "NCHW". Received: data_format={data_format!r}')
    if x.value.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input. Received: input.shape={x.value.shape}")
    return fmt == "NCHW"


def space_to_depth(input, block_size, data_format="NHWC", name=None) -> Tensor:  # noqa: A002
    """Move ``block_size x block_size`` spatial blocks into the channel axis.

    ``[b, h, w, c] -> [b, h / bs, w / bs, bs * bs * c]``.

    >>> import featherflow as ff
    >>> space_to_depth(ff.reshape(ff.range(4.0), (1, 2, 2, 1)), 2).numpy()
    array([[[[0., 1., 2., 3.]]]], dtype=float32)
    """
    x = as_tensor(input, "space_to_depth", "input")
    first = _nhwc(x, data_format, "space_to_depth")
    if first:
        x = transpose(x, [0, 2, 3, 1])
    b, h, w, c = x.value.shape
    bs = int(block_size)
    if bs < 2 or h % bs or w % bs:
        raise InvalidArgumentError(None, None, f"space_to_depth: block_size must be >= 2 and divide height and "
                                   f"width. Received: block_size={bs}, input.shape={x.value.shape}")
    y = transpose(reshape(x, [b, h // bs, bs, w // bs, bs, c]), [0, 1, 3, 2, 4, 5])
    y = reshape(y, [b, h // bs, w // bs, bs * bs * c])
    return transpose(y, [0, 3, 1, 2]) if first else y


def depth_to_space(input, block_size, data_format="NHWC", name=None) -> Tensor:  # noqa: A002
    """Move channel blocks into ``block_size x block_size`` spatial blocks (inverse of ``space_to_depth``).

    >>> import featherflow as ff
    >>> depth_to_space(ff.reshape(ff.range(4.0), (1, 1, 1, 4)), 2).numpy()[0, :, :, 0]
    array([[0., 1.],
           [2., 3.]], dtype=float32)
    """
    x = as_tensor(input, "depth_to_space", "input")
    first = _nhwc(x, data_format, "depth_to_space")
    if first:
        x = transpose(x, [0, 2, 3, 1])
    b, h, w, c = x.value.shape
    bs = int(block_size)
    if bs < 2 or c % (bs * bs):
        raise InvalidArgumentError(None, None, f"depth_to_space: block_size must be >= 2 and block_size^2 must "
                                   f"divide the depth. Received: block_size={bs}, input.shape={x.value.shape}")
    y = transpose(reshape(x, [b, h, w, bs, bs, c // (bs * bs)]), [0, 1, 3, 2, 4, 5])
    y = reshape(y, [b, h * bs, w * bs, c // (bs * bs)])
    return transpose(y, [0, 3, 1, 2]) if first else y


def required_space_to_batch_paddings(input_shape, block_shape, base_paddings=None, name=None) -> tuple:
    """``(paddings, crops)`` that make the spatial sizes divisible by ``block_shape`` (extra padding at the end).

    >>> [t.numpy().tolist() for t in required_space_to_batch_paddings([5, 7], [2, 3])]
    [[[0, 1], [0, 2]], [[0, 1], [0, 2]]]
    """
    shape = np.asarray(_int_list(input_shape, "required_space_to_batch_paddings", "input_shape"), dtype=np.int64)
    block = np.asarray(_int_list(block_shape, "required_space_to_batch_paddings", "block_shape"), dtype=np.int64)
    base = np.zeros((block.size, 2), np.int64) if base_paddings is None else np.asarray(
        _int_list(base_paddings, "required_space_to_batch_paddings", "base_paddings"), dtype=np.int64).reshape(-1, 2)
    full = shape + base[:, 0] + base[:, 1]
    extra = (block - full % block) % block
    paddings = np.stack([base[:, 0], base[:, 1] + extra], axis=1)
    crops = np.stack([np.zeros_like(extra), extra], axis=1)
    return Tensor(paddings.astype(np.int32)), Tensor(crops.astype(np.int32))


def extract_volume_patches(input, ksizes, strides, padding, name=None) -> Tensor:  # noqa: A002
    """3-D patches of a ``[batch, depth, height, width, channels]`` volume, flattened into the last axis.

    Args:
        ksizes, strides: ``[1, d, h, w, 1]``.
        padding: ``"VALID"`` or ``"SAME"``.

    Output: ``[batch, out_d, out_h, out_w, kd * kh * kw * channels]``, patch values in
    ``(d, h, w, channel)`` order.

    >>> import featherflow as ff
    >>> extract_volume_patches(ff.zeros((1, 4, 4, 4, 2)), [1, 2, 2, 2, 1], [1, 2, 2, 2, 1], "VALID").shape
    (1, 2, 2, 2, 16)
    """
    from featherflow.ops.conv_utils import padding_amounts
    from featherflow.ops.indexing import getitem

    x = as_tensor(input, "extract_volume_patches", "input")
    k, s = _int_list(ksizes, "extract_volume_patches", "ksizes"), _int_list(strides, "extract_volume_patches",
                                                                              "strides")
    padding = str(padding).upper()
    if x.value.ndim != 5 or len(k) != 5 or len(s) != 5 or k[0] != 1 or k[4] != 1 or s[0] != 1 or s[4] != 1 or \
            padding not in ("SAME", "VALID"):
        raise ValueError(f"extract_volume_patches: expected a 5-D input, ksizes and strides [1, d, h, w, 1] and "
                         f"padding SAME or VALID. Received: input.shape={x.value.shape}, ksizes={k}, strides={s}, "
                         f"padding={padding!r}")
    geometry = [padding_amounts(size, kk, ss, padding) for size, kk, ss in zip(x.value.shape[1:4], k[1:4], s[1:4])]
    x = pad(x, [[0, 0]] + [[g[1], g[2]] for g in geometry] + [[0, 0]])
    outs = [g[0] for g in geometry]
    pieces = []
    for i in range(k[1]):
        for j in range(k[2]):
            for m in range(k[3]):
                key = (slice(None),) + tuple(slice(o, o + st * (n - 1) + 1, st) for o, st, n in
                                             zip((i, j, m), s[1:4], outs)) + (slice(None),)
                pieces.append(getitem(x, key))
    y = stack(pieces, axis=4)  # [b, od, oh, ow, kd*kh*kw, c]
    shape = y.value.shape
    return reshape(y, list(shape[:4]) + [shape[4] * shape[5]])
