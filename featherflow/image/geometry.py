"""Geometric ``tf.image`` ops: flips, rotations by 90 degrees, transposes, crops, pads, patches, crop-and-resize.

All take one image ``(rows, cols, channels)`` or a batch ``(batch, rows, cols, channels)`` and are built on
differentiable ops (reverse, transpose, slicing, pad, gather), so the tape differentiates them like TF.

>>> import numpy as np
>>> image = np.arange(6, dtype="float32").reshape(2, 3, 1)
>>> flip_left_right(image).numpy()[:, :, 0]
array([[2., 1., 0.],
       [5., 4., 3.]], dtype=float32)
>>> rot90(image).numpy()[:, :, 0]
array([[2., 5.],
       [1., 4.],
       [0., 3.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.core.tensor import Tensor
from featherflow.image.sampling import round_half_away, weighted_gather
from featherflow.ops._convert import as_tensor
from featherflow.ops.conv_utils import padding_amounts


def image_tensor(image, op: str, arg: str = "image", ranks=(3, 4)) -> Tensor:
    """``image`` as a tensor of rank 3 or 4 (TensorFlow's message otherwise)."""
    image = as_tensor(image, op, arg)
    if image.ndim not in ranks:
        allowed = " or ".join(str(r) for r in ranks)
        raise ValueError(f"'{arg}' (shape {tuple(image.shape)}) must have either {allowed} dimensions.")
    return image


def _int(value, name):
    if isinstance(value, Tensor):
        value = value.numpy()
    try:
        return int(np.asarray(value).item())
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r}") from None


def flip_left_right(image) -> Tensor:
    """Mirror the columns (the width axis) of an image or a batch.

    >>> import numpy as np
    >>> flip_left_right(np.array([[[1.0], [2.0]]])).numpy().ravel()
    array([2., 1.])
    """
    image = image_tensor(image, "flip_left_right")
    return ops.reverse(image, [image.ndim - 2])


def flip_up_down(image) -> Tensor:
    """Mirror the rows (the height axis) of an image or a batch.

    >>> import numpy as np
    >>> flip_up_down(np.array([[[1.0]], [[2.0]]])).numpy().ravel()
    array([2., 1.])
    """
    image = image_tensor(image, "flip_up_down")
    return ops.reverse(image, [image.ndim - 3])


def transpose(image, name=None) -> Tensor:
    """Swap rows and columns (``(h, w, c) -> (w, h, c)``), per image of a batch.

    >>> import numpy as np
    >>> transpose(np.zeros((2, 3, 1))).shape
    (3, 2, 1)
    """
    image = image_tensor(image, "transpose")
    perm = (1, 0, 2) if image.ndim == 3 else (0, 2, 1, 3)
    return ops.transpose(image, perm)


