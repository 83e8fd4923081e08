"""Second derivatives through the fused kernels of the Keras layers (ops/kernel_gradients.py): convolutions,
pooling, normalizations, embeddings; finite differences of the tape's gradient, and a WGAN-GP gradient
penalty through a Keras CNN critic."""

import numpy as np
import pytest
from gradcheck import check_second_order, check_variable_gradients, random_array

import featherflow as ff
from featherflow import keras


@pytest.mark.parametrize("padding,strides,dilations", [("VALID", 1, 1), ("SAME", 2, 1), ("SAME", 1, 2)])
def test_conv2d_second_order(padding, strides, dilations):
    check_second_order(lambda x, w: ff.nn.conv2d(x, w, strides, padding, dilations=dilations) ** 2,
                       [random_array((2, 5, 5, 2), seed=1), random_array((3, 3, 2, 3), seed=2)])


@pytest.mark.parametrize("padding,strides", [("VALID", 1), ("SAME", 2)])
def test_depthwise_conv2d_second_order(padding, strides):
    check_second_order(lambda x, w: ff.nn.depthwise_conv2d(x, w, [1, strides, strides, 1], padding) ** 2,
                       [random_array((1, 5, 5, 2), seed=21), random_array((3, 3, 2, 2), seed=22)])


@pytest.mark.parametrize("padding,strides,out", [("VALID", 1, 6), ("SAME", 2, 8), ("VALID", 2, 9)])
def test_conv2d_transpose_second_order(padding, strides, out):
    check_second_order(lambda x, w: ff.nn.conv2d_transpose(x, w, [1, out, out, 2], strides, padding) ** 2,
                       [random_array((1, 4, 4, 3), seed=23), random_array((3, 3, 2, 3), seed=24)])


def test_keras_layers_with_fused_bias_and_activation_second_order():
    ff.set_floatx("float64")
    try:
        keras.utils.set_random_seed(4)
        layers = [keras.layers.Conv2D(2, 3, padding="same", activation="sigmoid"),
                  keras.layers.DepthwiseConv2D(2, activation="tanh"),
                  keras.layers.Conv2DTranspose(2, 2, strides=2, activation="relu")]
        for layer in layers:
            layer.build((1, 4, 4, 2))
            check_second_order(lambda x, layer=layer: layer(x) ** 2, [random_array((1, 4, 4, 2), seed=25)])
    finally:
        ff.set_floatx("float32")


@pytest.mark.parametrize("layer", ["batch", "layer", "layer_no_center"])
def test_normalization_layers_second_order(layer):
    ff.set_floatx("float64")
    try:
        keras.utils.set_random_seed(5)
        norm = {"batch": lambda: keras.layers.BatchNormalization(),
                "layer": lambda: keras.layers.LayerNormalization(),
                "layer_no_center": lambda: keras.layers.LayerNormalization(center=False, axis=[1, 2])}[layer]()
        norm.build((4, 3, 2))
        norm.set_weights([w + np.random.default_rng(6).uniform(0.1, 0.5, w.shape) for w in norm.get_weights()])
        check_second_order(lambda x: ff.tanh(norm(x, training=True)) * x, [random_array((4, 3, 2), seed=26)])
    finally:
        ff.set_floatx("float32")


def test_embedding_second_order_through_the_table():
    ff.set_floatx("float64")
    try:
        embed = keras.layers.Embedding(5, 3)
        embed.build((None, 4))
        ids = ff.constant([[1, 2, 2, 4]])
        with ff.GradientTape() as outer:
            with ff.GradientTape() as inner:
                y = ff.reduce_sum(embed(ids) ** 3)
            g = inner.gradient(y, embed.embeddings)
            total = ff.reduce_sum(ff.convert_to_tensor(g) ** 2)
        second = outer.gradient(total, embed.embeddings).numpy()
        table = embed.embeddings.numpy()
        counts = np.bincount([1, 2, 2, 4], minlength=5)[:, None]
        # g = 3 c t^2 per row (c = how often the row is looked up); d sum(g^2)/dt = 36 c^2 t^3
        np.testing.assert_allclose(second, 36 * counts ** 2 * table ** 3, rtol=1e-10)
    finally:
        ff.set_floatx("float32")


