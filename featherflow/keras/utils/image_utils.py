"""Image file helpers of ``keras.utils`` / ``keras.preprocessing.image``: ``load_img``, ``img_to_array``,
``array_to_img``, ``save_img`` (PIL images, the ``image`` extra) and ``smart_resize``.

>>> import numpy as np
>>> smart_resize(np.zeros((10, 20, 3), "float32"), (5, 5)).shape   # centre 10x10 crop, then resize
(5, 5, 3)
"""

from __future__ import annotations

import io
import pathlib
import warnings

import numpy as np

from featherflow.backend import floatx
from featherflow.core.tensor import Tensor
from featherflow.image.codec import pillow
from featherflow.image.resizing import ResizeMethod, resize

_TF_INTERPOLATION = {
    "bilinear": ResizeMethod.BILINEAR, "nearest": ResizeMethod.NEAREST_NEIGHBOR, "bicubic": ResizeMethod.BICUBIC,
    "area": ResizeMethod.AREA, "lanczos3": ResizeMethod.LANCZOS3, "lanczos5": ResizeMethod.LANCZOS5,
    "gaussian": ResizeMethod.GAUSSIAN, "mitchellcubic": ResizeMethod.MITCHELLCUBIC,
}
PIL_INTERPOLATION = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def get_interpolation(interpolation) -> ResizeMethod:
    """The ``tf.image.resize`` method of an interpolation name (``NotImplementedError`` for others, as Keras)."""
    name = str(interpolation).lower()
    if name not in _TF_INTERPOLATION:
        raise NotImplementedError(f"Value not recognized for `interpolation`: {interpolation}. Supported values are: "
                                  f"{list(_TF_INTERPOLATION)}")
    return _TF_INTERPOLATION[name]


def _data_format(data_format):
    from featherflow.keras.backend import image_data_format

    data_format = image_data_format() if data_format is None else data_format
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Invalid data_format: {data_format}. Expected 'channels_first' or 'channels_last'.")
    return data_format


def smart_resize(x, size, interpolation="bilinear"):
    """Resize images to ``size`` without distorting them: centre-crop the largest window with the target aspect
    ratio, then resize it (``tf.image.resize``).

    Args:
        x: ``(rows, cols, channels)`` or ``(batch, rows, cols, channels)`` array or tensor.
        size: ``(height, width)``.
        interpolation: a ``tf.image.resize`` method name.

    Returns a NumPy array for a NumPy input, else a tensor (float32; ``"nearest"`` keeps the dtype).

    >>> import numpy as np
    >>> smart_resize(np.arange(12.0).reshape(3, 4, 1), (1, 1)).ravel().tolist()   # centre 3x3 window, bilinear: its middle
    [5.0]
    """
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    is_array = isinstance(x, np.ndarray)
    image = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    if image.ndim not in (3, 4):
        raise ValueError(f"Expected an image array with shape `(height, width, channels)`, or `(batch_size, height, "
                         f"width, channels)`, but got input with incorrect rank, of shape {tuple(image.shape)}.")
    height, width = image.shape[-3], image.shape[-2]
    target_height, target_width = (int(s) for s in size)
    crop_height = min(height, int(np.float32(width * target_height) / np.float32(target_width)))
    crop_width = min(width, int(np.float32(height * target_width) / np.float32(target_height)))
    top = int(np.float32(height - crop_height) / np.float32(2))
    left = int(np.float32(width - crop_width) / np.float32(2))
    image = image[..., top:top + crop_height, left:left + crop_width, :]
    out = resize(image, (target_height, target_width), method=get_interpolation(interpolation))
    return out.numpy() if is_array else out


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A PIL image from a 3-D array: 1 channel gives mode ``"L"`` (``"I"`` above 255), 3 ``"RGB"``, 4 ``"RGBA"``;
    ``scale=True`` maps the array's min..max to 0..255.

    >>> import numpy as np
    >>> array_to_img(np.zeros((2, 3, 3))).size
    (3, 2)
    """
    data_format = _data_format(data_format)
    Image = pillow()
    x = np.array(x.numpy() if isinstance(x, Tensor) else x, dtype=dtype or floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return Image.fromarray(np.ascontiguousarray(x.astype("uint8")))  # RGB / RGBA from the channel count
    if channels == 1:
        if np.max(x) > 255:
            return Image.fromarray(np.ascontiguousarray(x[:, :, 0].astype("int32")), "I")
        return Image.fromarray(np.ascontiguousarray(x[:, :, 0].astype("uint8")))
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format=None, dtype=None) -> np.ndarray:
    """A 3-D float array ``(rows, cols, channels)`` (``channels_first``: ``(channels, rows, cols)``) from a PIL
    image (or anything ``numpy.asarray`` takes).

    >>> import numpy as np
    >>> img_to_array(array_to_img(np.zeros((2, 3, 1)), scale=False)).shape
    (2, 3, 1)
    """
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x.reshape((1,) + x.shape) if data_format == "channels_first" else x.reshape(x.shape + (1,))
    raise ValueError(f"Unsupported image shape: {x.shape}")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs) -> None:
    """Save a 3-D array as an image file (format from the extension, or ``file_format``; extra arguments go to
    ``PIL.Image.save``). RGBA arrays saved as JPEG are converted to RGB with a warning."""
    image = array_to_img(x, data_format=_data_format(data_format), scale=scale)
    if image.mode == "RGBA" and file_format in ("jpg", "jpeg"):
        warnings.warn("The JPG format does not support RGBA images, converting to RGB.", stacklevel=2)
        image = image.convert("RGB")
    image.save(path, format=file_format, **kwargs)


def load_img(path, grayscale=False, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Load an image file as a PIL image, converted to ``color_mode`` (``"grayscale"``, ``"rgb"``, ``"rgba"``)
    and resized with PIL to ``target_size = (height, width)`` if given (``keep_aspect_ratio``: centre-crop to
    the target aspect ratio first).

    Args:
        path: a path (str, bytes, ``pathlib.Path``) or an ``io.BytesIO``.
        grayscale: deprecated, ``color_mode="grayscale"``.
        interpolation: ``"nearest"`` (default), ``"bilinear"``, ``"bicubic"``, ``"hamming"``, ``"box"``,
            ``"lanczos"`` (PIL's filters).
    """
    if grayscale:
        warnings.warn('grayscale is deprecated. Please use color_mode = "grayscale"', stacklevel=2)
        color_mode = "grayscale"
    Image = pillow()
    if isinstance(path, io.BytesIO):
        image = Image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        with open(str(pathlib.Path(path.decode() if isinstance(path, bytes) else path).resolve()), "rb") as f:
            image = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    if color_mode == "grayscale":
        if image.mode not in ("L", "I;16", "I"):
            image = image.convert("L")
    elif color_mode in ("rgb", "rgba"):
        mode = color_mode.upper()
        if image.mode != mode:
            image = image.convert(mode)
    else:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if target_size is None:
        return image
    width_height = (int(target_size[1]), int(target_size[0]))
    if image.size == width_height:
        return image
    if interpolation not in PIL_INTERPOLATION:
        raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported methods are "
                         f"{', '.join(PIL_INTERPOLATION)}")
    resample = getattr(Image.Resampling, interpolation.upper())
    if keep_aspect_ratio:
        width, height = image.size
        target_width, target_height = width_height
        crop_height = min(height, (width * target_height) // target_width)
        crop_width = min(width, (height * target_width) // target_height)
        top, left = (height - crop_height) // 2, (width - crop_width) // 2
        image = image.crop((left, top, left + crop_width, top + crop_height))
    return image.resize(width_height, resample)
