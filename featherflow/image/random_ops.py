"""Random ``tf.image`` augmentations: ``random_*`` (featherflow's seeded generator, or ``seed``) and
``stateless_random_*`` (a ``[2]`` integer seed gives the same result on every call).

Flips draw one coin per image of a batch; brightness, contrast, saturation, hue and JPEG quality draw one
factor per call, as TensorFlow does. Draws stay arrays (never Python numbers), so inside a ``tf.function`` the
compiled program draws anew at every call.

>>> import numpy as np
>>> x = np.arange(4.0).reshape(1, 2, 2, 1)
>>> a = stateless_random_flip_left_right(x, seed=(1, 2)).numpy()
>>> bool((a == stateless_random_flip_left_right(x, seed=(1, 2)).numpy()).all())
True
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.backend import random as _random
from featherflow.core.tensor import Tensor
from featherflow.image.codec import adjust_jpeg_quality
from featherflow.image.color import adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation
from featherflow.image.geometry import image_tensor
from featherflow.ops._convert import as_tensor


def _generator(seed):
    # an op seed: a fresh generator from it at every call (the same draws every call); NumPy's own class, whose
    # draws a tf.function trace does not record, so a compiled call repeats them too (constants of the program).
    # No seed: featherflow's global generator, whose draws a compiled program makes anew at every call.
    return np.random.default_rng(int(seed)) if seed is not None else _random.generator()


def _stateless(seed, op) -> np.random.Generator:
    values = np.asarray(seed.numpy() if isinstance(seed, Tensor) else seed).ravel()
    if values.shape != (2,) or values.dtype.kind not in "iu":
        raise ValueError(f"{op}: `seed` must be a shape [2] integer tensor. Received: seed={seed!r}")
    return np.random.default_rng([int(v) % (1 << 63) for v in values])


def _flip(image, rng, axis_from_end, op):
    image = image_tensor(image, op)
    axis = image.ndim - axis_from_end
    # the coins stay arrays (inside a tf.function they are drawn at every call): a where, not a Python branch
    if image.ndim == 3:
        return ops.where(rng.random(size=()) < 0.5, ops.reverse(image, [axis]), image)
    coins = rng.random(image.shape[0]) < 0.5
    return ops.where(coins.reshape(-1, 1, 1, 1), ops.reverse(image, [axis]), image)


def random_flip_left_right(image, seed=None) -> Tensor:
    """Mirror each image left-right with probability 1/2."""
    return _flip(image, _generator(seed), 2, "random_flip_left_right")


def random_flip_up_down(image, seed=None) -> Tensor:
    """Mirror each image up-down with probability 1/2."""
    return _flip(image, _generator(seed), 3, "random_flip_up_down")


def stateless_random_flip_left_right(image, seed) -> Tensor:
    """:func:`random_flip_left_right` determined by ``seed`` (shape ``[2]``)."""
    return _flip(image, _stateless(seed, "stateless_random_flip_left_right"), 2, "stateless_random_flip_left_right")


def stateless_random_flip_up_down(image, seed) -> Tensor:
    """:func:`random_flip_up_down` determined by ``seed`` (shape ``[2]``)."""
    return _flip(image, _stateless(seed, "stateless_random_flip_up_down"), 3, "stateless_random_flip_up_down")


def _check_delta(max_delta, upper=None):
    if max_delta < 0:
        raise ValueError(f"max_delta must be non-negative. Received: max_delta={max_delta}")
    if upper is not None and max_delta > upper:
        raise ValueError(f"max_delta must be <= {upper}. Received: max_delta={max_delta}")


def _check_range(lower, upper):
    if upper <= lower:
        raise ValueError(f"upper must be > lower. Received: lower={lower}, upper={upper}")
    if lower < 0:
        raise ValueError(f"lower must be non-negative. Received: lower={lower}")


def random_brightness(image, max_delta, seed=None) -> Tensor:
    """:func:`adjust_brightness` by a delta drawn uniformly from ``[-max_delta, max_delta)``."""
    _check_delta(max_delta)
    return adjust_brightness(image, _generator(seed).uniform(-max_delta, max_delta, size=()))


def stateless_random_brightness(image, max_delta, seed) -> Tensor:
    """:func:`random_brightness` determined by ``seed``."""
    _check_delta(max_delta)
    return adjust_brightness(image, _stateless(seed, "stateless_random_brightness").uniform(-max_delta, max_delta))


def random_contrast(image, lower, upper, seed=None) -> Tensor:
    """:func:`adjust_contrast` by a factor drawn uniformly from ``[lower, upper)``."""
    _check_range(lower, upper)
    return adjust_contrast(image, _generator(seed).uniform(lower, upper, size=()))


def stateless_random_contrast(image, lower, upper, seed) -> Tensor:
    """:func:`random_contrast` determined by ``seed``."""
    _check_range(lower, upper)
    return adjust_contrast(image, _stateless(seed, "stateless_random_contrast").uniform(lower, upper))


def random_saturation(image, lower, upper, seed=None) -> Tensor:
    """:func:`adjust_saturation` by a factor drawn uniformly from ``[lower, upper)``."""
    _check_range(lower, upper)
    return adjust_saturation(image, _generator(seed).uniform(lower, upper, size=()))


def stateless_random_saturation(image, lower, upper, seed) -> Tensor:
    """:func:`random_saturation` determined by ``seed``."""
    _check_range(lower, upper)
    return adjust_saturation(image, _stateless(seed, "stateless_random_saturation").uniform(lower, upper))


def random_hue(image, max_delta, seed=None) -> Tensor:
    """:func:`adjust_hue` by a delta drawn uniformly from ``[-max_delta, max_delta)`` (``max_delta <= 0.5``)."""
    _check_delta(max_delta, 0.5)
    return adjust_hue(image, _generator(seed).uniform(-max_delta, max_delta, size=()))


def stateless_random_hue(image, max_delta, seed) -> Tensor:
    """:func:`random_hue` determined by ``seed``."""
    _check_delta(max_delta, 0.5)
    return adjust_hue(image, _stateless(seed, "stateless_random_hue").uniform(-max_delta, max_delta))


def _crop(value, size, rng, op):
    value = as_tensor(value, op, "value")
    size = [int(s) for s in np.asarray(size.numpy() if isinstance(size, Tensor) else size).ravel()]
    if len(size) != value.ndim:
        raise ValueError(f"{op}: `size` must have one entry per axis of `value` ({value.ndim}). Received: "
                         f"size={size}, value.shape={tuple(value.shape)}")
    if any(s > d or s < 0 for s, d in zip(size, value.shape)):
        raise ValueError(f"{op}: Need value.shape >= size, got value.shape={tuple(value.shape)}, size={size}")
    # the offsets stay arrays (inside a tf.function they are drawn at every call): the window is one index array
    # per axis (an open grid), not Python slices
    grid = []
    for axis, (s, d) in enumerate(zip(size, value.shape)):
        shape = [1] * value.ndim
        shape[axis] = s
        grid.append((rng.integers(0, d - s + 1, size=()) + np.arange(s)).reshape(shape))
    return value[tuple(grid)]


def random_crop(value, size, seed=None, name=None) -> Tensor:
    """A window of ``size`` (one entry per axis of ``value``) at a uniformly random offset.

    >>> import numpy as np
    >>> random_crop(np.zeros((5, 5, 3)), (2, 3, 3)).shape
    (2, 3, 3)
    """
    return _crop(value, size, _generator(seed), "random_crop")


def stateless_random_crop(value, size, seed, name=None) -> Tensor:
    """:func:`random_crop` determined by ``seed``."""
    return _crop(value, size, _stateless(seed, "stateless_random_crop"), "stateless_random_crop")


def _check_quality(low, high):
    if not 0 <= low < high <= 100:
        raise ValueError(f"jpeg quality must satisfy 0 <= min_jpeg_quality < max_jpeg_quality <= 100. Received: "
                         f"min_jpeg_quality={low}, max_jpeg_quality={high}")


def random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed=None) -> Tensor:
    """:func:`adjust_jpeg_quality` with a quality drawn from ``[min_jpeg_quality, max_jpeg_quality)``."""
    _check_quality(min_jpeg_quality, max_jpeg_quality)
    quality = int(_generator(seed).integers(min_jpeg_quality, max_jpeg_quality))
    return adjust_jpeg_quality(image, quality)


def stateless_random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed) -> Tensor:
    """:func:`random_jpeg_quality` determined by ``seed``."""
    _check_quality(min_jpeg_quality, max_jpeg_quality)
    rng = _stateless(seed, "stateless_random_jpeg_quality")
    return adjust_jpeg_quality(image, int(rng.integers(min_jpeg_quality, max_jpeg_quality)))
