"""Image augmentation layers: RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast,
RandomBrightness, RandomCrop, RandomHeight, RandomWidth.

tf.keras 2's semantics: each layer transforms images only while training (``training=True``; a call
without a ``training`` argument outside ``fit``/``predict`` counts as training, as in tf.keras, and
``predict``/``evaluate``/``training=False`` pass images through), draws its random factors from its own
generator when given a ``seed`` (else from featherflow's global seed), and outputs floats. Rotation, zoom
and translation are projective transforms of the whole batch in one vectorized gather
(:mod:`featherflow.image.transform`), with ``fill_mode`` ``"reflect"`` (default), ``"wrap"``,
``"constant"`` (``fill_value``) or ``"nearest"`` and ``"bilinear"``/``"nearest"`` interpolation. Inputs are
``(batch, rows, cols, channels)`` or one image; ``data_format="channels_first"`` (featherflow's extension,
Keras 3's argument) takes ``(batch, channels, rows, cols)``.

>>> import numpy as np
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.RandomRotation(0.1, seed=1),
...                           keras.layers.RandomZoom(0.1, seed=2)])
>>> x = np.ones((4, 28, 28, 1), "float32")
>>> np.array_equal(model.predict(x, verbose=0), x)   # inference: unchanged
True
>>> model(x, training=True).shape
(4, 28, 28, 1)
"""

from __future__ import annotations

import numpy as np

from featherflow import compiler as _compiler
from featherflow import ops
from featherflow.backend import random as _random
from featherflow.image.color import adjust_contrast
from featherflow.image.resizing import resize
from featherflow.image.transform import (
    check_fill_mode_and_interpolation,
    projective_transform,
    rotation_matrix,
    translation_matrix,
    zoom_matrix,
)
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.reshaping import normalize_data_format
from featherflow.keras.utils.image_utils import get_interpolation, smart_resize


def _bounds(factor, name):
    """``(lower, upper)`` of a Keras factor: a pair as given, a number ``f`` as ``(-f, f)``."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"`{name}` must be a number or a tuple of 2 numbers. Received: {name}={factor}")
        return float(factor[0]), float(factor[1])
    try:
        value = float(factor)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a number or a tuple of 2 numbers. Received: {name}={factor!r}") from None
    return -value, value


class BaseImageAugmentationLayer(Layer):
    """Shared machinery: seeded generator, training switch, unbatched inputs and data formats.

    Subclasses implement ``_augment(images, rng)`` on a channels-last batch ``(n, h, w, c)``.
    """

    _changes_size = False

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.data_format = normalize_data_format(data_format)
        self._generator = _random.make_generator(seed) if seed is not None else None

    def _rng(self) -> np.random.Generator:
        return self._generator if self._generator is not None else _random.generator()

    def call(self, inputs, training=True):
        if training is None:
            training = True  # tf.keras: a layer called outside fit/predict augments
        if not training:
            return self._inference(inputs)
        return self._in_layout(inputs, lambda images: self._augment(images, self._rng()))

    def _inference(self, inputs):
        return inputs

    def _in_layout(self, inputs, fn):
        """``fn`` on a channels-last 4-D view of ``inputs``, and its result back in the input's layout."""
        if inputs.ndim not in (3, 4):
            raise ValueError(f'Layer "{self.name}" expects images of rank 3 (one image) or 4 (a batch). Received: '
                             f"inputs.shape={tuple(inputs.shape)}")
        single = inputs.ndim == 3
        x = ops.expand_dims(inputs, 0) if single else inputs
        first = self.data_format == "channels_first"
        if first:
            x = ops.transpose(x, (0, 2, 3, 1))
        out = fn(x)
        if first:
            out = ops.transpose(out, (0, 3, 1, 2))
        return ops.squeeze(out, 0) if single else out

    def _spatial_axes(self, rank):
        return (rank - 2, rank - 1) if self.data_format == "channels_first" else (rank - 3, rank - 2)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(seed=self.seed, data_format=self.data_format)
        return config


