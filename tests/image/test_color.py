import image_reference
import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as tf

tf_ref = image_reference.load()  # TF 2.21 outputs (tests/image/fixtures/tf_reference.npz)


@pytest.mark.parametrize("name", ["rgb_to_hsv", "hsv_to_rgb", "rgb_to_grayscale", "rgb_to_yiq", "rgb_to_yuv",
                                  "yiq_to_rgb", "yuv_to_rgb"])
def test_colour_spaces_match_tensorflow(name):
    out = getattr(tf.image, name)(tf_ref["color/input"])
    np.testing.assert_allclose(out.numpy(), tf_ref[f"color/{name}"], atol=1e-6)


def test_adjustments_match_tensorflow():
    rgb = tf_ref["color/input"]
    for delta in (0.2, -0.45, 0.9):
        np.testing.assert_allclose(tf.image.adjust_hue(rgb, delta).numpy(), tf_ref[f"color/adjust_hue/{delta}"],
                                   atol=2e-6)
    for factor in (0.3, 1.7):
        np.testing.assert_allclose(tf.image.adjust_saturation(rgb, factor).numpy(),
                                   tf_ref[f"color/adjust_saturation/{factor}"], atol=1e-6)
        np.testing.assert_allclose(tf.image.adjust_contrast(rgb, factor).numpy(),
                                   tf_ref[f"color/adjust_contrast/{factor}"], atol=1e-6)
    np.testing.assert_allclose(tf.image.adjust_brightness(rgb, 0.1).numpy(), tf_ref["color/adjust_brightness/0.1"])
    np.testing.assert_allclose(tf.image.adjust_gamma(rgb, 0.5, 1.2).numpy(), tf_ref["color/adjust_gamma/0.5/1.2"],
                               atol=1e-6)
    np.testing.assert_allclose(tf.image.per_image_standardization(rgb).numpy(),
                               tf_ref["color/per_image_standardization"], atol=1e-6)


def test_uint8_images_convert_and_saturate_like_tensorflow():
    u8 = tf_ref["color/uint8_input"]
    cases = {"adjust_brightness/0.1": tf.image.adjust_brightness(u8, 0.1),
             "adjust_contrast/1.5": tf.image.adjust_contrast(u8, 1.5),
             "adjust_hue/0.3": tf.image.adjust_hue(u8, 0.3),
             "adjust_saturation/1.5": tf.image.adjust_saturation(u8, 1.5),
             "rgb_to_grayscale": tf.image.rgb_to_grayscale(u8)}
    for key, out in cases.items():
        assert out.dtype == np.uint8, key
        np.testing.assert_array_equal(out.numpy(), tf_ref[f"color/uint8/{key}"], err_msg=key)
    standardized = tf.image.per_image_standardization(u8)
    assert standardized.dtype == np.float32
    np.testing.assert_allclose(standardized.numpy(), tf_ref["color/uint8/per_image_standardization"], atol=1e-6)


def test_convert_image_dtype_matches_tensorflow():
    u8, rgb = tf_ref["color/uint8_input"], tf_ref["color/input"]
    convert = tf.image.convert_image_dtype
    np.testing.assert_array_equal(convert(u8, tf.float32).numpy(), tf_ref["dtype/uint8_to_float32"])
    np.testing.assert_array_equal(convert(rgb, tf.uint8).numpy(), tf_ref["dtype/float_to_uint8"])
    np.testing.assert_array_equal(convert(rgb * 1.5 - 0.2, "uint8", saturate=True).numpy(),
                                  tf_ref["dtype/float_to_uint8_saturate"])
    np.testing.assert_array_equal(convert(u8, "int16").numpy(), tf_ref["dtype/uint8_to_int16"])
    np.testing.assert_array_equal(convert(np.array([[-300, 0, 5000, 32767]], "int16"), "uint8").numpy(),
                                  tf_ref["dtype/int16_to_uint8"])
    with pytest.raises(TypeError, match="integer or float"):
        convert(np.array([True]), "float32")


def test_hsv_round_trip_and_grayscale_to_rgb():
    rgb = random_array((3, 4, 3), low=0, high=1)
    np.testing.assert_allclose(tf.image.hsv_to_rgb(tf.image.rgb_to_hsv(rgb)).numpy(), rgb, atol=1e-12)
    np.testing.assert_allclose(tf.image.yiq_to_rgb(tf.image.rgb_to_yiq(rgb)).numpy(), rgb, atol=1e-4)
    gray = tf.image.grayscale_to_rgb(rgb[..., :1]).numpy()
    assert gray.shape == (3, 4, 3) and (gray == rgb[..., :1]).all()
    with pytest.raises(ValueError, match="must be 3"):
        tf.image.adjust_hue(rgb[..., :2], 0.1)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        tf.image.adjust_hue(rgb, 1.5)
    with pytest.raises(ValueError, match="non-negative"):
        tf.image.adjust_gamma(rgb, -1.0)


@pytest.mark.parametrize("fn", [lambda x: tf.image.adjust_brightness(x, 0.2),
                                lambda x: tf.image.adjust_contrast(x, 1.7),
                                lambda x: tf.image.adjust_gamma(x, 0.7, 1.3),
                                lambda x: tf.image.adjust_hue(x, 0.3),
                                lambda x: tf.image.adjust_hue(x, -0.8),
                                lambda x: tf.image.adjust_saturation(x, 0.6),
                                lambda x: tf.image.adjust_saturation(x, 1.4),
                                tf.image.rgb_to_hsv, tf.image.hsv_to_rgb, tf.image.rgb_to_grayscale,
                                tf.image.rgb_to_yuv, tf.image.yuv_to_rgb, tf.image.per_image_standardization])
def test_colour_gradients(fn):
    check_gradient(fn, [random_array((2, 3, 4, 3), seed=5, low=0.05, high=0.95)])
