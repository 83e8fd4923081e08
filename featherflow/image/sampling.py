"""Sampling images at computed positions: one weighted gather, forward and backward.

Every resampling op with data-dependent positions (projective transforms behind ``RandomRotation`` /
``RandomZoom`` / ``RandomTranslation``, ``crop_and_resize``, ``apply_affine_transform``) reduces to

    out[p, :] = sum_k weight[p, k] * flat[index[p, k], :] + fill[p] * fill_value

over the images flattened to ``(batch * rows * cols, channels)``: ONE gather of ``K`` neighbours per output
pixel (``K = 4`` bilinear, ``K = 1`` nearest) for the whole batch, no Python loop over images or pixels.
The gradient with respect to the images is the exact adjoint, a scatter-add of ``weight * grad`` done by
one ``bincount``; positions and weights are constants (TensorFlow does not differentiate them either).

>>> import numpy as np
>>> from featherflow.image.sampling import weighted_gather
>>> x = np.arange(4, dtype="float32").reshape(1, 2, 2, 1)
>>> weighted_gather(x, np.array([[0, 3]]), np.array([[0.5, 0.5]], "float32"), (1, 1, 1, 1)).numpy().ravel()
array([1.5], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.compiler import is_traced
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor


def weighted_gather(images, index, weight, out_shape, fill=None, fill_value=0.0, op="weighted_gather") -> Tensor:
    """Weighted sum of gathered pixels (see the module docstring).

    Args:
        images: ``(batch, rows, cols, channels)`` tensor (any real dtype).
        index: ``K`` int arrays of ``P`` rows of the flattened images (``b * rows * cols + r * cols + c``), or
            one ``(P, K)`` array.
        weight: ``K`` float arrays ``(P,)`` (or one ``(P, K)`` array); zero for neighbours that do not exist.
        out_shape: the output shape, ``P * channels`` elements (e.g. ``(batch, out_rows, out_cols, channels)``).
        fill: optional float array ``(P,)``: the weight of ``fill_value`` in each output pixel.
        fill_value: the value outside the image.

    Returns a tensor of ``out_shape`` with the images' dtype (integer images: the weighted sum truncated, as
    TensorFlow's kernels cast).
    """
    images = as_tensor(images, op, "images")
    xv = images.value
    xp = array_module(xv)
    n, h, w, c = xv.shape
    if not isinstance(index, (list, tuple)):
        index = [index[:, k] for k in range(index.shape[1])]
        weight = [weight[:, k] for k in range(weight.shape[1])]
    work_dtype = xv.dtype if xv.dtype.kind == "f" else np.dtype("float32")
    weight = [wt.astype(work_dtype, copy=False).ravel() for wt in weight]
    index = [ix.ravel() for ix in index]
    points = index[0].size
    # one channel: a flat gather per neighbour; several: rows of `channels` values
    flat = xv.reshape(n * h * w) if c == 1 else xv.reshape(n * h * w, c)
    out = None
    for ix, wt in zip(index, weight):
        if is_traced(ix) and not is_traced(flat):
            # in a tf.function, positions drawn at every call on constant images: numpy.take dispatches on its
            # data only (a traced index would be read out), take_along_axis on both
            term = xp.take_along_axis(flat, ix if c == 1 else ix[:, None], axis=0)
        else:
            term = xp.take(flat, ix, axis=0)
        term = term.astype(work_dtype, copy=False)
        term *= wt if c == 1 else wt[:, None]
        out = term if out is None else xp.add(out, term, out=out)
    if fill is not None and fill_value != 0:
        fill_term = fill.ravel().astype(work_dtype, copy=False) * work_dtype.type(fill_value)
        out += fill_term if c == 1 else fill_term[:, None]
    if xv.dtype.kind != "f":
        out = out.astype(xv.dtype)  # truncation, as the kernels' T(value)
    out = out.reshape(out_shape)

    def backward(g, needs):
        g2 = g.reshape(points, c)
        channel = xp.arange(c)
        columns = xp.concatenate([(ix[:, None] * c + channel).ravel() for ix in index])
        values = xp.concatenate([(wt[:, None] * g2).ravel() for wt in weight])
        grad = xp.bincount(columns, weights=values, minlength=n * h * w * c)
        return (grad.astype(g.dtype, copy=False).reshape(xv.shape),)

    return record(op, (images,), out, backward)


def round_half_away(x):
    """``std::round``: halves away from zero (``numpy.round`` rounds them to even)."""
    xp = array_module(x)
    whole = xp.trunc(x)
    frac = x - whole
    return xp.where(xp.abs(frac) >= 0.5, whole + xp.sign(x), whole)


def map_coordinates(coord, length: int, fill_mode: str):
    """Map sample coordinates outside ``[0, length - 1]`` back inside, as TensorFlow's ``MapCoordinate``.

    ``"reflect"`` mirrors about the edge of the last pixel ``(d c b a | a b c d | d c b a)``, ``"wrap"``
    repeats the image, ``"nearest"`` clamps, ``"constant"`` leaves the coordinate (the gather then reads
    ``fill_value``). Float32 arithmetic with the integer truncations of the C++ kernel, so the positions
    match TensorFlow's bit for bit.
    """
    xp = array_module(coord)
    f32 = np.float32
    if fill_mode == "constant":
        return coord
    if fill_mode == "nearest" or length <= 1:
        return xp.clip(coord, f32(0), f32(max(length - 1, 0))) if length > 1 else xp.zeros_like(coord)
    if fill_mode == "reflect":
        size2 = 2 * length
        neg = coord < 0
        c_neg = coord + (size2 * xp.trunc(-coord / f32(size2))).astype(f32)
        c_neg = xp.where(c_neg < -length, c_neg + f32(size2), -c_neg - f32(1))
        c_pos = coord - (size2 * xp.trunc(coord / f32(size2))).astype(f32)
        c_pos = xp.where(c_pos >= length, f32(size2) - c_pos - f32(1), c_pos)
        mapped = xp.where(neg, c_neg, xp.where(coord > length - 1, c_pos, coord))
    elif fill_mode == "wrap":
        span = f32(length - 1)
        c_neg = coord + (length * (xp.trunc(-coord / span) + 1)).astype(f32)
        c_pos = coord - (length * xp.trunc(coord / span)).astype(f32)
        mapped = xp.where(coord < 0, c_neg, xp.where(coord > length - 1, c_pos, coord))
    else:
        raise ValueError(f'Unknown `fill_mode` {fill_mode!r}. Expected one of "reflect", "wrap", "constant", '
                         f'"nearest".')
    return xp.clip(mapped, f32(0), f32(length - 1))


def sample(images, rows, cols, interpolation: str, fill_mode: str = "constant", fill_value: float = 0.0,
           invalid=None, op="sample") -> Tensor:
    """Sample ``images`` ``(n, h, w, c)`` at float32 positions ``rows``/``cols`` ``(n, out_h, out_w)``.

    Positions are first mapped by ``fill_mode`` (:func:`map_coordinates`); a neighbour outside the image then
    reads ``fill_value``. ``"bilinear"`` blends the four neighbours with TensorFlow's weights
    ``(ceil - x) * f(floor) + (x - floor) * f(ceil)``; ``"nearest"`` takes ``round(x)`` (halves away from
    zero). ``invalid`` (bool ``(n, out_h, out_w)``) marks outputs that are ``fill_value`` outright.
    """
    images = as_tensor(images, op, "images")
    n, h, w, c = images.shape
    xp = array_module(rows)
    out_shape = (n,) + tuple(rows.shape[1:]) + (c,)
    y = map_coordinates(rows, h, fill_mode)
    x = map_coordinates(cols, w, fill_mode)
    base = (xp.arange(n, dtype=np.int64) * (h * w)).reshape((n,) + (1,) * (y.ndim - 1))
    f32 = np.float32
    if interpolation == "nearest":
        ry, rx = round_half_away(y), round_half_away(x)
        inside = (ry >= 0) & (ry < h) & (rx >= 0) & (rx < w)
        if invalid is not None:
            inside &= ~invalid
        index = base + xp.clip(ry, 0, h - 1).astype(np.int64) * w + xp.clip(rx, 0, w - 1).astype(np.int64)
        weight = inside.astype(f32)
        return weighted_gather(images, [index], [weight], out_shape, 1 - weight, fill_value, op)
    if interpolation != "bilinear":
        raise ValueError(f'Unknown `interpolation` {interpolation!r}. Expected "nearest" or "bilinear".')
    y0, x0 = xp.floor(y), xp.floor(x)
    # per-axis weights of the two neighbours, zero where the neighbour is outside the image (TF reads
    # fill_value there: its weight moves to `fill`)
    wy = ((y0 + f32(1)) - y, y - y0)
    wx = ((x0 + f32(1)) - x, x - x0)
    iy0, ix0 = y0.astype(np.int64), x0.astype(np.int64)
    rows_at = []
    for k, iy in enumerate((iy0, iy0 + 1)):
        inside = (iy >= 0) & (iy < h)
        wy = wy[:k] + (xp.where(inside, wy[k], f32(0)),) + wy[k + 1:]
        rows_at.append(base + xp.clip(iy, 0, h - 1) * w)
    cols_at = []
    for k, ix in enumerate((ix0, ix0 + 1)):
        inside = (ix >= 0) & (ix < w)
        wx = wx[:k] + (xp.where(inside, wx[k], f32(0)),) + wx[k + 1:]
        cols_at.append(xp.clip(ix, 0, w - 1))
    index = [rows_at[a] + cols_at[b] for a in (0, 1) for b in (0, 1)]
    weight = [wy[a] * wx[b] for a in (0, 1) for b in (0, 1)]
    if invalid is not None:
        weight = [xp.where(invalid, f32(0), wt) for wt in weight]
    fill = None
    if fill_value != 0:
        fill = f32(1) - (weight[0] + weight[1] + weight[2] + weight[3])
    return weighted_gather(images, index, weight, out_shape, fill, fill_value, op)
