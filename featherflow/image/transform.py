"""Projective transforms of image batches (TensorFlow's ``ImageProjectiveTransformV3``) and the matrices of
the random rotation / zoom / translation layers.

A transform row ``[a0, a1, a2, b0, b1, b2, c0, c1]`` maps each OUTPUT pixel ``(x, y)`` to the input point

    x' = (a0 x + a1 y + a2) / k,   y' = (b0 x + b1 y + b2) / k,   k = c0 x + c1 y + 1

(the inverse of the image's motion), which is sampled with ``"bilinear"`` or ``"nearest"`` interpolation after
``fill_mode`` maps it inside the image. The whole batch is one weighted gather
(:mod:`featherflow.image.sampling`); its gradient with respect to the images is the exact adjoint.

>>> import numpy as np
>>> x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
>>> shift_right = translation_matrix([[1.0, 0.0]])
>>> projective_transform(x, shift_right, fill_mode="constant").numpy()[0, :, :, 0]
array([[0., 0., 1.],
       [0., 3., 4.],
       [0., 6., 7.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow import compiler as _compiler
from featherflow.core.tape import is_watched
from featherflow.core.tensor import Tensor
from featherflow.image.sampling import sample
from featherflow.ops import _kernels
from featherflow.ops._convert import as_tensor
from featherflow.ops.conv_utils import split_batch

_FILL_CODES = {"reflect": 0, "wrap": 1, "constant": 2, "nearest": 3}  # featherflow.ops._numba_image's codes

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def check_fill_mode_and_interpolation(fill_mode, interpolation) -> None:
    """Keras's check of the two arguments (``NotImplementedError``, as tf.keras raises)."""
    if fill_mode not in FILL_MODES:
        raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Only `reflect`, `wrap`, `constant` and "
                                  f"`nearest` are supported.")
    if interpolation not in INTERPOLATIONS:
        raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Only `nearest` and `bilinear` are "
                                  f"supported.")


def _as_array(value, dtype="float32"):
    if isinstance(value, Tensor):
        value = value.value  # not .numpy(): inside a tf.function the value stays traced
    return np.asarray(value, dtype=dtype)


def _transform_values(images, transforms, output_shape, interpolation, fill_mode, fill_value):
    """``projective_transform`` on real arrays, its output's array (the body of the host call below)."""
    return projective_transform(images, transforms, output_shape, interpolation, fill_mode, fill_value).value


def projective_transform(images, transforms, output_shape=None, interpolation="bilinear", fill_mode="constant",
                         fill_value=0.0, name=None) -> Tensor:
    """Apply one projective transform per image (or one for all) to ``(batch, rows, cols, channels)`` images.

    Args:
        images: 4-D image batch, NHWC, any real dtype (the output keeps it).
        transforms: ``(8,)``, ``(1, 8)`` or ``(batch, 8)`` rows (see the module docstring).
        output_shape: ``(out_rows, out_cols)``; default the input's.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: ``"constant"`` (default, as the raw op), ``"reflect"``, ``"wrap"`` or ``"nearest"``.
        fill_value: the value outside the image for ``"constant"`` (and wherever ``k == 0``).

    Returns ``(batch, out_rows, out_cols, channels)``.

    >>> import numpy as np
    >>> projective_transform(np.ones((2, 4, 4, 3), "float32"), [1, 0, 0, 0, 1, 0, 0, 0]).shape
    (2, 4, 4, 3)
    """
    images = as_tensor(images, "projective_transform", "images")
    if images.ndim != 4:
        raise ValueError(f"projective_transform: `images` must be 4-D (batch, rows, cols, channels). Received: "
                         f"images.shape={tuple(images.shape)}")
    check_fill_mode_and_interpolation(fill_mode.lower(), interpolation.lower())
    n, h, w, _ = images.shape
    matrix = _as_array(transforms)
    if matrix.ndim == 1:
        matrix = matrix[None]
    if matrix.ndim != 2 or matrix.shape[1] != 8 or matrix.shape[0] not in (1, n):
        raise ValueError(f"projective_transform: `transforms` must have shape (8,), (1, 8) or (batch, 8) = "
                         f"({n}, 8). Received: transforms.shape={matrix.shape}")
    if output_shape is None:
        out_h, out_w = h, w
    else:
        dims = _as_array(output_shape, "int64").ravel()
        if dims.shape != (2,):
            raise ValueError(f"output_shape must be a 1-D Tensor of 2 elements: new_height, new_width, instead got "
                             f"output_shape={output_shape}")
        out_h, out_w = int(dims[0]), int(dims[1])
    fill_mode, interpolation = fill_mode.lower(), interpolation.lower()
    xv = images.value
    traced = _compiler.is_traced(xv) or _compiler.is_traced(matrix)
    if traced and not is_watched(images):
        # in a tf.function, with no gradient to take (augmentation of the model's inputs): the eager computation as
        # one host call, run again at every call of the program - the same kernel (or NumPy path), the same bits
        return Tensor(_compiler.host_call(_transform_values, xv, matrix, (out_h, out_w), interpolation, fill_mode,
                                          float(fill_value)))
    kernel = _kernels.get("projective_sample", xv.size) if type(xv) is np.ndarray and xv.dtype.kind == "f" \
        and not is_watched(images) else None
    if kernel is not None:  # one compiled pass; nothing to keep for a backward pass that cannot happen
        out = np.empty((n, out_h, out_w, xv.shape[3]), dtype=xv.dtype)
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        code, bilinear = _FILL_CODES[fill_mode], interpolation == "bilinear"
        # ~20 flops a pixel: weigh the work like that against split_batch's threshold for threads
        split_batch(lambda lo, hi: kernel(xv, matrix, out, bilinear, code, float(fill_value), lo, hi), n,
                    out.size * 16)
        return Tensor(out)
    f32 = np.float32
    ys = np.arange(out_h, dtype=f32).reshape(1, out_h, 1)
    xs = np.arange(out_w, dtype=f32).reshape(1, 1, out_w)
    t = [matrix[:, i].reshape(-1, 1, 1) for i in range(8)]
    projection = t[6] * xs + t[7] * ys + f32(1)
    invalid = projection == 0
    safe = np.where(invalid, f32(1), projection)
    cols = (t[0] * xs + t[1] * ys + t[2]) / safe
    rows = (t[3] * xs + t[4] * ys + t[5]) / safe
    shape = (max(n, matrix.shape[0]), out_h, out_w)
    rows, cols, invalid = (np.broadcast_to(a, shape) for a in (rows, cols, invalid))
    # traced: whether any projection vanishes is known at run time only; an all-False mask changes no weight
    return sample(images, rows, cols, interpolation, fill_mode, float(fill_value),
                  invalid if traced or invalid.any() else None, op=name or "projective_transform")


