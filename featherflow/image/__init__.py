"""``featherflow.image``: TensorFlow's ``tf.image`` namespace (re-exports only).

Images are ``(rows, cols, channels)`` or batches ``(batch, rows, cols, channels)``. Resizing, flips, crops,
patches, colour adjustments and projective sampling are differentiable; decoding and encoding files use
Pillow (the ``image`` extra), imported only when a codec function runs.

>>> import featherflow as tf
>>> import numpy as np
>>> tf.image.resize(np.zeros((2, 28, 28, 1), "float32"), (14, 14)).shape
(2, 14, 14, 1)
>>> tf.image.flip_left_right(np.arange(3.0).reshape(1, 3, 1)).numpy().ravel()
array([2., 1., 0.])
"""

from featherflow.image.boxes import (
    draw_bounding_boxes,
    non_max_suppression,
    non_max_suppression_overlaps,
    non_max_suppression_with_scores,
)
from featherflow.image.codec import (
    adjust_jpeg_quality,
    decode_and_crop_jpeg,
    decode_bmp,
    decode_gif,
    decode_image,
    decode_jpeg,
    decode_png,
    decode_webp,
    encode_jpeg,
    encode_png,
    extract_jpeg_shape,
    is_jpeg,
)
from featherflow.image.color import (
    adjust_brightness,
    adjust_contrast,
    adjust_gamma,
    adjust_hue,
    adjust_saturation,
    convert_image_dtype,
    grayscale_to_rgb,
    hsv_to_rgb,
    per_image_standardization,
    rgb_to_grayscale,
    rgb_to_hsv,
    rgb_to_yiq,
    rgb_to_yuv,
    yiq_to_rgb,
    yuv_to_rgb,
)
from featherflow.image.geometry import (
    central_crop,
    crop_and_resize,
    crop_to_bounding_box,
    extract_patches,
    flip_left_right,
    flip_up_down,
    pad_to_bounding_box,
    resize_with_crop_or_pad,
    rot90,
    transpose,
)
from featherflow.image.quality import image_gradients, psnr, sobel_edges, ssim, ssim_multiscale, total_variation
from featherflow.image.random_ops import (
    random_brightness,
    random_contrast,
    random_crop,
    random_flip_left_right,
    random_flip_up_down,
    random_hue,
    random_jpeg_quality,
    random_saturation,
    stateless_random_brightness,
    stateless_random_contrast,
    stateless_random_crop,
    stateless_random_flip_left_right,
    stateless_random_flip_up_down,
    stateless_random_hue,
    stateless_random_jpeg_quality,
    stateless_random_saturation,
)
from featherflow.image.resizing import ResizeMethod, resize, resize_with_pad