def rot90(image, k=1, name=None) -> Tensor:
    """Rotate counter-clockwise by ``k`` quarter turns (``k`` may be negative).

    >>> import numpy as np
    >>> rot90(np.arange(4.0).reshape(2, 2, 1), k=2).numpy()[:, :, 0]
    array([[3., 2.],
           [1., 0.]])
    """
    image = image_tensor(image, "rot90")
    k = _int(k, "k") % 4
    rows, cols = image.ndim - 3, image.ndim - 2
    if k == 0:
        return ops.identity(image)
    if k == 2:
        return ops.reverse(image, [rows, cols])
    if k == 1:
        return transpose(ops.reverse(image, [cols]))
    return ops.reverse(transpose(image), [cols])


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width) -> Tensor:
    """The window of ``target_height x target_width`` pixels whose top-left corner is at the offsets.

    >>> import numpy as np
    >>> crop_to_bounding_box(np.arange(16.0).reshape(4, 4, 1), 1, 2, 2, 2).numpy()[:, :, 0]
    array([[ 6.,  7.],
           [10., 11.]])
    """
    image = image_tensor(image, "crop_to_bounding_box")
    top, left = _int(offset_height, "offset_height"), _int(offset_width, "offset_width")
    th, tw = _int(target_height, "target_height"), _int(target_width, "target_width")
    h, w = image.shape[-3], image.shape[-2]
    for ok, message in ((left >= 0, "offset_width must be >= 0."), (top >= 0, "offset_height must be >= 0."),
                        (tw > 0, "target_width must be > 0."), (th > 0, "target_height must be > 0."),
                        (w >= tw + left, "width must be >= target + offset."),
                        (h >= th + top, "height must be >= target + offset.")):
        if not ok:
            raise ValueError(f"crop_to_bounding_box: {message} Received: image.shape={tuple(image.shape)}, "
                             f"offsets=({top}, {left}), target=({th}, {tw})")
    return image[..., top:top + th, left:left + tw, :]


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width) -> Tensor:
    """Zero-pad to ``target_height x target_width``, the image's top-left corner at the offsets.

    >>> import numpy as np
    >>> pad_to_bounding_box(np.ones((1, 1, 1)), 1, 0, 3, 2).numpy()[:, :, 0]
    array([[0., 0.],
           [1., 0.],
           [0., 0.]])
    """
    image = image_tensor(image, "pad_to_bounding_box")
    top, left = _int(offset_height, "offset_height"), _int(offset_width, "offset_width")
    th, tw = _int(target_height, "target_height"), _int(target_width, "target_width")
    h, w = image.shape[-3], image.shape[-2]
    bottom, right = th - top - h, tw - left - w
    for ok, message in ((top >= 0, "offset_height must be >= 0"), (left >= 0, "offset_width must be >= 0"),
                        (right >= 0, "width must be <= target - offset"),
                        (bottom >= 0, "height must be <= target - offset")):
        if not ok:
            raise ValueError(f"pad_to_bounding_box: {message}. Received: image.shape={tuple(image.shape)}, "
                             f"offsets=({top}, {left}), target=({th}, {tw})")
    pads = [[0, 0]] * (image.ndim - 3) + [[top, bottom], [left, right], [0, 0]]
    return ops.pad(image, pads)


