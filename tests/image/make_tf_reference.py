"""Write ``tf_reference.npz``: tf.image / tf.keras outputs the image tests compare against.

Run ONCE in an environment with TensorFlow (never by the test suite)::

    /work/tfenv/bin/python tests/image/make_tf_reference.py

Inputs are drawn from a fixed NumPy seed and stored next to the outputs; the versions of TensorFlow
and tf-keras that produced the file are stored under ``versions``.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
from tf_keras.src.layers.preprocessing import image_preprocessing as ip  # noqa: E402

OUT = Path(__file__).resolve().parent / "tf_reference.npz"
RESIZE_METHODS = ["bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic"]
FILL_MODES = ["reflect", "wrap", "constant", "nearest"]


def main() -> None:
    rng = np.random.default_rng(20)
    data: dict[str, np.ndarray] = {}
    data["versions"] = np.array([tf.__version__, tf_keras.__version__])

    # -- resize: every method, with and without antialias, down and up -------------------------------------
    image = rng.uniform(0, 1, size=(2, 7, 9, 2)).astype("float32")
    data["resize/input"] = image
    for size in [(4, 5), (3, 13), (11, 14)]:
        for method in RESIZE_METHODS:
            for antialias in (False, True):
                out = tf.image.resize(image, size, method=method, antialias=antialias)
                data[f"resize/{method}/{int(antialias)}/{size[0]}x{size[1]}"] = out.numpy()
    data["resize/preserve_aspect_ratio/5x5"] = tf.image.resize(image, (5, 5), preserve_aspect_ratio=True).numpy()
    image_u8 = rng.integers(0, 256, size=(5, 6, 1)).astype("uint8")
    data["resize/uint8_input"] = image_u8
    data["resize/uint8/nearest/3x4"] = tf.image.resize(image_u8, (3, 4), method="nearest").numpy()
    data["resize/uint8/bilinear/8x9"] = tf.image.resize(image_u8, (8, 9)).numpy()
    data["resize/with_pad/6x6"] = tf.image.resize_with_pad(image, 6, 6).numpy()
    data["resize/with_crop_or_pad/5x12"] = tf.image.resize_with_crop_or_pad(image, 5, 12).numpy()

    # -- projective transforms (the RandomRotation / RandomZoom / RandomTranslation matrices) ---------------
    small = rng.uniform(0, 1, size=(2, 7, 8, 2)).astype("float32")
    data["transform/input"] = small
    h, w = float(small.shape[1]), float(small.shape[2])
    transforms = {
        "rotation": ip.get_rotation_matrix(tf.constant([0.3, -2.2]), h, w),
        "zoom": ip.get_zoom_matrix(tf.constant([[0.7, 1.3], [1.6, 0.8]]), h, w),
        "translation": ip.get_translation_matrix(tf.constant([[1.5, -2.3], [-9.2, 0.7]])),
        "projective": tf.constant([[0.9, 0.2, 0.5, -0.1, 1.1, -0.4, 0.01, -0.02],
                                   [1.2, -0.3, -1.5, 0.25, 0.8, 2.0, -0.015, 0.02]]),
    }
    for name, matrix in transforms.items():
        data[f"transform/{name}/matrix"] = matrix.numpy()
        for mode in FILL_MODES:
            for interpolation in ("bilinear", "nearest"):
                out = ip.transform(small, matrix, fill_mode=mode, fill_value=0.5, interpolation=interpolation)
                data[f"transform/{name}/{mode}/{interpolation}"] = out.numpy()
    out = ip.transform(small, transforms["zoom"], output_shape=[5, 11], fill_mode="constant")
    data["transform/zoom/output_shape_5x11"] = out.numpy()

    # -- colour --------------------------------------------------------------------------------------------
    rgb = rng.uniform(0, 1, size=(2, 4, 5, 3)).astype("float32")
    rgb[0, 0, 0] = [0.5, 0.5, 0.5]  # a grey pixel (zero saturation)
    data["color/input"] = rgb
    data["color/rgb_to_hsv"] = tf.image.rgb_to_hsv(rgb).numpy()
    data["color/hsv_to_rgb"] = tf.image.hsv_to_rgb(rgb).numpy()
    data["color/rgb_to_grayscale"] = tf.image.rgb_to_grayscale(rgb).numpy()
    data["color/rgb_to_yiq"] = tf.image.rgb_to_yiq(rgb).numpy()
    data["color/rgb_to_yuv"] = tf.image.rgb_to_yuv(rgb).numpy()
    data["color/yiq_to_rgb"] = tf.image.yiq_to_rgb(rgb).numpy()
    data["color/yuv_to_rgb"] = tf.image.yuv_to_rgb(rgb).numpy()
    for delta in (0.2, -0.45, 0.9):
        data[f"color/adjust_hue/{delta}"] = tf.image.adjust_hue(rgb, delta).numpy()
    for factor in (0.3, 1.7):
        data[f"color/adjust_saturation/{factor}"] = tf.image.adjust_saturation(rgb, factor).numpy()
        data[f"color/adjust_contrast/{factor}"] = tf.image.adjust_contrast(rgb, factor).numpy()
    data["color/adjust_brightness/0.1"] = tf.image.adjust_brightness(rgb, 0.1).numpy()
    data["color/adjust_gamma/0.5/1.2"] = tf.image.adjust_gamma(rgb, 0.5, 1.2).numpy()
    data["color/per_image_standardization"] = tf.image.per_image_standardization(rgb).numpy()
    rgb_u8 = rng.integers(0, 256, size=(3, 4, 3)).astype("uint8")
    data["color/uint8_input"] = rgb_u8
    data["color/uint8/adjust_brightness/0.1"] = tf.image.adjust_brightness(rgb_u8, 0.1).numpy()
    data["color/uint8/adjust_contrast/1.5"] = tf.image.adjust_contrast(rgb_u8, 1.5).numpy()
    data["color/uint8/adjust_hue/0.3"] = tf.image.adjust_hue(rgb_u8, 0.3).numpy()
    data["color/uint8/adjust_saturation/1.5"] = tf.image.adjust_saturation(rgb_u8, 1.5).numpy()
    data["color/uint8/per_image_standardization"] = tf.image.per_image_standardization(rgb_u8).numpy()
    data["color/uint8/rgb_to_grayscale"] = tf.image.rgb_to_grayscale(rgb_u8).numpy()
    data["dtype/uint8_to_float32"] = tf.image.convert_image_dtype(rgb_u8, tf.float32).numpy()
    data["dtype/float_to_uint8"] = tf.image.convert_image_dtype(rgb, tf.uint8).numpy()
    data["dtype/float_to_uint8_saturate"] = tf.image.convert_image_dtype(rgb * 1.5 - 0.2, tf.uint8,
                                                                         saturate=True).numpy()
    data["dtype/uint8_to_int16"] = tf.image.convert_image_dtype(rgb_u8, tf.int16).numpy()
    data["dtype/int16_to_uint8"] = tf.image.convert_image_dtype(
        tf.constant([[-300, 0, 5000, 32767]], tf.int16), tf.uint8).numpy()

    # -- patches, crops, gradients, metrics ------------------------------------------------------------------
    grid = rng.uniform(0, 1, size=(2, 7, 8, 2)).astype("float32")
    grid_t = tf.constant(grid)
    data["misc/input"] = grid
    data["misc/extract_patches/valid"] = tf.image.extract_patches(grid, [1, 3, 2, 1], [1, 2, 3, 1], [1, 1, 1, 1],
                                                                  "VALID").numpy()
    data["misc/extract_patches/same_rates"] = tf.image.extract_patches(grid, [1, 2, 3, 1], [1, 2, 2, 1],
                                                                       [1, 2, 1, 1], "SAME").numpy()
    boxes = np.array([[0.1, 0.2, 0.8, 0.9], [-0.2, 0.0, 0.5, 1.3], [0.6, 0.7, 0.1, 0.2]], "float32")
    data["misc/crop_and_resize/boxes"] = boxes
    for method in ("bilinear", "nearest"):
        data[f"misc/crop_and_resize/{method}"] = tf.image.crop_and_resize(
            grid, boxes, [1, 0, 1], [4, 5], method=method, extrapolation_value=0.25).numpy()
    data["misc/central_crop/0.5"] = tf.image.central_crop(grid, 0.5).numpy()
    data["misc/total_variation"] = tf.image.total_variation(grid_t).numpy()
    dy, dx = tf.image.image_gradients(grid_t)
    data["misc/image_gradients/dy"] = dy.numpy()
    data["misc/image_gradients/dx"] = dx.numpy()
    data["misc/sobel_edges"] = tf.image.sobel_edges(grid_t).numpy()
    other = np.clip(grid + rng.normal(0, 0.1, size=grid.shape), 0, 1).astype("float32")
    data["misc/other"] = other
    data["misc/psnr"] = tf.image.psnr(grid, other, max_val=1.0).numpy()
    big = rng.uniform(0, 1, size=(1, 24, 26, 2)).astype("float32")
    big_other = np.clip(big + rng.normal(0, 0.1, size=big.shape), 0, 1).astype("float32")
    data["misc/ssim_a"] = big
    data["misc/ssim_b"] = big_other
    data["misc/ssim"] = tf.image.ssim(big, big_other, max_val=1.0).numpy()
    data["misc/ssim_k5"] = tf.image.ssim(big, big_other, max_val=1.0, filter_size=5, filter_sigma=1.0).numpy()
    boxes_nms = rng.uniform(0, 1, size=(12, 4)).astype("float32")
    boxes_nms[:, 2:] = boxes_nms[:, :2] + rng.uniform(0.1, 0.5, size=(12, 2))
    scores = rng.uniform(0, 1, size=12).astype("float32")
    data["misc/nms_boxes"] = boxes_nms
    data["misc/nms_scores"] = scores
    data["misc/nms"] = tf.image.non_max_suppression(boxes_nms, scores, 6, iou_threshold=0.3,
                                                    score_threshold=0.1).numpy()
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(data)} arrays)")


if __name__ == "__main__":
    main()
