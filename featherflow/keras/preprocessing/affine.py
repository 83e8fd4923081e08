"""The single-image transforms of legacy ``keras.preprocessing.image``: ``apply_affine_transform`` and the
``random_*`` helpers ImageDataGenerator is built on (NumPy arrays in, NumPy arrays out).

``apply_affine_transform`` composes rotation (degrees), shift, shear (degrees) and zoom into one matrix
about the image centre (``transform_matrix_offset_center``) and resamples every channel, as tf.keras
does with ``scipy.ndimage.affine_transform``: ``interpolation_order`` 0 (nearest) and 1 (linear) are
computed here in NumPy, all channels in one gather, with SciPy's boundary modes - ``"nearest"`` (clamp),
``"reflect"`` (``d c b a | a b c d | d c b a``), ``"wrap"`` (period ``size - 1``, SciPy's) and
``"constant"`` (``cval`` outside ``[0, size - 1]``, no interpolation across the edge); higher orders
(splines) use SciPy when it is installed. Random draws come from NumPy's global generator
(``np.random``), as in tf.keras, so ``keras.utils.set_random_seed`` fixes them.

>>> import numpy as np
>>> x = np.arange(9, dtype="float32").reshape(3, 3, 1)
>>> apply_affine_transform(x, theta=90, row_axis=0, col_axis=1, channel_axis=2)[:, :, 0]
array([[2., 5., 8.],
       [1., 4., 7.],
       [0., 3., 6.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.utils.image_utils import array_to_img, img_to_array

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def flip_axis(x, axis):
    """``x`` reversed along ``axis`` (a copy)."""
    return np.asarray(x).swapaxes(axis, 0)[::-1, ...].swapaxes(0, axis)


def transform_matrix_offset_center(matrix, x, y):
    """``matrix`` (3x3, homogeneous) applied about the centre of an ``x`` by ``y`` image instead of the origin."""
    o_x, o_y = float(x) / 2 - 0.5, float(y) / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return offset @ matrix @ reset


def _map(coord, size, fill_mode):
    """SciPy's boundary handling of a sample coordinate along an axis of ``size`` pixels."""
    if fill_mode == "constant":
        return coord
    if size <= 1:
        return np.zeros_like(coord)
    last = size - 1
    if fill_mode == "nearest":
        return np.clip(coord, 0, last)
    if fill_mode == "wrap":  # SciPy's "wrap": the first and last samples coincide (period size - 1)
        mapped = np.where(coord < 0, coord + last * (np.trunc(-coord / last) + 1), coord)
        return np.where(mapped > last, mapped - last * np.trunc(mapped / last), mapped)
    size2 = 2 * size  # "reflect": about the edge of the last pixel
    neg = coord + size2 * np.trunc(-coord / size2)
    neg = np.where(neg < -size, neg + size2, -neg - 1)
    pos = coord - size2 * np.trunc(coord / size2)
    pos = np.where(pos >= size, size2 - pos - 1, pos)
    return np.clip(np.where(coord < 0, neg, np.where(coord > last, pos, coord)), 0, last)


def _resample(channels, matrix, offset, order, fill_mode, cval):
    """``channels`` ``(c, h, w)`` sampled at ``matrix @ (row, col) + offset`` for every output pixel."""
    c, h, w = channels.shape
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    r = matrix[0, 0] * rows + matrix[0, 1] * cols + offset[0]
    q = matrix[1, 0] * rows + matrix[1, 1] * cols + offset[1]
    outside = (r < 0) | (r > h - 1) | (q < 0) | (q > w - 1) if fill_mode == "constant" else None
    r, q = np.clip(_map(r, h, fill_mode), 0, h - 1), np.clip(_map(q, w, fill_mode), 0, w - 1)
    flat = channels.reshape(c, h * w).astype(np.float64, copy=False)
    if order == 0:
        index = (np.floor(r + 0.5).astype(np.int64).clip(0, h - 1) * w
                 + np.floor(q + 0.5).astype(np.int64).clip(0, w - 1))
        out = flat[:, index]
    else:
        r0, q0 = np.floor(r), np.floor(q)
        fr, fq = r - r0, q - q0
        r0, q0 = r0.astype(np.int64), q0.astype(np.int64)
        r1, q1 = np.minimum(r0 + 1, h - 1), np.minimum(q0 + 1, w - 1)
        out = (flat[:, r0 * w + q0] * ((1 - fr) * (1 - fq)) + flat[:, r0 * w + q1] * ((1 - fr) * fq)
               + flat[:, r1 * w + q0] * (fr * (1 - fq)) + flat[:, r1 * w + q1] * (fr * fq))
    if outside is not None:
        out = np.where(outside, cval, out)
    return out.astype(channels.dtype, copy=False)


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=1, col_axis=2, channel_axis=0,
                           fill_mode="nearest", cval=0.0, order=1):
    """Apply a rotation, shift, shear and zoom to one image ``x`` (3-D: rows, cols and channels axes).

    Args:
        x: the image.
        theta: rotation angle in degrees.
        tx: shift along the rows (height) in pixels; ty: along the columns (width).
        shear: shear angle in degrees.
        zx, zy: zoom along the rows and columns (> 1 shows a larger region: zooms out).
        row_axis, col_axis, channel_axis: the axes of ``x`` (channels first or last).
        fill_mode: ``"nearest"`` (default), ``"constant"`` (``cval``), ``"reflect"`` or ``"wrap"``.
        order: interpolation order (0 nearest, 1 linear; 2-5 splines through SciPy).

    Returns the transformed image (same shape and dtype).
    """
    x = np.asarray(x)
    if np.unique([row_axis, col_axis, channel_axis]).size != 3:
        raise ValueError("'row_axis', 'col_axis', and 'channel_axis' must be distinct")
    if {row_axis, col_axis, channel_axis} != {0, 1, 2}:
        raise ValueError(f"Invalid axis' indices: {({row_axis, col_axis, channel_axis}) - {0, 1, 2}}")
    if x.ndim != 3:
        raise ValueError(f"Input arrays must be multi-channel 2D images. Received: x.shape={x.shape}")
    if channel_axis not in (0, 2):
        raise ValueError("Channels are allowed and the first and last dimensions.")
    matrix = None
    for part in _parts(theta, tx, ty, shear, zx, zy):
        matrix = part if matrix is None else matrix @ part
    if matrix is None:
        return x
    h, w = x.shape[row_axis], x.shape[col_axis]
    matrix = transform_matrix_offset_center(matrix, h, w)
    channels = np.moveaxis(x, channel_axis, 0)
    if col_axis > row_axis:
        matrix[:, [0, 1]] = matrix[:, [1, 0]]
        matrix[[0, 1]] = matrix[[1, 0]]
    affine, offset = matrix[:2, :2], matrix[:2, 2]  # in the (first, second) spatial axes of `channels`
    if order in (0, 1) and fill_mode in FILL_MODES:
        out = _resample(channels, affine, offset, order, fill_mode, cval)
    else:
        out = _scipy_resample(channels, affine, offset, order, fill_mode, cval)
    return np.moveaxis(out, 0, channel_axis)


