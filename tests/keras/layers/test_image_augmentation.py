"""Augmentation layers: tf.keras 2's factor conventions (checked against tf_keras 2.21 outputs with fixed
factor ranges, tests/image/tf_reference.npz), training-only behaviour, seeds, data formats, the layer helper
and gradients."""

import image_reference
import numpy as np
import pytest
from layer_helpers import layer_test

import featherflow as ff
from featherflow import keras
from featherflow.keras import layers
from featherflow.keras.utils.image_utils import smart_resize


@pytest.fixture(scope="module")
def ref():
    return image_reference.load()


CASES = {
    "rotation": lambda: layers.RandomRotation((0.1, 0.1)),
    "rotation_nearest_constant": lambda: layers.RandomRotation((-0.3, -0.3), fill_mode="constant", fill_value=9.0,
                                                               interpolation="nearest"),
    "zoom": lambda: layers.RandomZoom((-0.3, -0.3), (0.2, 0.2)),
    "zoom_same_aspect_wrap": lambda: layers.RandomZoom((0.4, 0.4), fill_mode="wrap"),
    "translation": lambda: layers.RandomTranslation((0.2, 0.2), (-0.3, -0.3)),
    "translation_constant": lambda: layers.RandomTranslation((-0.25, -0.25), (0.5, 0.5), fill_mode="constant",
                                                             fill_value=3.0),
    "brightness": lambda: layers.RandomBrightness((0.2, 0.2)),
    "brightness_range": lambda: layers.RandomBrightness((-0.5, -0.5), value_range=(10, 200)),
    "height": lambda: layers.RandomHeight((0.5, 0.5)),
    "height_bicubic": lambda: layers.RandomHeight((-0.4, -0.4), interpolation="bicubic"),
    "width_area": lambda: layers.RandomWidth((-0.5, -0.5), interpolation="area"),
}
INFERENCE_CASES = {
    "crop_inference_bigger": lambda: layers.RandomCrop(10, 5),
    "center_crop": lambda: layers.CenterCrop(5, 4),
    "center_crop_upsize": lambda: layers.CenterCrop(8, 4),
    "resizing_crop": lambda: layers.Resizing(4, 8, crop_to_aspect_ratio=True),
    "resizing_lanczos3": lambda: layers.Resizing(5, 4, interpolation="lanczos3"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_training_outputs_match_tf_keras(ref, name):
    out = CASES[name]()(ref["layers/input"], training=True).numpy()
    np.testing.assert_allclose(out, ref[f"layers/{name}"], rtol=1e-5, atol=3e-4)


@pytest.mark.parametrize("name", sorted(INFERENCE_CASES))
def test_inference_outputs_match_tf_keras(ref, name):
    out = INFERENCE_CASES[name]()(ref["layers/input"], training=False).numpy()
    np.testing.assert_allclose(out, ref[f"layers/{name}"], rtol=1e-5, atol=3e-4)


def test_smart_resize_matches_tf_keras(ref):
    out = smart_resize(ref["layers/input"][0], (3, 7))
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, ref["layers/smart_resize_3x7"], rtol=1e-5, atol=3e-4)


def test_factor_sign_conventions():
    image = np.zeros((1, 9, 9, 1), "float32")
    image[0, 4, 6, 0] = 1.0  # a dot right of the centre
    # factor 0.25 of a full turn, counter-clockwise: the dot moves above the centre
    rotated = layers.RandomRotation((0.25, 0.25), interpolation="nearest")(image).numpy()[0, :, :, 0]
    assert rotated[2, 4] == 1.0 and rotated.sum() == 1.0
    # positive height factor shifts down, negative width factor shifts left
    moved = layers.RandomTranslation((2 / 9, 2 / 9), (-1 / 9, -1 / 9), fill_mode="constant",
                                     interpolation="nearest")(image).numpy()[0, :, :, 0]
    assert moved[6, 5] == 1.0 and moved.sum() == 1.0
    # positive zoom factors zoom out: the dot moves toward the centre (distance 2 -> 1 for zoom 2)
    zoomed_out = layers.RandomZoom((1.0, 1.0), fill_mode="constant", interpolation="nearest")(image).numpy()
    assert zoomed_out[0, 4, 5, 0] == 1.0
    zoomed_in = layers.RandomZoom((-0.5, -0.5), fill_mode="constant", interpolation="nearest")(image).numpy()
    assert zoomed_in[0, 4, 8, 0] == 1.0  # distance 2 -> 4


@pytest.mark.parametrize("make", [lambda: layers.RandomRotation(0.3), lambda: layers.RandomZoom(0.3, 0.2),
                                  lambda: layers.RandomTranslation(0.2, 0.2), lambda: layers.RandomContrast(0.5),
                                  lambda: layers.RandomBrightness(0.5), lambda: layers.RandomHeight(0.4),
                                  lambda: layers.RandomWidth(0.4), lambda: layers.RandomFlip()])
def test_active_only_in_training(make):
    x = np.random.default_rng(0).uniform(0, 255, size=(4, 6, 7, 3)).astype("float32")
    layer = make()
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    # a call without `training` outside fit/predict augments, as in tf.keras
    assert not np.array_equal(layer(x).numpy(), x) or layer(x).shape != x.shape
    model = keras.Sequential([keras.Input((6, 7, 3)), make()])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    np.testing.assert_array_equal(model(x, training=False).numpy(), x)


def test_seeded_layers_repeat_and_draw_per_image():
    x = np.random.default_rng(1).uniform(size=(6, 8, 8, 2)).astype("float32")
    a = layers.RandomRotation(0.2, seed=5)(x).numpy()
    b = layers.RandomRotation(0.2, seed=5)(x).numpy()
    np.testing.assert_array_equal(a, b)
    layer = layers.RandomRotation(0.2, seed=5)
    assert not np.array_equal(layer(x).numpy(), layer(x).numpy())  # the layer's generator advances
    same = np.repeat(x[:1], 6, axis=0)
    out = layers.RandomZoom(0.3, seed=1)(same).numpy()
    assert len({out[i].tobytes() for i in range(6)}) == 6  # a different zoom per image
    ff.random.set_seed(3)
    c = layers.RandomTranslation(0.3, 0.3)(x).numpy()
    ff.random.set_seed(3)
    np.testing.assert_array_equal(c, layers.RandomTranslation(0.3, 0.3)(x).numpy())


@pytest.mark.parametrize("make", [lambda: layers.RandomRotation(0.2, seed=3, data_format="channels_first"),
                                  lambda: layers.RandomCrop(4, 3, seed=3, data_format="channels_first"),
                                  lambda: layers.RandomHeight(0.5, seed=3, data_format="channels_first"),
                                  lambda: layers.Resizing(4, 3, data_format="channels_first"),
                                  lambda: layers.CenterCrop(4, 3, data_format="channels_first")])
def test_channels_first_equals_channels_last(make):
    x = np.random.default_rng(2).uniform(size=(3, 6, 5, 2)).astype("float32")
    first = make()
    config = first.get_config()
    config["data_format"] = "channels_last"
    last = type(first).from_config(config)
    out_first = first(x.transpose(0, 3, 1, 2), training=True).numpy()
    np.testing.assert_allclose(out_first.transpose(0, 2, 3, 1), last(x, training=True).numpy(), rtol=1e-6)
    assert first.compute_output_shape((None, 2, 6, 5))[1] == 2


def test_unbatched_and_integer_images():
    image = np.random.default_rng(3).integers(0, 256, size=(6, 6, 3)).astype("uint8")
    out = layers.RandomRotation(0.1, seed=0)(image)
    assert out.shape == (6, 6, 3) and out.dtype == np.float32
    assert layers.RandomCrop(3, 3, seed=0)(image).shape == (3, 3, 3)
    assert layers.RandomHeight((1.0, 1.0), seed=0)(image).shape == (12, 6, 3)


def test_random_crop_is_one_window_per_batch():
    x = np.arange(2 * 8 * 8, dtype="float32").reshape(2, 8, 8, 1)
    out = layers.RandomCrop(3, 5, seed=4)(x, training=True).numpy()
    top, left = divmod(int(out[0, 0, 0, 0]), 8)
    np.testing.assert_array_equal(out, x[:, top:top + 3, left:left + 5])
    # at inference: smart_resize (centre crop to the aspect ratio, then resize)
    np.testing.assert_allclose(layers.RandomCrop(4, 4)(x, training=False).numpy(),
                               x.reshape(2, 4, 2, 4, 2, 1).mean(axis=(2, 4)), rtol=1e-6)


def test_contrast_and_brightness_formulas():
    x = np.random.default_rng(4).uniform(0, 255, size=(2, 4, 5, 3)).astype("float32")
    ff.random.set_seed(7)
    out = layers.RandomContrast((0.5, 0.5))(x).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    factor = (out - mean) / (x - mean)
    unclipped = (out > 0) & (out < 255)
    assert np.allclose(factor[unclipped], factor[unclipped][0], rtol=1e-3)
    assert 0.5 <= factor[unclipped][0] <= 1.5 and out.min() >= 0 and out.max() <= 255
    out = layers.RandomBrightness(0.3, value_range=(0, 255), seed=2)(x).numpy()
    delta = out - x
    inside = (out > 0) & (out < 255)
    for i in range(2):
        assert np.allclose(delta[i][inside[i]], delta[i][inside[i]][0], atol=1e-3)
        assert abs(delta[i][inside[i]][0]) <= 0.3 * 255


def test_argument_errors():
    with pytest.raises(ValueError, match="cannot have a negative value"):
        layers.RandomRotation((0.2, 0.1))
    with pytest.raises(ValueError, match=r"between \[-1, 1\]"):
        layers.RandomZoom(1.5)
    with pytest.raises(ValueError, match="larger than -1"):
        layers.RandomZoom(0.2, (-1.5, 0.1))
    with pytest.raises(ValueError, match=r"between \[-1, 1\]"):
        layers.RandomTranslation(0.1, 1.2)
    with pytest.raises(NotImplementedError, match="fill_mode"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="interpolation"):
        layers.RandomTranslation(0.1, 0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="cannot have negative values"):
        layers.RandomContrast(-0.1)
    with pytest.raises(ValueError, match=r"range \[-1.0, 1.0\]"):
        layers.RandomBrightness(1.5)
    with pytest.raises(ValueError, match="value_range"):
        layers.RandomBrightness(0.1, value_range=(0, 1, 2))
    with pytest.raises(ValueError, match="larger than -1"):
        layers.RandomHeight((-1.5, 0.2))
    with pytest.raises(NotImplementedError, match="interpolation"):
        layers.RandomWidth(0.2, interpolation="cubic")
    with pytest.raises(ValueError, match="unknown mode"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="rank 3"):
        layers.RandomRotation(0.1)(np.zeros((2, 3), "float32"))


@pytest.mark.parametrize("cls,kwargs,shape,out", [
    (layers.RandomRotation, {"factor": 0.2, "fill_mode": "constant", "fill_value": 0.5}, (2, 5, 6, 2), None),
    (layers.RandomZoom, {"height_factor": (-0.3, 0.3), "width_factor": 0.2, "fill_mode": "nearest"},
     (2, 5, 6, 2), None),
    (layers.RandomTranslation, {"height_factor": 0.2, "width_factor": (-0.3, 0.1), "fill_mode": "wrap"},
     (2, 5, 6, 2), None),
    (layers.RandomContrast, {"factor": (0.2, 0.5)}, (2, 5, 6, 2), None),
    (layers.RandomBrightness, {"factor": 0.2, "value_range": (-1, 1)}, (2, 5, 6, 2), None),
    (layers.RandomCrop, {"height": 3, "width": 4}, (2, 5, 6, 2), (None, 3, 4, 2)),
    (layers.RandomHeight, {"factor": 0.3, "interpolation": "bicubic"}, (2, 5, 6, 2), (None, None, 6, 2)),
    (layers.RandomWidth, {"factor": 0.3}, (2, 5, 6, 2), (None, 5, None, 2)),
    (layers.RandomFlip, {"mode": "horizontal_and_vertical"}, (2, 5, 6, 2), None),
    (layers.Resizing, {"height": 3, "width": 8, "interpolation": "area"}, (2, 5, 6, 2), (None, 3, 8, 2)),
    (layers.Resizing, {"height": 4, "width": 4, "crop_to_aspect_ratio": True}, (2, 5, 6, 2), (None, 4, 4, 2)),
    (layers.CenterCrop, {"height": 3, "width": 3}, (2, 5, 6, 2), (None, 3, 3, 2)),
])
def test_layer_helper_and_gradients(cls, kwargs, shape, out):
    layer_test(cls, kwargs, input_shape=shape, expected_output_shape=out or (None,) + shape[1:],
               expected_num_trainable_weights=0, gradient_training=True,
               check_functional=out is None or None not in out[1:])


def test_augmentation_inside_a_trained_model():
    x = np.random.default_rng(5).uniform(size=(64, 12, 12, 1)).astype("float32")
    y = (x[:, :6].mean(axis=(1, 2, 3)) > x[:, 6:].mean(axis=(1, 2, 3))).astype("float32")
    model = keras.Sequential([keras.Input((12, 12, 1)), layers.RandomRotation(0.05, seed=1),
                              layers.RandomZoom(0.1, seed=2), layers.RandomTranslation(0.1, 0.1, seed=3),
                              layers.Conv2D(4, 3, activation="relu"), layers.GlobalAveragePooling2D(),
                              layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    restored = keras.Sequential.from_config(model.get_config())
    assert [type(lyr).__name__ for lyr in restored.layers][:3] == ["RandomRotation", "RandomZoom",
                                                                    "RandomTranslation"]


@pytest.mark.parametrize("make", [lambda: layers.RandomFlip(seed=7), lambda: layers.RandomRotation(0.2, seed=7),
                                  lambda: layers.RandomZoom(0.3, fill_mode="constant", seed=7),
                                  lambda: layers.RandomTranslation(0.3, 0.3, interpolation="nearest", seed=7),
                                  lambda: layers.RandomContrast(0.5, seed=7), lambda: layers.RandomBrightness(0.4, seed=7),
                                  lambda: layers.RandomCrop(3, 3, seed=8)])
def test_compiled_calls_draw_anew_and_match_eager(make):
    """In a tf.function the layer compiles (no fallback, one trace) and every call of the program draws fresh
    factors: the same images as the eager layer with the same seed, call after call."""
    x = np.random.default_rng(6).uniform(0, 255, size=(4, 8, 8, 2)).astype("float32")
    eager_layer, compiled_layer = make(), make()
    step = ff.function(lambda images: compiled_layer(images, training=True))
    eager = [eager_layer(x, training=True).numpy() for _ in range(4)]
    compiled = [step(x).numpy() for _ in range(4)]
    assert step.eager_fallback_reason is None and step.experimental_get_tracing_count() == 1
    assert len({out.tobytes() for out in compiled}) == 4  # fresh draws at every call
    for got, want in zip(compiled, eager):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-4)


def test_compiled_transform_of_a_watched_input_matches_eager_gradients():
    """A transform whose input a tape watches compiles as traced NumPy (not the host call the unwatched inputs
    take): values and input gradients agree with eager, with a fresh rotation at every call."""
    x = ff.constant(np.random.default_rng(8).uniform(size=(3, 7, 7, 2)).astype("float32"))
    weights = np.random.default_rng(9).normal(size=(3, 7, 7, 2)).astype("float32")

    def loss_and_grad(layer):
        with ff.GradientTape() as tape:
            tape.watch(x)
            loss = ff.reduce_sum(layer(x, training=True) * weights)
        return loss, tape.gradient(loss, x)

    eager_layer, compiled_layer = layers.RandomRotation(0.3, seed=2), layers.RandomRotation(0.3, seed=2)
    step = ff.function(lambda: loss_and_grad(compiled_layer))
    results = []
    for _ in range(3):
        (loss, grad), (want_loss, want_grad) = step(), loss_and_grad(eager_layer)
        np.testing.assert_allclose(float(loss), float(want_loss), rtol=1e-5)
        np.testing.assert_allclose(grad.numpy(), want_grad.numpy(), rtol=1e-5, atol=1e-6)
        results.append(grad.numpy().tobytes())
    assert step.eager_fallback_reason is None and len(set(results)) == 3
