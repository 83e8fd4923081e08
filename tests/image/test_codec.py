import io

import numpy as np
import pytest

import featherflow as tf

PIL = pytest.importorskip("PIL.Image")


def test_png_round_trip_every_channel_count():
    rng = np.random.default_rng(0)
    for channels in (1, 2, 3, 4):
        image = rng.integers(0, 256, size=(5, 7, channels)).astype("uint8")
        encoded = tf.image.encode_png(image)
        assert encoded.startswith(b"\x89PNG") and encoded.numpy() == bytes(encoded)
        np.testing.assert_array_equal(tf.image.decode_png(encoded).numpy(), image)
        np.testing.assert_array_equal(tf.image.decode_image(encoded).numpy(), image)
    deep = rng.integers(0, 65536, size=(4, 3, 1)).astype("uint16")
    decoded = tf.image.decode_png(tf.image.encode_png(deep), dtype="uint16")
    assert decoded.dtype == np.uint16
    np.testing.assert_array_equal(decoded.numpy(), deep)


def test_png_files_written_by_pillow_decode_with_channel_conversion():
    rgb = np.random.default_rng(1).integers(0, 256, size=(6, 4, 3)).astype("uint8")
    buffer = io.BytesIO()
    PIL.fromarray(rgb).save(buffer, format="PNG")
    data = buffer.getvalue()
    assert tf.image.decode_png(data, channels=4).numpy()[..., 3].min() == 255
    gray = tf.image.decode_png(data, channels=1).numpy()
    expected = np.asarray(PIL.fromarray(rgb).convert("L"))[:, :, None]
    np.testing.assert_array_equal(gray, expected)
    as_float = tf.image.decode_image(data, dtype="float32").numpy()
    np.testing.assert_allclose(as_float, rgb / 255.0, atol=1e-7)


def test_jpeg_encode_decode_shape_and_quality():
    y, x = np.mgrid[0:32, 0:48]
    image = np.stack([y * 8, x * 5, (x + y) * 3], axis=-1).astype("uint8")
    encoded = tf.image.encode_jpeg(image, quality=95)
    assert bool(tf.image.is_jpeg(encoded).numpy()) and not bool(tf.image.is_jpeg(tf.image.encode_png(image)).numpy())
    assert tf.image.extract_jpeg_shape(encoded).numpy().tolist() == [32, 48, 3]
    decoded = tf.image.decode_jpeg(encoded).numpy()
    assert decoded.shape == image.shape and np.abs(decoded.astype(int) - image).mean() < 3
    rough = tf.image.decode_jpeg(tf.image.encode_jpeg(image, quality=5)).numpy()
    assert np.abs(rough.astype(int) - image).mean() > np.abs(decoded.astype(int) - image).mean()
    assert tf.image.decode_jpeg(encoded, ratio=2).shape == (16, 24, 3)
    assert tf.image.decode_jpeg(encoded, channels=1).shape == (32, 48, 1)
    crop = tf.image.decode_and_crop_jpeg(encoded, [4, 8, 10, 12]).numpy()
    np.testing.assert_array_equal(crop, decoded[4:14, 8:20])
    adjusted = tf.image.adjust_jpeg_quality(image / 255.0, 50)
    assert adjusted.dtype == np.float64 and adjusted.shape == image.shape
    quality = tf.image.stateless_random_jpeg_quality(image, 20, 90, seed=(1, 1)).numpy()
    np.testing.assert_array_equal(quality, tf.image.stateless_random_jpeg_quality(image, 20, 90, (1, 1)).numpy())


def test_gif_and_bmp():
    frames = [np.full((3, 4, 3), v, "uint8") for v in (0, 255)]
    buffer = io.BytesIO()
    PIL.fromarray(frames[0]).save(buffer, format="GIF", save_all=True, append_images=[PIL.fromarray(frames[1])])
    gif = buffer.getvalue()
    decoded = tf.image.decode_gif(gif).numpy()
    assert decoded.shape == (2, 3, 4, 3) and decoded[0].max() == 0 and decoded[1].min() == 255
    assert tf.image.decode_image(gif).shape == (2, 3, 4, 3)
    assert tf.image.decode_image(gif, expand_animations=False).shape == (3, 4, 3)
    buffer = io.BytesIO()
    PIL.fromarray(frames[1]).save(buffer, format="BMP")
    np.testing.assert_array_equal(tf.image.decode_bmp(buffer.getvalue()).numpy(), frames[1])


def test_webp():
    from PIL import features

    if not features.check("webp"):
        pytest.skip("this Pillow was built without WebP")
    image = np.random.default_rng(2).integers(0, 256, size=(5, 6, 3)).astype("uint8")
    buffer = io.BytesIO()
    PIL.fromarray(image).save(buffer, format="WEBP", lossless=True)
    np.testing.assert_array_equal(tf.image.decode_webp(buffer.getvalue()).numpy(), image)
    assert tf.image.decode_webp(buffer.getvalue(), channels=4).shape == (5, 6, 4)


def test_codec_errors():
    with pytest.raises(ValueError, match="not a PNG"):
        tf.image.decode_png(b"GIF89a....")
    with pytest.raises(ValueError, match="not a JPEG"):
        tf.image.decode_jpeg(b"\x89PNG....")
    with pytest.raises(ValueError, match="could not decode"):
        tf.image.decode_image(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(TypeError, match="bytes"):
        tf.image.decode_png("not bytes")
    with pytest.raises(ValueError, match="channels"):
        tf.image.encode_jpeg(np.zeros((2, 2, 4), "uint8"))
    with pytest.raises(TypeError, match="uint8"):
        tf.image.encode_png(np.zeros((2, 2, 3), "float32"))


def test_import_featherflow_does_not_import_pillow():
    import subprocess
    import sys

    code = "import sys, featherflow, featherflow.image; print('PIL' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