def _parts(theta, tx, ty, shear, zx, zy):
    if theta != 0:
        t = np.deg2rad(theta)
        yield np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    if tx != 0 or ty != 0:
        yield np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    if shear != 0:
        s = np.deg2rad(shear)
        yield np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    if zx != 1 or zy != 1:
        yield np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])


def _scipy_resample(channels, affine, offset, order, fill_mode, cval):
    try:
        from scipy import ndimage
    except ImportError:
        raise ImportError(f"apply_affine_transform with order={order} (spline interpolation) or "
                          f"fill_mode={fill_mode!r} needs SciPy: pip install scipy. Orders 0 and 1 with the "
                          f"modes {FILL_MODES} need nothing else.") from None
    return np.stack([ndimage.affine_transform(ch, affine, offset, order=order, mode=fill_mode, cval=cval)
                     for ch in channels])


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                    interpolation_order=1):
    """Rotate ``x`` by an angle drawn uniformly from ``[-rg, rg]`` degrees."""
    theta = np.random.uniform(-rg, rg)
    return apply_affine_transform(x, theta=theta, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                 interpolation_order=1):
    """Shift ``x`` by fractions drawn from ``[-hrg, hrg]`` of its height and ``[-wrg, wrg]`` of its width."""
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                 interpolation_order=1):
    """Shear ``x`` by an angle drawn from ``[-intensity, intensity]`` degrees."""
    shear = np.random.uniform(-intensity, intensity)
    return apply_affine_transform(x, shear=shear, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                interpolation_order=1):
    """Zoom ``x`` by factors drawn from ``zoom_range = (lower, upper)`` for the rows and the columns."""
    if len(zoom_range) != 2:
        raise ValueError(f"`zoom_range` should be a tuple or list of two floats. Received: {zoom_range}")
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Add ``intensity`` to every channel, clipped to the image's original min..max."""
    x = np.asarray(x)
    low, high = np.min(x), np.max(x)
    return np.clip(x + intensity, low, high).astype(x.dtype, copy=False)


def random_channel_shift(x, intensity_range, channel_axis=0):
    """:func:`apply_channel_shift` by an intensity drawn from ``[-intensity_range, intensity_range]``."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x, brightness, scale=True):
    """Scale the brightness with PIL's ``ImageEnhance.Brightness`` (1 keeps the image, 0 makes it black).

    The image goes through an 8-bit PIL image, as in tf.keras (``scale`` as ``array_to_img``'s; an image
    outside ``[0, 255]`` is rescaled there and back).
    """
    from PIL import ImageEnhance

    x = np.asarray(x)
    x_min, x_max = np.min(x), np.max(x)
    local_scale = (x_min < 0) or (x_max > 255)
    image = array_to_img(x, scale=local_scale or scale)
    out = img_to_array(ImageEnhance.Brightness(image).enhance(brightness))
    if not scale and local_scale:
        out = out / 255 * (x_max - x_min) + x_min
    return out


def random_brightness(x, brightness_range, scale=True):
    """:func:`apply_brightness_shift` by a factor drawn from ``brightness_range = (lower, upper)``."""
    if len(brightness_range) != 2:
        raise ValueError(f"`brightness_range should be tuple or list of two floats. Received: {brightness_range}")
    return apply_brightness_shift(x, np.random.uniform(brightness_range[0], brightness_range[1]), scale)