def resize_with_crop_or_pad(image, target_height, target_width) -> Tensor:
    """Centre-crop and/or zero-pad to the target size (the odd pixel cropped/padded at the end).

    >>> import numpy as np
    >>> resize_with_crop_or_pad(np.ones((4, 2, 1)), 2, 4).numpy()[:, :, 0]
    array([[0., 1., 1., 0.],
           [0., 1., 1., 0.]])
    """
    image = image_tensor(image, "resize_with_crop_or_pad")
    th, tw = _int(target_height, "target_height"), _int(target_width, "target_width")
    if th <= 0 or tw <= 0:
        raise ValueError(f"resize_with_crop_or_pad: target_height and target_width must be > 0. Received: "
                         f"target=({th}, {tw})")
    h, w = image.shape[-3], image.shape[-2]
    crop_top, crop_left = max((h - th) // 2, 0), max((w - tw) // 2, 0)
    pad_top, pad_left = max((th - h) // 2, 0), max((tw - w) // 2, 0)
    cropped = crop_to_bounding_box(image, crop_top, crop_left, min(th, h), min(tw, w))
    return pad_to_bounding_box(cropped, pad_top, pad_left, th, tw)


def central_crop(image, central_fraction) -> Tensor:
    """Keep the central ``central_fraction`` (in ``(0, 1]``) of the rows and of the columns.

    >>> import numpy as np
    >>> central_crop(np.zeros((10, 6, 3)), 0.5).shape  # start int((10 - 5) / 2) = 2 at both ends
    (6, 4, 3)
    """
    image = image_tensor(image, "central_crop")
    fraction = float(central_fraction)
    if fraction <= 0.0 or fraction > 1.0:
        raise ValueError(f"central_fraction must be within (0, 1]. Received: central_fraction={central_fraction}")
    if fraction == 1.0:
        return image
    h, w = image.shape[-3], image.shape[-2]
    top, left = int((h - h * fraction) / 2), int((w - w * fraction) / 2)
    return image[..., top:h - top, left:w - left, :]


def _four(values, name):
    if isinstance(values, Tensor):
        values = values.numpy()
    items = [int(v) for v in np.asarray(values).ravel()]
    if len(items) != 4 or items[0] != 1 or items[3] != 1 or min(items) < 1:
        raise ValueError(f"extract_patches: `{name}` must be [1, rows, cols, 1] with positive entries. "
                         f"Received: {name}={values!r}")
    return items[1], items[2]


def extract_patches(images, sizes, strides, rates, padding, name=None) -> Tensor:
    """Patches of ``sizes`` pixels every ``strides`` pixels (sampling every ``rates``-th pixel inside a
    patch), flattened into the depth axis: ``(batch, out_rows, out_cols, size_rows * size_cols * channels)``.

    Args:
        images: ``(batch, rows, cols, channels)``.
        sizes, strides, rates: ``[1, rows, cols, 1]``.
        padding: ``"VALID"`` (patches inside the image) or ``"SAME"`` (zero-padded, ``ceil(in / stride)`` patches).

    >>> import numpy as np
    >>> extract_patches(np.arange(16.0).reshape(1, 4, 4, 1), [1, 2, 2, 1], [1, 2, 2, 1], [1, 1, 1, 1],
    ...                 "VALID").numpy()[0, 0, 1]
    array([2., 3., 6., 7.])
    """
    images = image_tensor(images, "extract_patches", "images", ranks=(4,))
    kh, kw = _four(sizes, "sizes")
    sh, sw = _four(strides, "strides")
    rh, rw = _four(rates, "rates")
    mode = str(padding).upper()
    if mode not in ("SAME", "VALID"):
        raise ValueError(f'extract_patches: `padding` must be "SAME" or "VALID". Received: padding={padding!r}')
    n, h, w, c = images.shape
    out_h, top, bottom = padding_amounts(h, (kh - 1) * rh + 1, sh, mode)
    out_w, left, right = padding_amounts(w, (kw - 1) * rw + 1, sw, mode)
    if out_h <= 0 or out_w <= 0:
        return ops.zeros((n, max(out_h, 0), max(out_w, 0), kh * kw * c), dtype=images.dtype)
    padded = ops.pad(images, [[0, 0], [top, bottom], [left, right], [0, 0]]) if top + bottom + left + right \
        else images
    hp, wp = h + top + bottom, w + left + right
    rows = (np.arange(out_h) * sh)[:, None, None, None] + (np.arange(kh) * rh)[None, None, :, None]
    cols = (np.arange(out_w) * sw)[None, :, None, None] + (np.arange(kw) * rw)[None, None, None, :]
    index = (np.arange(n) * hp * wp).reshape(n, 1, 1, 1, 1) + (rows * wp + cols)[None]
    flat = ops.reshape(padded, (n * hp * wp, c))
    return ops.reshape(ops.gather(flat, index.ravel(), axis=0), (n, out_h, out_w, kh * kw * c))


def crop_and_resize(image, boxes, box_indices, crop_size, method="bilinear", extrapolation_value=0.0,
                    name=None) -> Tensor:
    """Crop ``boxes`` out of a batch and resize each crop to ``crop_size`` (TF's ``CropAndResize``).

    Args:
        image: ``(batch, rows, cols, channels)``.
        boxes: ``(num_boxes, 4)`` normalised ``[y1, x1, y2, x2]`` (``y = y1 * (rows - 1)`` ...; ``y1 > y2``
            flips the crop; coordinates outside ``[0, 1]`` read ``extrapolation_value``).
        box_indices: ``(num_boxes,)`` the image of each box.
        crop_size: ``(crop_rows, crop_cols)``.
        method: ``"bilinear"`` or ``"nearest"``.

    Returns float32 ``(num_boxes, crop_rows, crop_cols, channels)`` (float64 stays float64), differentiable
    with respect to the image.

    >>> import numpy as np
    >>> crop_and_resize(np.arange(9.0).reshape(1, 3, 3, 1), [[0, 0, 1, 1]], [0], (2, 2)).numpy()[0, :, :, 0]
    array([[0., 2.],
           [6., 8.]])
    """
    image = image_tensor(image, "crop_and_resize", ranks=(4,))
    if image.dtype not in (np.float32, np.float64):
        image = ops.cast(image, "float32")
    n, h, w, c = image.shape
    box = np.asarray(boxes.numpy() if isinstance(boxes, Tensor) else boxes, dtype=np.float32).reshape(-1, 4)
    which = np.asarray(box_indices.numpy() if isinstance(box_indices, Tensor) else box_indices, np.int64).ravel()
    if len(which) != len(box):
        raise ValueError(f"crop_and_resize: `boxes` and `box_indices` must have the same number of boxes. "
                         f"Received: boxes.shape={box.shape}, box_indices.shape={which.shape}")
    if which.size and (which.min() < 0 or which.max() >= n):
        raise ValueError(f"crop_and_resize: box_indices must be in [0, {n}). Received: box_indices={which.tolist()}")
    crop_h, crop_w = (int(v) for v in np.asarray(crop_size).ravel())
    if crop_h <= 0 or crop_w <= 0:
        raise ValueError(f"crop_and_resize: crop_size must be positive. Received: crop_size={crop_size}")
    if method not in ("bilinear", "nearest"):
        raise ValueError(f'crop_and_resize: method must be "bilinear" or "nearest". Received: method={method!r}')

    def positions(lo, hi, size, count):
        lo, hi = lo[:, None], hi[:, None]
        if count > 1:
            scale = (hi - lo) * np.float32(size - 1) / np.float32(count - 1)
            return lo * np.float32(size - 1) + np.arange(count, dtype=np.float32) * scale
        return np.broadcast_to(np.float32(0.5) * (lo + hi) * np.float32(size - 1), (len(lo), 1))

    y = positions(box[:, 0], box[:, 2], h, crop_h)[:, :, None]  # (boxes, crop_h, 1)
    x = positions(box[:, 1], box[:, 3], w, crop_w)[:, None, :]  # (boxes, 1, crop_w)
    outside = (y < 0) | (y > h - 1) | (x < 0) | (x > w - 1)
    shape = (len(box), crop_h, crop_w)
    y, x = np.broadcast_to(y, shape), np.broadcast_to(x, shape)
    base = (which * h * w).reshape(-1, 1, 1)
    if method == "nearest":
        ry = np.clip(round_half_away(y), 0, h - 1)
        rx = np.clip(round_half_away(x), 0, w - 1)
        index = (base + (ry * w + rx).astype(np.int64)).reshape(-1, 1)
        weight = (~outside).astype(np.float32).reshape(-1, 1)
    else:
        y0, x0 = np.clip(np.floor(y), 0, h - 1), np.clip(np.floor(x), 0, w - 1)
        y1, x1 = np.clip(np.ceil(y), 0, h - 1), np.clip(np.ceil(x), 0, w - 1)
        dy, dx = y - np.floor(y), x - np.floor(x)
        corners = [(y0, x0, (1 - dy) * (1 - dx)), (y0, x1, (1 - dy) * dx), (y1, x0, dy * (1 - dx)),
                   (y1, x1, dy * dx)]
        index = np.stack([base + (cy * w + cx).astype(np.int64) for cy, cx, _ in corners], axis=-1).reshape(-1, 4)
        weight = np.stack([np.where(outside, 0, wt) for _, _, wt in corners], axis=-1).reshape(-1, 4)
    fill = outside.astype(np.float32).ravel()
    return weighted_gather(image, index, weight, shape + (c,), fill, float(extrapolation_value), "crop_and_resize")
