"""``tf.image`` ops inside a ``tf.function`` compile (one trace, no fallback to eager) and give the eager results;
random ops without a seed draw anew at every call of the compiled program, in the order eager code draws, and
seeded ones repeat their draws as eagerly."""

import numpy as np
import pytest

import featherflow as ff
from featherflow import image

BOXES = np.array([[[0.1, 0.2, 0.6, 0.9], [0.0, 0.0, 1.0, 1.0]]] * 3, "float32")

DETERMINISTIC = {
    "adjust_brightness": lambda t: image.adjust_brightness(t, 0.1),
    "adjust_contrast": lambda t: image.adjust_contrast(t, 1.5),
    "adjust_hue": lambda t: image.adjust_hue(t, 0.3),
    "adjust_hue[negative]": lambda t: image.adjust_hue(t, -0.8),
    "adjust_saturation": lambda t: image.adjust_saturation(t, 1.7),
    "rgb_to_hsv": image.rgb_to_hsv,
    "hsv_to_rgb": lambda t: image.hsv_to_rgb(image.rgb_to_hsv(t)),
    "convert_image_dtype[saturate]": lambda t: image.convert_image_dtype(t * 300.0 - 20.0, "uint8", saturate=True),
    "draw_bounding_boxes": lambda t: image.draw_bounding_boxes(t, BOXES, np.array([[1.0, 0.0, 0.0, 1.0]], "float32")),
    "stateless_random_brightness": lambda t: image.stateless_random_brightness(t, 0.3, (1, 2)),
    "random_crop[seeded]": lambda t: image.random_crop(t, (2, 4, 5, 3), seed=4),
    "random_hue[seeded]": lambda t: image.random_hue(t, 0.4, seed=4),
}
RANDOM = {
    "random_flip_left_right": lambda t: image.random_flip_left_right(t),
    "random_flip_up_down[one image]": lambda t: image.random_flip_up_down(t[0]),
    "random_brightness": lambda t: image.random_brightness(t, 0.3),
    "random_contrast": lambda t: image.random_contrast(t, 0.2, 1.8),
    "random_saturation": lambda t: image.random_saturation(t, 0.2, 1.8),
    "random_hue": lambda t: image.random_hue(t, 0.4),
    "random_crop": lambda t: image.random_crop(t, (2, 4, 5, 3)),
}


def _images(seed):
    return np.random.default_rng(seed).uniform(0.0, 1.0, (3, 7, 8, 3)).astype("float32")


def _compiled_and_eager(fn, calls=4):
    compiled = ff.function(fn)
    ff.random.set_seed(12)
    got = [compiled(ff.constant(_images(i))).numpy() for i in range(calls)]
    ff.random.set_seed(12)
    want = [fn(ff.constant(_images(i))).numpy() for i in range(calls)]
    assert compiled.eager_fallback_reason is None, compiled.eager_fallback_reason
    assert compiled.experimental_get_tracing_count() == 1
    return got, want


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_deterministic_ops_compile_and_match_eager(name):
    got, want = _compiled_and_eager(DETERMINISTIC[name])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_ops_draw_anew_at_every_compiled_call(name):
    got, want = _compiled_and_eager(RANDOM[name], calls=6)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
    # the same input at every call: only fresh draws can make the outputs differ
    compiled = ff.function(RANDOM[name])
    same = ff.constant(_images(0))
    outputs = {compiled(same).numpy().tobytes() for _ in range(8)}
    assert len(outputs) > 1


def test_seeded_ops_repeat_their_draws_when_compiled():
    compiled = ff.function(lambda t: image.random_crop(t, (2, 4, 5, 3), seed=4))
    same = ff.constant(_images(0))
    outputs = [compiled(same).numpy() for _ in range(3)]
    eager = image.random_crop(same, (2, 4, 5, 3), seed=4).numpy()
    for out in outputs:
        np.testing.assert_array_equal(out, eager)


def test_adjust_hue_still_checks_a_python_delta():
    with pytest.raises(ValueError, match=r"delta must be in the interval \[-1, 1\]"):
        image.adjust_hue(_images(0), 1.5)
