"""Legacy ``keras.preprocessing.image``: ``ImageDataGenerator`` (real-time augmentation feeding ``fit``), its
iterators, the single-image transforms and the image-file helpers.

tf.keras 2's semantics throughout: random transforms drawn per image from NumPy's global generator
(``keras.utils.set_random_seed`` fixes them), ``standardize`` after ``apply_transform``
(``preprocessing_function``, ``rescale``, sample-wise then feature-wise centring / normalisation, ZCA),
``fit`` computing the feature-wise statistics. New code can use the augmentation layers instead
(``keras.layers.RandomRotation``, ...), which run inside the model.

>>> import numpy as np
>>> from featherflow import keras
>>> datagen = keras.preprocessing.image.ImageDataGenerator(rotation_range=10, horizontal_flip=True, rescale=1 / 255)
>>> x, y = np.full((10, 8, 8, 1), 255, "uint8"), np.arange(10)
>>> batch_x, batch_y = next(datagen.flow(x, y, batch_size=4, seed=0))
>>> batch_x.shape, batch_y.shape, float(batch_x.max())
((4, 8, 8, 1), (4,), 1.0)
"""

from __future__ import annotations

import warnings

import numpy as np

from featherflow.backend import floatx
from featherflow.keras.preprocessing.affine import (
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
    flip_axis,
    random_brightness,
    random_channel_shift,
    random_rotation,
    random_shear,
    random_shift,
    random_zoom,
    transform_matrix_offset_center,
)
from featherflow.keras.preprocessing.image_iterators import (
    BatchFromFilesMixin,
    DataFrameIterator,
    DirectoryIterator,
    Iterator,
    NumpyArrayIterator,
)
from featherflow.keras.utils.image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize

__all__ = ["DirectoryIterator", "ImageDataGenerator", "Iterator", "NumpyArrayIterator", "DataFrameIterator",
           "BatchFromFilesMixin", "apply_affine_transform", "apply_brightness_shift", "apply_channel_shift",
           "array_to_img", "img_to_array", "load_img", "random_brightness", "random_channel_shift",
           "random_rotation", "random_shear", "random_shift", "random_zoom", "save_img", "smart_resize",
           "flip_axis", "transform_matrix_offset_center"]


def _image_data_format():
    from featherflow.keras.backend import image_data_format

    return image_data_format()


def _shift_amount(value, size):
    """One draw of a ``width_shift_range`` / ``height_shift_range`` setting, with tf.keras's draws: an int ``n`` or
    a list picks a value (``numpy.random.choice``) and a sign; a float draws from ``[-value, value]``; values
    below 1 are fractions of ``size``."""
    if isinstance(value, (float, np.floating)):
        shift = np.random.uniform(-value, value)
    else:
        shift = np.random.choice(value) * np.random.choice([-1, 1])
    return shift * size if np.max(value) < 1 else shift


