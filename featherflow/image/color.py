"""Colour ``tf.image`` ops: dtype conversion, colour spaces, brightness/contrast/saturation/hue/gamma.

Images are ``(..., rows, cols, channels)`` with RGB in the last axis. Integer images are converted to float32
in ``[0, 1]`` for the arithmetic and back (saturating) at the end, as TensorFlow does; float32/float64 images
are worked on directly (TF casts float64 to float32; featherflow keeps float64 so it can be gradient-checked).
Everything is composed of differentiable ops: hue and saturation work on TF's (hue, min, max) form, where the
adjusted pixel is linear in the input between the comparisons.

>>> import numpy as np
>>> rgb_to_grayscale(np.array([[[1.0, 1.0, 1.0]]], "float32")).numpy().round(4)
array([[[0.9999]]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.compiler import is_traced
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor

_FLOAT_KINDS = ("float16", "float32", "float64")


def _dtype_max(dtype: np.dtype):
    return np.iinfo(dtype).max if dtype.kind in "iu" else 1.0


def convert_image_dtype(image, dtype, saturate=False, name=None) -> Tensor:
    """Convert between image dtypes, rescaling: floats are in ``[0, 1]``, integers in ``[0, MAX]``.

    Integer to float divides by ``MAX``; float to integer multiplies by ``MAX + 0.5`` and truncates;
    integer to integer shifts by the bit-width ratio. ``saturate=True`` clips before a narrowing cast.

    >>> import numpy as np
    >>> convert_image_dtype(np.array([0, 128, 255], "uint8"), "float32").numpy()
    array([0.       , 0.5019608, 1.       ], dtype=float32)
    """
    image = as_tensor(image, "convert_image_dtype", "image")
    target = np.dtype(dtype)
    source = image.dtype
    if source.kind not in "iuf" or target.kind not in "iuf":
        raise TypeError(f"convert_image_dtype: images must be of an integer or float dtype. Received: "
                        f"image.dtype={source.name}, dtype={target.name}")
    if source == target:
        return ops.identity(image)
    if source.kind in "iu" and target.kind in "iu":
        in_max, out_max = int(np.iinfo(source).max), int(np.iinfo(target).max)
        if in_max > out_max:
            scaled = Tensor(image.value // ((in_max + 1) // (out_max + 1)))
            return _saturate_cast(scaled, target) if saturate else ops.cast(scaled, target)
        cast = _saturate_cast(image, target) if saturate else ops.cast(image, target)
        return Tensor(cast.value * target.type((out_max + 1) // (in_max + 1)))
    if source.kind == "f" and target.kind == "f":
        return ops.cast(image, target)
    if source.kind in "iu":
        return ops.cast(image, target) * ops.constant(1.0 / np.iinfo(source).max, dtype=target)
    scaled = image * ops.constant(np.iinfo(target).max + 0.5, dtype=source)
    return _saturate_cast(scaled, target) if saturate else ops.cast(scaled, target)


def _saturate_cast(x, dtype):
    info = np.iinfo(dtype)
    value = x.value
    if value.dtype.kind == "f":
        value = np.clip(value, info.min, info.max)
    else:
        value = np.clip(value, max(info.min, np.iinfo(value.dtype).min), min(info.max, np.iinfo(value.dtype).max))
    return Tensor(value.astype(dtype))


def _to_float(image, op):
    """``(float image, original dtype)``: integers through convert_image_dtype, float16 kept as TF does."""
    image = as_tensor(image, op, "image")
    if image.dtype.kind == "f":
        return image, image.dtype
    return convert_image_dtype(image, "float32"), image.dtype


def _back(image, dtype):
    return image if image.dtype == dtype else convert_image_dtype(image, dtype, saturate=True)


def _scalar(value):
    """A scalar argument as a float64 number or 0-d array (a traced one inside a tf.function: not read out)."""
    value = value.value if isinstance(value, Tensor) else value
    return value.astype(np.float64).reshape(()) if is_traced(value) else float(np.asarray(value))


def _check_rgb(image, op):
    if image.ndim < 1 or image.shape[-1] != 3:
        raise ValueError(f"{op}: the last dimension of the image must be 3 (RGB). Received: "
                         f"image.shape={tuple(image.shape)}")


def adjust_brightness(image, delta) -> Tensor:
    """``image + delta`` (in ``[0, 1]`` units for integer images, which saturate).

    >>> import numpy as np
    >>> adjust_brightness(np.array([0.2], "float32"), 0.5).numpy()
    array([0.7], dtype=float32)
    """
    flt, dtype = _to_float(image, "adjust_brightness")
    return _back(flt + ops.cast(delta, flt.dtype), dtype)


def adjust_contrast(images, contrast_factor) -> Tensor:
    """``(x - mean) * contrast_factor + mean``, the mean of each channel of each image (over rows and cols).

    >>> import numpy as np
    >>> adjust_contrast(np.array([[[0.0], [1.0]]], "float32"), 2.0).numpy().ravel()
    array([-0.5,  1.5], dtype=float32)
    """
    flt, dtype = _to_float(images, "adjust_contrast")
    if flt.ndim < 3:
        raise ValueError(f"adjust_contrast: images must be at least 3-D (rows, cols, channels). Received: "
                         f"images.shape={tuple(flt.shape)}")
    mean = ops.reduce_mean(flt, axis=[-3, -2], keepdims=True)
    return _back((flt - mean) * ops.cast(contrast_factor, flt.dtype) + mean, dtype)


def adjust_gamma(image, gamma=1, gain=1) -> Tensor:
    """Gamma correction ``gain * image ** gamma`` (``gamma >= 0``).

    >>> import numpy as np
    >>> adjust_gamma(np.array([0.25], "float32"), 0.5).numpy()
    array([0.5], dtype=float32)
    """
    if np.any(np.asarray(gamma.numpy() if isinstance(gamma, Tensor) else gamma) < 0):
        raise ValueError(f"Gamma should be a non-negative real number. Received: gamma={gamma}")
    flt, dtype = _to_float(image, "adjust_gamma")
    return _back(ops.cast(gain, flt.dtype) * ops.pow(flt, ops.cast(gamma, flt.dtype)), dtype)


def _tensordot_last(image, matrix):
    return ops.einsum("...i,ij->...j", image, ops.constant(np.asarray(matrix, dtype=image.dtype)))


def rgb_to_grayscale(images, name=None) -> Tensor:
    """Luma ``0.2989 R + 0.5870 G + 0.1140 B`` as a 1-channel image.

    >>> import numpy as np
    >>> rgb_to_grayscale(np.zeros((4, 4, 3), "uint8")).shape
    (4, 4, 1)
    """
    flt, dtype = _to_float(images, "rgb_to_grayscale")
    _check_rgb(flt, "rgb_to_grayscale")
    gray = _tensordot_last(flt, [[0.2989], [0.5870], [0.1140]])
    return gray if gray.dtype == dtype else convert_image_dtype(gray, dtype)


def grayscale_to_rgb(images, name=None) -> Tensor:
    """Repeat the single channel three times.

    >>> import numpy as np
    >>> grayscale_to_rgb(np.ones((2, 2, 1))).shape
    (2, 2, 3)
    """
    images = as_tensor(images, "grayscale_to_rgb", "images")
    if images.ndim < 2 or images.shape[-1] != 1:
        raise ValueError(f"grayscale_to_rgb: the last dimension of the image must be 1. Received: "
                         f"images.shape={tuple(images.shape)}")
    return ops.tile(images, [1] * (images.ndim - 1) + [3])


_YIQ = [[0.299, 0.59590059, 0.2115], [0.587, -0.27455667, -0.52273617], [0.114, -0.32134392, 0.31119955]]
_YIQ_INV = [[1.0, 1.0, 1.0], [0.95598634, -0.27201283, -1.10674021], [0.6208248, -0.64720424, 1.70423049]]
_YUV = [[0.299, -0.14714119, 0.61497538], [0.587, -0.28886916, -0.51496512], [0.114, 0.43601035, -0.10001026]]
_YUV_INV = [[1.0, 1.0, 1.0], [0.0, -0.394642334, 2.03206185], [1.13988303, -0.58062185, 0.0]]


def _linear_colorspace(images, matrix, op):
    images = as_tensor(images, op, "images")
    if images.dtype.kind != "f":
        raise TypeError(f"{op}: images must be a float tensor. Received: images.dtype={images.dtype.name}")
    _check_rgb(images, op)
    return _tensordot_last(images, matrix)


def rgb_to_yiq(images) -> Tensor:
    """RGB to YIQ (float images; Y in ``[0, 1]``)."""
    return _linear_colorspace(images, _YIQ, "rgb_to_yiq")


def yiq_to_rgb(images) -> Tensor:
    """YIQ to RGB."""
    return _linear_colorspace(images, _YIQ_INV, "yiq_to_rgb")


def rgb_to_yuv(images) -> Tensor:
    """RGB to YUV (float images; Y in ``[0, 1]``, U and V in ``[-0.5, 0.5]``)."""
    return _linear_colorspace(images, _YUV, "rgb_to_yuv")


def yuv_to_rgb(images) -> Tensor:
    """YUV to RGB."""
    return _linear_colorspace(images, _YUV_INV, "yuv_to_rgb")


def _channels(images):
    return [images[..., i] for i in range(3)]


def rgb_to_hsv(images, name=None) -> Tensor:
    """RGB to HSV, all in ``[0, 1]`` (float images): ``V = max``, ``S = (max - min) / max``, hue by sextant.

    >>> import numpy as np
    >>> rgb_to_hsv(np.array([0.0, 0.5, 1.0], "float32")).numpy()
    array([0.5833334, 1.       , 1.       ], dtype=float32)
    """
    images = as_tensor(images, "rgb_to_hsv", "images")
    if images.dtype.kind != "f":
        raise TypeError(f"rgb_to_hsv: images must be a float tensor. Received: images.dtype={images.dtype.name}")
    _check_rgb(images, "rgb_to_hsv")
    r, g, b = _channels(images)
    value = ops.reduce_max(images, axis=-1)
    spread = value - ops.reduce_min(images, axis=-1)
    positive = spread.value > 0
    safe_value = ops.where(value.value > 0, value, ops.ones_like(value))
    saturation = ops.where(value.value > 0, spread / safe_value, ops.zeros_like(value))
    norm = 1.0 / (6.0 * ops.where(positive, spread, ops.ones_like(spread)))
    is_r = r.value == value.value
    is_g = g.value == value.value
    hue = ops.where(is_r, norm * (g - b), ops.where(is_g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0))
    hue = ops.where(positive, hue, ops.zeros_like(hue))
    hue = ops.where(hue.value < 0, hue + 1.0, hue)
    return ops.stack([hue, saturation, value], axis=-1)


def hsv_to_rgb(images, name=None) -> Tensor:
    """HSV (all in ``[0, 1]``) to RGB.

    >>> import numpy as np
    >>> hsv_to_rgb(np.array([0.5833334, 1.0, 1.0], "float32")).numpy().round(5)
    array([0. , 0.5, 1. ], dtype=float32)
    """
    images = as_tensor(images, "hsv_to_rgb", "images")
    if images.dtype.kind != "f":
        raise TypeError(f"hsv_to_rgb: images must be a float tensor. Received: images.dtype={images.dtype.name}")
    _check_rgb(images, "hsv_to_rgb")
    hue, saturation, value = _channels(images)
    dh = hue * 6.0
    dr = ops.clip_by_value(ops.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = ops.clip_by_value(2.0 - ops.abs(dh - 2.0), 0.0, 1.0)
    db = ops.clip_by_value(2.0 - ops.abs(dh - 4.0), 0.0, 1.0)
    one_s = 1.0 - saturation
    return ops.stack([(one_s + saturation * d) * value for d in (dr, dg, db)], axis=-1)


# -- hue and saturation in TF's (hue sextant, min, max) form ------------------------------------------------------
# A pixel is (max, mid, min) in one of six orders; hue = sextant + ratio (or 1 - ratio) with
# ratio = (mid - min) / (max - min). Both adjustments keep the order bookkeeping constant and are linear in
# (max, mid, min), hence differentiable between the comparisons.

_ORDER = {  # sextant -> which channel holds (max, mid, min)
    0: (0, 1, 2), 1: (1, 0, 2), 2: (1, 2, 0), 3: (2, 1, 0), 4: (2, 0, 1), 5: (0, 2, 1),
}


def _sextants(rv, gv, bv):
    """TF's ``rgb_to_hv_range`` case analysis on raw arrays: the sextant of every pixel."""
    return np.where(rv < gv, np.where(bv < rv, 1, np.where(bv > gv, 3, 2)),
                    np.where(bv < gv, 0, np.where(bv > rv, 4, 5)))


