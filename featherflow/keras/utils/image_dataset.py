"""``keras.utils.image_dataset_from_directory``: a ``tf.data.Dataset`` of images from class subdirectories.

Images (``.bmp``, ``.gif``, ``.jpeg``, ``.jpg``, ``.png``; GIFs' first frame) are decoded with Pillow (the
``image`` extra: ``pip install "featherflow[image]"``) in the pipeline's map threads and resized with
``tf.image.resize`` to float32 ``(height, width, channels)``.

>>> import os, tempfile
>>> import numpy as np
>>> import featherflow as tf
>>> root = tempfile.mkdtemp()
>>> for label in ("cat", "dog"):
...     os.makedirs(os.path.join(root, label))
...     png = tf.image.encode_png(np.full((4, 6, 3), 200 if label == "dog" else 10, "uint8"))
...     with open(os.path.join(root, label, "0.png"), "wb") as f:
...         _ = f.write(png.numpy())
>>> ds = image_dataset_from_directory(root, image_size=(2, 3), batch_size=2, shuffle=False, verbose=False)
>>> images, labels = next(iter(ds))
>>> ds.class_names, images.shape, labels.numpy().tolist(), float(images[1, 0, 0, 0])
(['cat', 'dog'], (2, 2, 3, 3), [0, 1], 200.0)
"""

from __future__ import annotations

import numpy as np

from featherflow.data import AUTOTUNE, Dataset
from featherflow.keras.utils import dataset_utils
from featherflow.keras.utils.image_utils import smart_resize

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


def load_image(path: bytes, image_size, num_channels: int, interpolation: str,
               crop_to_aspect: bool = False) -> np.ndarray:
    """One image file as ``(image_size[0], image_size[1], num_channels)`` float32 (uint8 for ``"nearest"``)."""
    from featherflow.image import decode_image, resize

    with open(path, "rb") as f:
        data = f.read()
    image = decode_image(data, channels=num_channels, expand_animations=False).numpy()
    if image.shape[-1] != num_channels:  # GIFs decode to RGB whatever is asked
        from featherflow.image import rgb_to_grayscale

        image = rgb_to_grayscale(image).numpy() if num_channels == 1 else np.concatenate(
            [image, np.full(image.shape[:-1] + (1,), 255, np.uint8)], axis=-1)
    if crop_to_aspect:
        return smart_resize(image, image_size, interpolation=interpolation)
    return resize(image, image_size, method=interpolation).numpy()  # float32 ("nearest" keeps uint8, as in TF)


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, color_mode="rgb",
                                 batch_size=32, image_size=(256, 256), shuffle=True, seed=None, validation_split=None,
                                 subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, verbose=True, **kwargs):
    """Generates a ``tf.data.Dataset`` from image files in a directory (tf.keras 2's function).

    Args:
        directory: with ``labels="inferred"``, one subdirectory of images per class.
        labels: ``"inferred"`` (from the subdirectories), None (images only) or a list of integer labels in
            the alphanumeric order of the image paths.
        label_mode: ``"int"`` (int32), ``"categorical"`` (one-hot float32), ``"binary"`` (float32 ``(1,)``,
            two classes) or None.
        class_names: the classes' order (the subdirectories' names); alphanumeric by default.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"`` (1, 3 or 4 channels).
        batch_size: images per batch (None: single images).
        image_size: ``(height, width)`` every image is resized to.
        shuffle: shuffle the file list once (with ``seed``) and the elements each epoch (a buffer of
            ``8 * batch_size``); False: alphanumeric order.
        seed: random seed for the shuffles (required with ``validation_split`` and ``shuffle``).
        validation_split, subset: the fraction of files held out and which part to return
            (``"training"``, ``"validation"`` or ``"both"`` for ``[train, validation]``).
        interpolation: the resize method (``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"area"``, ...).
        follow_links: follow symbolic links to subdirectories.
        crop_to_aspect_ratio: crop the largest centred window of the target aspect ratio before resizing.
        verbose: print how many files were found.

    Returns:
        A dataset of ``(images, labels)`` (images alone without labels) with ``class_names`` and
        ``file_paths`` attributes; ``[train, validation]`` for ``subset="both"``.
    """
    if "smart_resize" in kwargs:
        crop_to_aspect_ratio = kwargs.pop("smart_resize")
    if kwargs:
        raise TypeError(f"Unknown keywords argument(s): {tuple(kwargs.keys())}")
    if color_mode not in _CHANNELS:
        raise ValueError(f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. Received: color_mode={color_mode}')
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"Value not recognized for `interpolation`: {interpolation}. Supported values are: "
                         f"{list(_INTERPOLATIONS)}")
    if (not isinstance(image_size, (tuple, list)) or len(image_size) != 2
            or not all(isinstance(d, (int, np.integer)) and d > 0 for d in image_size)):
        raise ValueError(f"`image_size` must be a tuple of two positive integers (height, width). Received: "
                         f"image_size={image_size}")
    from featherflow.image.codec import pillow

    pillow()  # fail now, naming the `image` extra, rather than in the pipeline's threads
    num_channels = _CHANNELS[color_mode]
    size = (int(image_size[0]), int(image_size[1]))

    def make_dataset(paths):
        def load(path):
            return load_image(path.numpy().item(), size, num_channels, interpolation, crop_to_aspect_ratio)

        return Dataset.from_tensor_slices(paths).map(load, num_parallel_calls=AUTOTUNE)

    return dataset_utils.from_directory(directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                                        validation_split, subset, follow_links, ALLOWLIST_FORMATS, "image",
                                        make_dataset, verbose=verbose)
