"""The Numba kernel behind :func:`featherflow.image.transform.projective_transform`'s forward pass (imported
only when Numba is installed: this module imports it).

One pass over the output pixels of batch slice ``[lo, hi)`` (``nogil``, so
:func:`featherflow.ops.conv_utils.split_batch` runs slices in threads): each pixel's source point, its
``fill_mode`` mapping and its bilinear or nearest sample, in float32 with the integer truncations of
TensorFlow's ``ImageProjectiveTransformV3`` kernel - the same positions as the NumPy path of
:mod:`featherflow.image.sampling` (which also builds the gather the backward pass needs; this kernel serves
images no tape watches, e.g. augmentation of a model's inputs).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

REFLECT, WRAP, CONSTANT, NEAREST = 0, 1, 2, 3  # fill-mode codes


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _map(coord, length, mode):  # pragma: no cover - compiled
    zero = np.float32(0.0)
    last = np.float32(length - 1)
    if mode == CONSTANT:
        return coord
    if mode == NEAREST or length <= 1:
        if length <= 1:
            return zero
        return min(max(coord, zero), last)
    if mode == REFLECT:
        size2 = 2 * length
        if coord < 0:
            if coord < size2:
                coord = np.float32(size2 * np.int64(-coord / np.float32(size2))) + coord
            coord = coord + np.float32(size2) if coord < -length else -coord - np.float32(1.0)
        elif coord > last:
            coord = coord - np.float32(size2 * np.int64(coord / np.float32(size2)))
            if coord >= length:
                coord = np.float32(size2) - coord - np.float32(1.0)
    else:  # WRAP
        span = np.float32(length - 1)
        if coord < 0:
            coord = coord + np.float32(length * (np.int64(-coord / span) + 1))
        elif coord > last:
            coord = coord - np.float32(length * np.int64(coord / span))
    return min(max(coord, zero), last)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _read(images, b, y, x, k, fill):  # pragma: no cover - compiled
    if 0 <= y < images.shape[1] and 0 <= x < images.shape[2]:
        return images[b, y, x, k]
    return fill


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _round(v):  # pragma: no cover - compiled
    whole = np.float32(np.trunc(v))
    frac = v - whole
    if abs(frac) >= np.float32(0.5):
        return whole + (np.float32(1.0) if v > 0 else np.float32(-1.0))
    return whole


@njit(cache=True, nogil=True, error_model="numpy")
def projective_sample(images, transforms, out, bilinear, mode, fill_value, lo, hi):  # pragma: no cover - compiled
    """``out[b, y, x, :]``: ``images[b]`` sampled at the source point of output pixel ``(x, y)`` under
    ``transforms[b]`` (or ``transforms[0]`` for all), for ``b`` in ``[lo, hi)``."""
    h, w, c = images.shape[1], images.shape[2], images.shape[3]
    out_h, out_w = out.shape[1], out.shape[2]
    fill = images.dtype.type(fill_value)
    one = np.float32(1.0)
    for b in range(lo, hi):
        t = transforms[b if transforms.shape[0] > 1 else 0]
        t0, t1, t2, t3, t4, t5, t6, t7 = t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]
        affine = t6 == 0 and t7 == 0
        for yi in range(out_h):
            yf = np.float32(yi)
            ty1, ty4, ty7 = t1 * yf, t4 * yf, t7 * yf
            for xi in range(out_w):
                xf = np.float32(xi)
                if affine:  # k = 1: no division (x / 1 is exact, the same positions)
                    x = _map(t0 * xf + ty1 + t2, w, mode)
                    y = _map(t3 * xf + ty4 + t5, h, mode)
                else:
                    projection = t6 * xf + ty7 + one
                    if projection == 0:
                        for k in range(c):
                            out[b, yi, xi, k] = fill
                        continue
                    x = _map((t0 * xf + ty1 + t2) / projection, w, mode)
                    y = _map((t3 * xf + ty4 + t5) / projection, h, mode)
                if not bilinear:
                    ry, rx = np.int64(_round(y)), np.int64(_round(x))
                    for k in range(c):
                        out[b, yi, xi, k] = _read(images, b, ry, rx, k, fill)
                    continue
                y0, x0 = math.floor(y), math.floor(x)
                y0f, x0f = np.float32(y0), np.float32(x0)
                wy0, wy1 = (y0f + one) - y, y - y0f
                wx0, wx1 = (x0f + one) - x, x - x0f
                if y0 >= 0 and x0 >= 0 and y0 + 1 < h and x0 + 1 < w:  # all four neighbours inside
                    for k in range(c):
                        top = wx0 * images[b, y0, x0, k] + wx1 * images[b, y0, x0 + 1, k]
                        bottom = wx0 * images[b, y0 + 1, x0, k] + wx1 * images[b, y0 + 1, x0 + 1, k]
                        out[b, yi, xi, k] = wy0 * top + wy1 * bottom
                    continue
                for k in range(c):
                    top = wx0 * _read(images, b, y0, x0, k, fill) + wx1 * _read(images, b, y0, x0 + 1, k, fill)
                    bottom = (wx0 * _read(images, b, y0 + 1, x0, k, fill)
                              + wx1 * _read(images, b, y0 + 1, x0 + 1, k, fill))
                    out[b, yi, xi, k] = wy0 * top + wy1 * bottom
