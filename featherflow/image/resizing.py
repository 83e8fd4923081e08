"""``tf.image.resize`` and its relatives: every method as two separable resampling matrices.

Resizing is linear and separable, so each method is an ``(out, in)`` weight matrix per axis, applied
with two contractions (``rows`` then ``cols``); the gradient is the transposed matrices (the tape's
einsum rule), exactly TensorFlow's ``Resize*Grad`` kernels. The matrices follow TF 2's kernels:

- ``"bilinear"``: half-pixel centres, source ``(o + 0.5) * in/out - 0.5`` clamped to the image.
- ``"nearest"``: ``floor((o + 0.5) * in/out)`` (a gather, so integer images keep their dtype).
- ``"bicubic"``: Keys' cubic (``a = -0.5``) with TF's 1/1024 weight table; taps outside the image are
  dropped and the rest renormalised.
- ``"area"``: each output averages the input cells its box ``[o, o + 1) * in/out`` covers.
- ``"lanczos3"``, ``"lanczos5"``, ``"gaussian"``, ``"mitchellcubic"``, and any method with ``antialias=True``
  (triangle / Keys kernels for bilinear / bicubic): TF's ``ScaleAndTranslate`` filters, widened by
  ``in/out`` when downsampling with ``antialias``.

>>> import numpy as np
>>> resize(np.arange(4, dtype="float32").reshape(1, 2, 2, 1), (4, 4)).numpy()[0, :, :, 0]
array([[0.  , 0.25, 0.75, 1.  ],
       [0.5 , 0.75, 1.25, 1.5 ],
       [1.5 , 1.75, 2.25, 2.5 ],
       [2.  , 2.25, 2.75, 3.  ]], dtype=float32)
"""

from __future__ import annotations

import enum
import functools

import numpy as np

from featherflow import ops
from featherflow.core.tensor import Tensor
from featherflow.image.geometry import pad_to_bounding_box
from featherflow.ops._convert import as_tensor