def _hv_range(images):
    """``(hue in [0, 6), v_min, v_max)`` tensors as TF's AdjustHue kernel computes them."""
    r, g, b = _channels(images)
    sextant = _sextants(r.value, g.value, b.value)
    pick = [np.stack([sextant == s for s in range(6)])]
    channels = (r, g, b)

    def select(position):
        out = None
        for s in range(6):
            term = channels[_ORDER[s][position]]
            out = term if out is None else ops.where(pick[0][s], term, out)
        return out

    v_max, v_mid, v_min = select(0), select(1), select(2)
    spread = v_max - v_min
    flat = spread.value == 0
    ratio = (v_mid - v_min) / ops.where(flat, ops.ones_like(spread), spread)
    increasing = (sextant & 1) == 0
    hue = ops.cast(sextant, images.dtype) + ops.where(increasing, ratio, 1.0 - ratio)
    hue = ops.where(flat, ops.zeros_like(hue), hue)
    return hue, v_min, v_max


def _hv_range_to_rgb(hue, v_min, v_max):
    sextant = np.clip(np.floor(hue.value).astype(np.int64), 0, 5)
    ratio = hue - ops.cast(sextant, hue.dtype)
    ratio = ops.where((sextant & 1) == 0, ratio, 1.0 - ratio)
    v_mid = v_min + ratio * (v_max - v_min)
    values = (v_max, v_mid, v_min)
    out = []
    for channel in range(3):
        result = None
        for s in range(6):
            term = values[_ORDER[s].index(channel)]
            result = term if result is None else ops.where(sextant == s, term, result)
        out.append(result)
    return ops.stack(out, axis=-1)