def rotation_matrix(angles, image_height, image_width) -> np.ndarray:
    """``(batch, 8)`` transforms rotating each image by ``angles`` (radians, counter-clockwise) about its
    centre (tf.keras's ``get_rotation_matrix``).

    >>> rotation_matrix([0.0], 3, 3).round(6).tolist()
    [[1.0, -0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]
    """
    angles = _as_array(angles).ravel()
    cos, sin = np.cos(angles), np.sin(angles)
    h1, w1 = np.float32(image_height) - 1, np.float32(image_width) - 1
    x_offset = (w1 - (cos * w1 - sin * h1)) / np.float32(2)
    y_offset = (h1 - (sin * w1 + cos * h1)) / np.float32(2)
    zeros = np.zeros_like(angles)
    return np.stack([cos, -sin, x_offset, sin, cos, y_offset, zeros, zeros], axis=1).astype("float32")


def zoom_matrix(zooms, image_height, image_width) -> np.ndarray:
    """``(batch, 8)`` transforms scaling the sampled region by ``zooms[:, 0]`` (x) and ``zooms[:, 1]`` (y) about
    the image centre: a zoom above 1 samples a larger region (the image shrinks: zoom out), below 1 a smaller
    one (zoom in). tf.keras's ``get_zoom_matrix``.

    >>> zoom_matrix([[2.0, 2.0]], 5, 5).tolist()
    [[2.0, 0.0, -2.0, 0.0, 2.0, -2.0, 0.0, 0.0]]
    """
    zooms = _as_array(zooms).reshape(-1, 2)
    zx, zy = zooms[:, 0], zooms[:, 1]
    x_offset = ((np.float32(image_width) - 1) / 2) * (1 - zx)
    y_offset = ((np.float32(image_height) - 1) / 2) * (1 - zy)
    zeros = np.zeros_like(zx)
    return np.stack([zx, zeros, x_offset, zeros, zy, y_offset, zeros, zeros], axis=1).astype("float32")


def translation_matrix(translations) -> np.ndarray:
    """``(batch, 8)`` transforms moving each image by ``[dx, dy]`` pixels (right / down for positive values),
    tf.keras's ``get_translation_matrix``.

    >>> translation_matrix([[1.0, -2.0]]).tolist()
    [[1.0, 0.0, -1.0, 0.0, 1.0, 2.0, 0.0, 0.0]]
    """
    shifts = _as_array(translations).reshape(-1, 2)
    ones, zeros = np.ones(len(shifts), "float32"), np.zeros(len(shifts), "float32")
    return np.stack([ones, zeros, -shifts[:, 0], zeros, ones, -shifts[:, 1], zeros, zeros], axis=1)