class RandomFlip(BaseImageAugmentationLayer):
    """Randomly flip images left-right and/or up-down while training (one coin per image and direction).

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (default).
        seed: integer seed for this layer's own generator.

    >>> import numpy as np
    >>> RandomFlip()(np.ones((1, 2, 2, 1), "float32")).shape
    (1, 2, 2, 1)
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode argument {mode}")
        self.mode = mode

    def _augment(self, images, rng):
        batch = images.shape[0]
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flip = rng.random(batch) < 0.5
            images = ops.where(flip.reshape(-1, 1, 1, 1), ops.reverse(images, [2]), images)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flip = rng.random(batch) < 0.5
            images = ops.where(flip.reshape(-1, 1, 1, 1), ops.reverse(images, [1]), images)
        return images

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


class _AffineLayer(BaseImageAugmentationLayer):
    """The projective-transform layers: one matrix per image, one batched gather."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        check_fill_mode_and_interpolation(fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation

    def _augment(self, images, rng):
        n, h, w, _ = images.shape
        return projective_transform(images, self._matrices(rng, n, h, w), interpolation=self.interpolation,
                                    fill_mode=self.fill_mode, fill_value=self.fill_value, name=self.name)

    def get_config(self):
        config = super().get_config()
        config.update(fill_mode=self.fill_mode, fill_value=self.fill_value, interpolation=self.interpolation)
        return config


class RandomRotation(_AffineLayer):
    """Rotate each image by a random angle about its centre while training.

    Args:
        factor: a fraction of a full turn (``2 * pi``): a number ``f`` draws angles from ``[-f, f] * 2 pi``, a pair
            ``(lower, upper)`` from ``[lower, upper] * 2 pi``; positive angles rotate counter-clockwise.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``: how points outside the
            image are filled.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: integer seed of this layer's generator.
        fill_value: the value outside the image with ``fill_mode="constant"``.

    >>> import numpy as np
    >>> RandomRotation(0.25, seed=0)(np.ones((2, 5, 5, 3), "float32"), training=True).shape
    (2, 5, 5, 3)
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = factor
        self.lower, self.upper = _bounds(factor, "factor")
        if self.upper < self.lower:
            raise ValueError(f"`factor` argument cannot have a negative value. Received: factor={factor}")

    def _matrices(self, rng, n, h, w):
        angles = rng.uniform(self.lower * 2.0 * np.pi, self.upper * 2.0 * np.pi, n).astype("float32")
        return rotation_matrix(angles, h, w)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomZoom(_AffineLayer):
    """Zoom each image in or out by a random amount while training (about the centre).

    Args:
        height_factor: fraction of the height: a number ``f`` draws from ``[-f, f]``, a pair from
            ``[lower, upper]``; POSITIVE values zoom OUT (the image shrinks, the border is filled), negative
            values zoom in. Each image samples a region ``1 + factor`` times the image's size.
        width_factor: likewise for the width; ``None`` (default) reuses the height's draw (aspect ratio kept).
        fill_mode, interpolation, seed, fill_value: as :class:`RandomRotation`.

    >>> import numpy as np
    >>> RandomZoom((-0.3, -0.2), seed=0)(np.ones((2, 6, 6, 1), "float32")).shape
    (2, 6, 6, 1)
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = _bounds(height_factor, "height_factor")
        if abs(self.height_lower) > 1.0 or abs(self.height_upper) > 1.0:
            raise ValueError(f"`height_factor` argument must have values between [-1, 1]. "
                             f"Received: height_factor={height_factor}")
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = _bounds(width_factor, "width_factor")
            if self.width_lower < -1.0 or self.width_upper < -1.0:
                raise ValueError(f"`width_factor` argument must have values larger than -1. "
                                 f"Received: width_factor={width_factor}")

    def _matrices(self, rng, n, h, w):
        height_zoom = rng.uniform(1.0 + self.height_lower, 1.0 + self.height_upper, n)
        width_zoom = height_zoom if self.width_factor is None else rng.uniform(
            1.0 + self.width_lower, 1.0 + self.width_upper, n)
        return zoom_matrix(np.stack([width_zoom, height_zoom], axis=1), h, w)

    def get_config(self):
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config