def test_conv1d_second_order():
    check_second_order(lambda x, w: ff.tanh(ff.nn.conv1d(x, w, 2, "SAME")),
                       [random_array((2, 7, 2), seed=3), random_array((3, 2, 2), seed=4)])


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("ksize,strides,padding,shape", [
    (2, 2, "VALID", (2, 4, 4, 3)),   # tiled windows (the compiled 2x2 kernel when numba is present)
    (3, 3, "VALID", (1, 6, 6, 2)),   # tiled, larger windows
    (3, 2, "SAME", (1, 5, 5, 2)),    # overlapping, padded
    (2, 1, "VALID", (1, 4, 4, 1)),   # overlapping, unpadded
])
def test_pooling_second_order(kind, ksize, strides, padding, shape):
    pool = ff.nn.max_pool2d if kind == "max" else ff.nn.avg_pool2d
    # distinct values keep every maximum away from ties, where max pooling is not differentiable
    x = np.random.default_rng(5).permutation(np.prod(shape)).reshape(shape) / np.prod(shape) - 0.5
    check_second_order(lambda a: pool(ff.tanh(a), ksize, strides, padding) ** 2, [x])


def test_compiled_max_pool_second_order():
    from featherflow.ops import _kernels

    if not _kernels.available():
        pytest.skip("numba is not installed (the compiled 2x2 max-pooling kernel)")
    _kernels.use_kernels(True)
    try:
        x = np.random.default_rng(6).permutation(96).reshape(2, 4, 4, 3) / 96.0 - 0.5
        check_second_order(lambda a: ff.nn.max_pool2d(ff.tanh(a), 2, 2, "VALID") ** 2, [x])
    finally:
        _kernels.use_kernels(None)


def test_max_pool_second_order_routes_ties_like_the_first_order_gradient():
    x = ff.constant(np.zeros((1, 2, 2, 1)))  # every entry ties: the first maximum takes the gradient
    with ff.GradientTape() as outer:
        outer.watch(x)
        with ff.GradientTape() as inner:
            inner.watch(x)
            y = ff.reduce_sum(ff.nn.max_pool2d(x + 1.0, 2, 2, "VALID") ** 2)
        g = inner.gradient(y, x)
        total = ff.reduce_sum(g)
    np.testing.assert_allclose(g.numpy().ravel(), [2.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(outer.gradient(total, x).numpy().ravel(), [2.0, 0.0, 0.0, 0.0])


def test_wgan_gp_through_a_keras_cnn_critic_matches_finite_differences():
    ff.set_floatx("float64")
    try:
        keras.utils.set_random_seed(3)
        critic = keras.Sequential([
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(3, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(2, 2, strides=1, activation="tanh"),
            keras.layers.AveragePooling2D(2, padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ])
        x_hat = ff.constant(random_array((3, 6, 6, 1), seed=9))

        def penalty():
            with ff.GradientTape() as inner:
                inner.watch(x_hat)
                scores = critic(x_hat)
            g = inner.gradient(scores, x_hat)
            norms = ff.sqrt(ff.reduce_sum(g * g, axis=[1, 2, 3]) + 1e-12)
            return ff.reduce_mean((norms - 1.0) ** 2)

        with ff.GradientTape() as outer:
            gp = penalty()
        variables = critic.trainable_variables
        grads = outer.gradient(gp, variables)
        # every variable but the last bias (the input gradient does not depend on it) has a gradient
        assert sum(g is not None for g in grads) == len(variables) - 1
        check_variable_gradients(penalty, variables, grads, seed=11)
    finally:
        ff.set_floatx("float32")