class ResizeMethod(str, enum.Enum):
    """The names ``tf.image.resize`` accepts for ``method`` (compare equal to the strings)."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"

    def __str__(self) -> str:
        return self.value


_METHODS = tuple(m.value for m in ResizeMethod)


# -- sampling kernels of ScaleAndTranslate (radius, function of |x|) ---------------------------------------------

def _lanczos(radius):
    def kernel(x):
        x = np.abs(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi * np.pi * x * x)
        return np.where(x > radius, 0.0, np.where(x <= 1e-3, 1.0, value))
    return radius, kernel


def _gaussian(x):
    x = np.abs(x)
    sigma = 1.5 / 3.0
    return np.where(x >= 1.5, 0.0, np.exp(-x * x / (2.0 * sigma * sigma)))


def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1.0, 1.0 - x, 0.0)


def _keys_cubic(x):
    x = np.abs(x)
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0,
                                             ((1.5 * x - 2.5) * x) * x + 1.0))


def _mitchell_cubic(x):
    x = np.abs(x)
    far = (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    near = (((7.0 / 6.0) * x - 2.0) * x) * x + 8.0 / 9.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))


_KERNELS = {
    "bilinear": (1.0, _triangle), "bicubic": (2.0, _keys_cubic), "lanczos3": _lanczos(3.0),
    "lanczos5": _lanczos(5.0), "gaussian": (1.5, _gaussian), "mitchellcubic": (2.0, _mitchell_cubic),
}


def _scale_and_translate(in_size: int, out_size: int, method: str, antialias: bool) -> np.ndarray:
    radius, kernel = _KERNELS[method]
    scale = np.float32(out_size) / np.float32(in_size)
    inv_scale = 1.0 / float(scale)
    kernel_scale = max(inv_scale, 1.0) if antialias else 1.0
    matrix = np.zeros((out_size, in_size))
    for o in range(out_size):
        sample = (o + 0.5) * inv_scale
        if sample < 0 or sample > in_size:
            continue
        start = int(np.ceil(sample - radius * kernel_scale - 0.5))
        end = int(np.floor(sample + radius * kernel_scale - 0.5))
        start, end = min(max(start, 0), in_size - 1), min(max(end, 0), in_size - 1) + 1
        sources = np.arange(start, end)
        weights = kernel((sources + 0.5 - sample) / kernel_scale)
        total = weights.sum()
        if abs(total) >= 1000.0 * np.finfo(np.float32).tiny:
            weights = weights / total
        matrix[o, start:end] = weights
    return matrix


def _bilinear(in_size: int, out_size: int) -> np.ndarray:
    scale = np.float32(in_size) / np.float32(out_size)
    rows = np.arange(out_size)
    pos = (rows.astype(np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    low = np.floor(pos)
    frac = (pos - low).astype(np.float64)
    lower = np.clip(low, 0, in_size - 1).astype(int)
    upper = np.clip(np.ceil(pos), 0, in_size - 1).astype(int)
    matrix = np.zeros((out_size, in_size))
    np.add.at(matrix, (rows, lower), 1.0 - frac)
    np.add.at(matrix, (rows, upper), frac)
    return matrix


_CUBIC_TABLE_SIZE = 1024


def _bicubic(in_size: int, out_size: int) -> np.ndarray:
    scale = np.float32(in_size) / np.float32(out_size)
    a = -0.5
    matrix = np.zeros((out_size, in_size))
    for o in range(out_size):
        pos = (np.float32(o) + np.float32(0.5)) * scale - np.float32(0.5)
        base = int(np.floor(pos))
        offset = int(np.rint(np.float32(pos - base) * _CUBIC_TABLE_SIZE))
        t = offset / _CUBIC_TABLE_SIZE
        near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1  # noqa: E731 - |x| <= 1
        far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a  # noqa: E731 - 1 < |x| < 2
        taps = {base - 1: far(t + 1), base: near(t), base + 1: near(1 - t), base + 2: far(2 - t)}
        taps = {i: np.float32(wt) for i, wt in taps.items() if 0 <= i < in_size}
        total = sum(taps.values())
        for i, wt in taps.items():
            matrix[o, i] = wt / total if abs(total) >= 1000.0 * np.finfo(np.float32).tiny else wt
    return matrix


def _area(in_size: int, out_size: int) -> np.ndarray:
    scale = np.float32(in_size) / np.float32(out_size)
    matrix = np.zeros((out_size, in_size))
    for o in range(out_size):
        lo, hi = np.float32(o) * scale, np.float32(o + 1) * scale
        start, end = int(np.floor(lo)), int(np.ceil(hi))
        for i in range(start, end):
            weight = min(i + 1, hi) - max(i, lo)
            matrix[o, min(i, in_size - 1)] += weight
        matrix[o] /= scale
    return matrix


@functools.lru_cache(maxsize=256)
def resize_matrix(in_size: int, out_size: int, method: str, antialias: bool = False) -> np.ndarray:
    """The ``(out_size, in_size)`` float64 matrix resizing one axis with ``method`` (see the module docstring).

    >>> resize_matrix(4, 2, "area").tolist()
    [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
    """
    if method == "nearest":
        scale = np.float32(in_size) / np.float32(out_size)
        src = np.minimum(np.floor((np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale).astype(int),
                         in_size - 1)
        matrix = np.zeros((out_size, in_size))
        matrix[np.arange(out_size), src] = 1.0
    elif method == "area":
        matrix = _area(in_size, out_size)
    elif method in ("bilinear", "bicubic") and not antialias:
        matrix = _bilinear(in_size, out_size) if method == "bilinear" else _bicubic(in_size, out_size)
    else:
        matrix = _scale_and_translate(in_size, out_size, method, antialias)
    matrix.setflags(write=False)
    return matrix


def _method_name(method) -> str:
    name = method.value if isinstance(method, ResizeMethod) else method
    if not isinstance(name, str) or name.lower() not in _METHODS:
        raise ValueError(f"Resize method is not implemented: [{method}]. Expected one of {list(_METHODS)}.")
    return name.lower()


def _size_pair(size, op):
    if isinstance(size, Tensor):
        size = size.numpy()
    try:
        pair = [int(v) for v in np.asarray(size).ravel()]
    except (TypeError, ValueError):
        pair = []
    if len(pair) != 2:
        raise ValueError(f"'size' must be a 1-D Tensor of 2 elements: new_height, new_width. Received: size={size!r}")
    if min(pair) <= 0:
        raise ValueError(f"{op}: the output size must be positive. Received: size={pair}")
    return pair


def _batched(image, op):
    image = as_tensor(image, op, "images")
    if image.ndim not in (3, 4):
        raise ValueError(f"'images' must have either 3 or 4 dimensions. Received: images.shape={tuple(image.shape)}")
    return (ops.expand_dims(image, 0), False) if image.ndim == 3 else (image, True)


def resize_axes(images, out_h: int, out_w: int, method: str, antialias: bool = False, axes=(1, 2)) -> Tensor:
    """Resize the two spatial ``axes`` of a float tensor with :func:`resize_matrix` (differentiable).

    ``"nearest"`` is a gather instead, which keeps any dtype.
    """
    h_axis, w_axis = axes
    h, w = images.shape[h_axis], images.shape[w_axis]
    if method == "nearest":
        out = images
        if out_h != h:
            out = ops.gather(out, resize_matrix(h, out_h, "nearest").argmax(axis=1), axis=h_axis)
        if out_w != w:
            out = ops.gather(out, resize_matrix(w, out_w, "nearest").argmax(axis=1), axis=w_axis)
        return out
    dtype = images.dtype
    letters = "abcdefgh"[:images.ndim]
    out = images
    for axis, size, new in ((h_axis, h, out_h), (w_axis, w, out_w)):
        matrix = ops.constant(resize_matrix(size, new, method, antialias).astype(dtype))
        spec_in = letters
        spec_out = letters[:axis] + "z" + letters[axis + 1:]
        out = ops.einsum(f"z{letters[axis]},{spec_in}->{spec_out}", matrix, out)
    return out


def _float_images(images):
    """Non-nearest resizing computes in float32 (float64 stays float64: featherflow keeps it for gradient checks)."""
    return images if images.dtype in (np.float32, np.float64) else ops.cast(images, "float32")


def resize(images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False, antialias=False,
           name=None) -> Tensor:
    """Resize ``images`` to ``size`` (``tf.image.resize``, TensorFlow 2 semantics).

    Args:
        images: ``(batch, rows, cols, channels)`` or ``(rows, cols, channels)``.
        size: ``(new_height, new_width)``.
        method: a :class:`ResizeMethod` or its name: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``,
            ``"area"``, ``"lanczos3"``, ``"lanczos5"``, ``"gaussian"``, ``"mitchellcubic"``.
        preserve_aspect_ratio: scale both axes by the same factor so the result fits in ``size``
            (``round(min(new_h / h, new_w / w) * h)`` rows, likewise columns).
        antialias: low-pass filter when downsampling (widens the bilinear/bicubic/... kernel by ``in/out``).

    Returns float32 images (``"nearest"`` keeps the input dtype; float64 stays float64). Differentiable
    with respect to float images.

    >>> import numpy as np
    >>> resize(np.zeros((10, 20, 3), "uint8"), (5, 5), preserve_aspect_ratio=True).shape  # round(2.5) = 2
    (2, 5, 3)
    """
    method = _method_name(method)
    new_h, new_w = _size_pair(size, "resize")
    images, batched = _batched(images, "resize")
    h, w = images.shape[1], images.shape[2]
    if preserve_aspect_ratio:
        factor = min(np.float32(new_h) / np.float32(h), np.float32(new_w) / np.float32(w))
        new_h = int(np.round(np.float32(factor) * np.float32(h)))
        new_w = int(np.round(np.float32(factor) * np.float32(w)))
    if method != "nearest":
        images = _float_images(images)
    out = resize_axes(images, new_h, new_w, method, bool(antialias))
    return out if batched else ops.squeeze(out, 0)


def resize_with_pad(image, target_height, target_width, method=ResizeMethod.BILINEAR, antialias=False) -> Tensor:
    """Resize keeping the aspect ratio, then pad with zeros (centred) to ``(target_height, target_width)``.

    >>> import numpy as np
    >>> resize_with_pad(np.ones((4, 8, 1), "float32"), 8, 8).numpy()[:, 0, 0].tolist()
    [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    """
    target_height, target_width = _size_pair((target_height, target_width), "resize_with_pad")
    images, batched = _batched(image, "resize_with_pad")
    h, w = images.shape[1], images.shape[2]
    ratio = max(w / target_width, h / target_height)
    resized_h, resized_w = h / ratio, w / ratio
    pad_h = max(0, int((target_height - resized_h) / 2))
    pad_w = max(0, int((target_width - resized_w) / 2))
    resized = resize(images, (int(np.floor(resized_h)), int(np.floor(resized_w))), method, antialias=antialias)
    out = pad_to_bounding_box(resized, pad_h, pad_w, target_height, target_width)
    return out if batched else ops.squeeze(out, 0)