class RandomTranslation(_AffineLayer):
    """Shift each image by a random fraction of its size while training.

    Args:
        height_factor: fraction of the height: a number ``f`` draws from ``[-f, f]``, a pair from
            ``[lower, upper]`` (within ``[-1, 1]``); negative shifts up, positive down.
        width_factor: likewise for the width; negative shifts left, positive right.
        fill_mode, interpolation, seed, fill_value: as :class:`RandomRotation`.

    >>> import numpy as np
    >>> RandomTranslation(0.1, 0.1, seed=0)(np.ones((2, 8, 8, 3), "float32")).shape
    (2, 8, 8, 3)
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_lower, self.height_upper = _bounds(height_factor, "height_factor")
        self.width_lower, self.width_upper = _bounds(width_factor, "width_factor")
        for name, (low, high) in (("height_factor", (self.height_lower, self.height_upper)),
                                  ("width_factor", (self.width_lower, self.width_upper))):
            value = height_factor if name == "height_factor" else width_factor
            if high < low:
                raise ValueError(f"`{name}` cannot have upper bound less than lower bound, got {value}")
            if abs(low) > 1.0 or abs(high) > 1.0:
                raise ValueError(f"`{name}` argument must have values between [-1, 1]. Received: {name}={value}")

    def _matrices(self, rng, n, h, w):
        dy = rng.uniform(self.height_lower, self.height_upper, n).astype("float32") * np.float32(h)
        dx = rng.uniform(self.width_lower, self.width_upper, n).astype("float32") * np.float32(w)
        return translation_matrix(np.stack([dx, dy], axis=1))

    def get_config(self):
        config = super().get_config()
        config.update(height_factor=self.height_factor, width_factor=self.width_factor)
        return config


class RandomContrast(BaseImageAugmentationLayer):
    """Scale each channel's deviation from its mean by a random factor in ``[1 - lower, 1 + upper]`` (one
    factor per batch), ``(x - mean) * factor + mean``, then clip to ``[0, 255]``.

    Args:
        factor: a number (``lower = upper``) or ``(lower, upper)``, each in ``[0, 1]`` for ``lower``.

    >>> import numpy as np
    >>> float(RandomContrast(0.5, seed=0)(np.full((1, 2, 2, 3), 100.0, "float32")).numpy().max())
    100.0
    """

    def __init__(self, factor, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        if isinstance(factor, (tuple, list)):
            self.lower, self.upper = float(factor[0]), float(factor[1])
        else:
            self.lower = self.upper = float(factor)
        if self.lower < 0.0 or self.upper < 0.0 or self.lower > 1.0:
            raise ValueError(f"`factor` argument cannot have negative values or values greater than 1. "
                             f"Received: factor={factor}")

    def _augment(self, images, rng):
        # a 0-d array (the same draw as a Python float): in a tf.function the draw is a host call giving an array
        contrast = rng.uniform(1.0 - self.lower, 1.0 + self.upper, size=())
        return ops.clip_by_value(adjust_contrast(images, contrast), 0.0, 255.0)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomBrightness(BaseImageAugmentationLayer):
    """Add a random brightness delta per image: ``factor`` in ``[-1, 1]`` times the width of ``value_range``,
    then clip to ``value_range``.

    Args:
        factor: a number ``f`` (deltas in ``[-|f|, |f|]``) or ``(lower, upper)``; -1 gives black, 1 white.
        value_range: ``(low, high)`` of the input values (default ``(0, 255)``).

    >>> import numpy as np
    >>> out = RandomBrightness((0.5, 0.5), value_range=(0, 1))(np.full((1, 2, 2, 1), 0.25, "float32"))
    >>> out.numpy().ravel().tolist()
    [0.75, 0.75, 0.75, 0.75]
    """

    _FACTOR_ERROR = "The `factor` argument should be a number (or a list of two numbers) in the range [-1.0, 1.0]. "
    _RANGE_ERROR = "The `value_range` argument should be a list of two numbers. "

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or any(not -1.0 <= float(f) <= 1.0 for f in factor):
                raise ValueError(self._FACTOR_ERROR + f"Got {factor}")
            self._factor = sorted(float(f) for f in factor)
        elif isinstance(factor, (int, float, np.number)) and not isinstance(factor, bool):
            if not -1.0 <= factor <= 1.0:
                raise ValueError(self._FACTOR_ERROR + f"Got {factor}")
            self._factor = [-abs(float(factor)), abs(float(factor))]
        else:
            raise ValueError(self._FACTOR_ERROR + f"Got {factor}")
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(self._RANGE_ERROR + f"Got {value_range}")
        self._value_range = sorted(value_range)

    def _augment(self, images, rng):
        low, high = self._value_range
        delta = rng.uniform(self._factor[0], self._factor[1], (images.shape[0], 1, 1, 1)) * (high - low)
        return ops.clip_by_value(images + ops.cast(delta, images.dtype), float(low), float(high))

    def get_config(self):
        config = super().get_config()
        config.update(factor=self._factor, value_range=self._value_range)
        return config


class RandomCrop(BaseImageAugmentationLayer):
    """Crop a random ``height x width`` window (the same for the whole batch) while training; at inference, or
    when an image is smaller than the window, center-crop to the aspect ratio and resize instead
    (``smart_resize``).

    >>> import numpy as np
    >>> RandomCrop(3, 4, seed=0)(np.zeros((2, 8, 8, 1), "float32")).shape
    (2, 3, 4, 1)
    """

    _changes_size = True

    def __init__(self, height, width, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.height, self.width = int(height), int(width)

    def _augment(self, images, rng):
        h, w = images.shape[1], images.shape[2]
        dh, dw = h - self.height, w - self.width
        if dh < 0 or dw < 0:
            return self._resize(images)
        draws = rng.integers(0, np.iinfo(np.int32).max, 2)
        # the window's corner stays an array (in a tf.function, a value drawn at every call): the window is an
        # index array per axis, not a Python slice
        rows = (draws[0] % (dh + 1)) + np.arange(self.height)
        cols = (draws[1] % (dw + 1)) + np.arange(self.width)
        return images[:, rows[:, None], cols[None, :], :]

    def _resize(self, images):
        return ops.cast(smart_resize(images, (self.height, self.width)), images.dtype)

    def _inference(self, inputs):
        return self._in_layout(inputs, self._resize)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        rows, cols = self._spatial_axes(len(shape))
        shape[rows], shape[cols] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width)
        return config


class _RandomSize(BaseImageAugmentationLayer):
    """RandomHeight / RandomWidth: resize one axis by a random factor (one per batch) while training.

    The output's size is drawn at every call. TensorFlow's graph gives it a dynamic shape; featherflow's compiled
    programs have one fixed shape per trace, so a training step through this layer runs eagerly, after one
    warning naming the layer and this reason (inference passes images through and compiles)."""

    _axis = "height"

    def __init__(self, factor, interpolation="bilinear", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        self.lower, self.upper = _bounds(factor, "factor")
        if self.upper < self.lower:
            raise ValueError(f"`factor` argument cannot have an upper bound less than the lower bound. "
                             f"Received: factor={factor}")
        if self.lower < -1.0 or self.upper < -1.0:
            raise ValueError(f"`factor` argument must have values larger than -1. Received: factor={factor}")
        self.interpolation = interpolation
        self._method = get_interpolation(interpolation)

    def _augment(self, images, rng):
        tracer = _compiler.current()
        if tracer is not None:
            # the output's size is drawn at every call; a compiled program has one fixed shape per trace (TensorFlow
            # gives the output a dynamic shape, featherflow's compiler has none): the step runs eagerly, as it says
            tracer.escape(None, f'layer "{self.name}" ({type(self).__name__}) resizes its images to a random '
                                f"{self._axis} drawn at every call, an output shape that a compiled program (one "
                                f"fixed shape per trace) cannot have", value=None)
        scale = np.float32(rng.uniform(1.0 + self.lower, 1.0 + self.upper))
        h, w = images.shape[1], images.shape[2]
        size = (int(scale * np.float32(h)), w) if self._axis == "height" else (h, int(scale * np.float32(w)))
        return ops.cast(resize(images, size, method=self._method), images.dtype)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        rows, cols = self._spatial_axes(len(shape))
        shape[rows if self._axis == "height" else cols] = None
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(factor=self.factor, interpolation=self.interpolation)
        return config


class RandomHeight(_RandomSize):
    """Resize the height by a random factor in ``[1 + lower, 1 + upper]`` while training (``factor`` a number
    ``f`` means ``(-f, f)``); ``interpolation`` any ``tf.image.resize`` method. The output height is unknown
    until called, so a compiled training step through this layer runs eagerly (one warning says so).

    >>> import numpy as np
    >>> RandomHeight((1.0, 1.0))(np.zeros((1, 3, 5, 2), "float32")).shape
    (1, 6, 5, 2)
    """

    _axis = "height"


class RandomWidth(_RandomSize):
    """Resize the width by a random factor in ``[1 + lower, 1 + upper]`` while training (see RandomHeight).

    >>> import numpy as np
    >>> RandomWidth((-0.5, -0.5))(np.zeros((1, 3, 6, 2), "float32")).shape
    (1, 3, 3, 2)
    """

    _axis = "width"