def adjust_hue(image, delta, name=None) -> Tensor:
    """Rotate the hue by ``delta`` (in ``[-1, 1]``, a fraction of the colour wheel), keeping saturation and value.

    >>> import numpy as np
    >>> adjust_hue(np.array([1.0, 0.0, 0.0], "float32"), 1 / 3).numpy().round(5)
    array([0., 1., 0.], dtype=float32)
    """
    flt, dtype = _to_float(image, "adjust_hue")
    _check_rgb(flt, "adjust_hue")
    delta = _scalar(delta)
    if not is_traced(delta) and not -1.0 <= delta <= 1.0:  # (a value drawn inside a tf.function: checked by the caller)
        raise ValueError(f"delta must be in the interval [-1, 1]. Received: delta={delta}")
    hue, v_min, v_max = _hv_range(flt)
    hue = hue + ops.cast(delta * 6.0, flt.dtype)
    shift = np.where(hue.value < 0, 6.0, np.where(hue.value >= 6, -6.0, 0.0)).astype(flt.dtype)
    return _back(_hv_range_to_rgb(hue + shift, v_min, v_max), dtype)


def adjust_saturation(image, saturation_factor, name=None) -> Tensor:
    """Scale the HSV saturation by ``saturation_factor`` (clipped to ``[0, 1]``), keeping hue and value.

    >>> import numpy as np
    >>> adjust_saturation(np.array([0.2, 0.6, 1.0], "float32"), 0.5).numpy()
    array([0.6, 0.8, 1. ], dtype=float32)
    """
    flt, dtype = _to_float(image, "adjust_saturation")
    _check_rgb(flt, "adjust_saturation")
    factor = _scalar(saturation_factor)
    hue, v_min, v_max = _hv_range(flt)
    positive = v_max.value > 0
    safe_max = ops.where(positive, v_max, ops.ones_like(v_max))
    saturation = ops.where(positive, (v_max - v_min) / safe_max, ops.zeros_like(v_max))
    saturation = ops.clip_by_value(saturation * ops.cast(factor, flt.dtype), 0.0, 1.0)
    new_min = v_max * (1.0 - saturation)
    return _back(_hv_range_to_rgb(hue, new_min, v_max), dtype)


def per_image_standardization(image) -> Tensor:
    """``(x - mean) / max(stddev, 1 / sqrt(N))`` over each image's ``N = rows * cols * channels`` values.

    >>> import numpy as np
    >>> per_image_standardization(np.array([[[0.0], [2.0]]], "float32")).numpy().ravel()
    array([-1.,  1.], dtype=float32)
    """
    image = as_tensor(image, "per_image_standardization", "image")
    if image.ndim < 3:
        raise ValueError(f"per_image_standardization: image must be at least 3-D. Received: "
                         f"image.shape={tuple(image.shape)}")
    if image.dtype not in (np.float32, np.float64):
        image = ops.cast(image, "float32")
    count = int(np.prod(image.shape[-3:]))
    mean = ops.reduce_mean(image, axis=[-3, -2, -1], keepdims=True)
    centered = image - mean
    stddev = ops.sqrt(ops.reduce_mean(centered * centered, axis=[-3, -2, -1], keepdims=True))
    return centered / ops.maximum(stddev, ops.constant(1.0 / np.sqrt(count), dtype=image.dtype))