class ImageDataGenerator:
    """Real-time data augmentation of image batches for ``fit`` (legacy tf.keras API).

    Args:
        featurewise_center / featurewise_std_normalization: subtract the data set's per-channel mean / divide by
            its standard deviation (from :meth:`fit`).
        samplewise_center / samplewise_std_normalization: the same per image.
        zca_whitening, zca_epsilon: ZCA whitening (from :meth:`fit`).
        rotation_range: degrees; rotations drawn from ``[-r, r]``.
        width_shift_range / height_shift_range: a float ``< 1`` (fraction of the size), an int (pixels, from
            ``[-n + 1, n - 1]``) or a list of allowed shifts.
        brightness_range: ``(low, high)`` factors for PIL's brightness enhancer.
        shear_range: degrees (counter-clockwise); zoom_range: a float ``z`` (``[1 - z, 1 + z]``) or
            ``[low, high]``, drawn separately for rows and columns.
        channel_shift_range: random shift added to every channel.
        fill_mode: ``"nearest"`` (default), ``"constant"`` (``cval``), ``"reflect"`` or ``"wrap"``.
        horizontal_flip / vertical_flip: random flips.
        rescale: multiply the data by this (after the other transforms, before standardisation).
        preprocessing_function: called on each image (a rank-3 array) first in :meth:`standardize`.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: ``keras.backend.image_data_format()``).
        validation_split: fraction held out for ``subset="validation"``.
        interpolation_order: 1 (linear, default) or 0 (nearest); 2-5 need SciPy.
        dtype: of the generated arrays (default floatx).
    """

    def __init__(self, featurewise_center=False, samplewise_center=False, featurewise_std_normalization=False,
                 samplewise_std_normalization=False, zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None, shear_range=0.0,
                 zoom_range=0.0, channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        data_format = data_format or _image_data_format()
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = dtype or floatx()
        self.interpolation_order = interpolation_order
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f'`data_format` should be `"channels_last"` (channel after row and column) or '
                             f'`"channels_first"` (channel before row and column). Received: {data_format}')
        self.data_format = data_format
        self.channel_axis, self.row_axis, self.col_axis = (3, 1, 2) if data_format == "channels_last" else (1, 2, 3)
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(f"`validation_split` must be strictly between 0 and 1.  Received: {validation_split}")
        self._validation_split = validation_split
        self.mean = self.std = self.zca_whitening_matrix = None
        if isinstance(zoom_range, (float, int)):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif len(zoom_range) == 2 and all(isinstance(v, (float, int)) for v in zoom_range):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError(f"`zoom_range` should be a float or a tuple or list of two floats. Received: {zoom_range}")
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, which overrides setting of "
                              "`featurewise_center`.", stacklevel=2)
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("This ImageDataGenerator specifies `zca_whitening` which overrides setting of"
                              "`featurewise_std_normalization`.", stacklevel=2)
        if featurewise_std_normalization and not featurewise_center:
            self.featurewise_center = True
            warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, which overrides "
                          "setting of `featurewise_center`.", stacklevel=2)
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn("This ImageDataGenerator specifies `samplewise_std_normalization`, which overrides "
                          "setting of `samplewise_center`.", stacklevel=2)
        if brightness_range is not None and (not isinstance(brightness_range, (tuple, list))
                                             or len(brightness_range) != 2):
            raise ValueError(f"`brightness_range should be tuple or list of two floats. Received: {brightness_range}")
        self.brightness_range = brightness_range

    # -- iterators ------------------------------------------------------------------------------------------
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None, save_to_dir=None,
             save_prefix="", save_format="png", ignore_class_split=False, subset=None) -> NumpyArrayIterator:
        """Batches ``(x, y)`` (or ``x``) of augmented images from arrays; endless with ``next``, one epoch of
        ``len()`` batches as a ``keras.utils.Sequence`` (what ``fit`` uses)."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
                                  seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format,
                                  ignore_class_split=ignore_class_split, subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb", classes=None,
                            class_mode="categorical", batch_size=32, shuffle=True, seed=None, save_to_dir=None,
                            save_prefix="", save_format="png", follow_links=False, subset=None,
                            interpolation="nearest", keep_aspect_ratio=False) -> DirectoryIterator:
        """Batches of augmented images read from ``directory/<class name>/<image files>`` (PNG, JPEG, BMP,
        PPM, TIFF), resized to ``target_size``; prints how many images and classes it found."""
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode,
                                 keep_aspect_ratio=keep_aspect_ratio, classes=classes, class_mode=class_mode,
                                 data_format=self.data_format, batch_size=batch_size, shuffle=shuffle, seed=seed,
                                 save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format,
                                 follow_links=follow_links, subset=subset, interpolation=interpolation,
                                 dtype=self.dtype)

    def flow_from_dataframe(self, dataframe, directory=None, x_col="filename", y_col="class", weight_col=None,
                            target_size=(256, 256), color_mode="rgb", classes=None, class_mode="categorical",
                            batch_size=32, shuffle=True, seed=None, save_to_dir=None, save_prefix="",
                            save_format="png", subset=None, interpolation="nearest", validate_filenames=True,
                            **kwargs) -> DataFrameIterator:
        """Batches of augmented images whose file paths and labels are columns of a pandas DataFrame."""
        for old in ("has_ext", "sort", "drop_duplicates"):
            if old in kwargs:
                warnings.warn(f"{old} is deprecated and will be removed.", DeprecationWarning, stacklevel=2)
                kwargs.pop(old)
        if kwargs:
            raise TypeError(f"flow_from_dataframe() got unexpected keyword arguments {sorted(kwargs)}")
        return DataFrameIterator(dataframe, directory, self, x_col=x_col, y_col=y_col, weight_col=weight_col,
                                 target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, subset=subset, interpolation=interpolation,
                                 validate_filenames=validate_filenames, dtype=self.dtype)

    # -- per-image work ------------------------------------------------------------------------------------------
    def standardize(self, x):
        """Normalise one image (in place where possible): preprocessing_function, rescale, sample-wise and
        feature-wise centring and scaling, ZCA whitening."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        for flag, stat, apply in (("featurewise_center", "mean", lambda v: v - self.mean),
                                  ("featurewise_std_normalization", "std", lambda v: v / (self.std + 1e-6)),
                                  ("zca_whitening", "zca_whitening_matrix", self._whiten)):
            if getattr(self, flag):
                if getattr(self, stat) is not None:
                    x = apply(x)
                else:
                    warnings.warn(f"This ImageDataGenerator specifies `{flag}`, but it hasn't been fit on any "
                                  f"training data. Fit it first by calling `.fit(numpy_data)`.", stacklevel=2)
        return x

    def _whiten(self, x):
        flat = x.reshape(-1, np.prod(x.shape[-3:]))
        return np.reshape(flat @ self.zca_whitening_matrix, x.shape)

    def get_random_transform(self, img_shape, seed=None) -> dict:
        """Random parameters for one image of ``img_shape``: ``theta``, ``tx``, ``ty``, ``shear``, ``zx``,
        ``zy``, ``flip_horizontal``, ``flip_vertical``, ``channel_shift_intensity``, ``brightness``."""
        row_axis, col_axis = self.row_axis - 1, self.col_axis - 1
        if seed is not None:
            np.random.seed(seed)
        theta = np.random.uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else 0
        tx = _shift_amount(self.height_shift_range, img_shape[row_axis]) if self.height_shift_range else 0
        ty = _shift_amount(self.width_shift_range, img_shape[col_axis]) if self.width_shift_range else 0
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift = None
        if self.channel_shift_range != 0:
            channel_shift = np.random.uniform(-self.channel_shift_range, self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift, "brightness": brightness}

    def apply_transform(self, x, transform_parameters):
        """Apply the parameters of :meth:`get_random_transform` to one image (rank 3)."""
        row_axis, col_axis, channel_axis = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        p = transform_parameters
        x = apply_affine_transform(x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
                                   p.get("zx", 1), p.get("zy", 1), row_axis=row_axis, col_axis=col_axis,
                                   channel_axis=channel_axis, fill_mode=self.fill_mode, cval=self.cval,
                                   order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], channel_axis)
        if p.get("flip_horizontal", False):
            x = flip_axis(x, col_axis)
        if p.get("flip_vertical", False):
            x = flip_axis(x, row_axis)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"], False)
        return x

    def random_transform(self, x, seed=None):
        """One image with random parameters applied."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def fit(self, x, augment=False, rounds=1, seed=None) -> None:
        """Compute the feature-wise mean / std / ZCA matrix of ``x`` ``(n, rows, cols, channels)`` (of ``rounds``
        augmented copies with ``augment=True``) for the feature-wise options."""
        x = np.array(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4. Got array with shape: {x.shape}")
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(f'Expected input to be images (as Numpy array) following the data format convention '
                          f'"{self.data_format}" (channels on axis {self.channel_axis}), i.e. expected either 1, 3 '
                          f"or 4 channels on axis {self.channel_axis}. However, it was passed an array with shape "
                          f"{x.shape} ({x.shape[self.channel_axis]} channels).", stacklevel=2)
        if seed is not None:
            np.random.seed(seed)
        if self.rescale:
            x *= self.rescale
        if augment:
            x = np.stack([self.random_transform(x[i]) for _ in range(rounds) for i in range(len(x))]).astype(self.dtype)
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=(0, self.row_axis, self.col_axis)), shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=(0, self.row_axis, self.col_axis)), shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = len(x)
            flat = np.reshape(x, (n, -1))
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            self.zca_whitening_matrix = (u * (np.sqrt(n) / (s + self.zca_epsilon))) @ u.T
