import numpy as np
import pytest
from layer_helpers import layer_test
from tf_fixtures import check_against_tf

from featherflow import keras
from featherflow.keras import layers

CASES = {
    "einsum_ab_bc": ("ab,bc->ac", 4, "c", None),
    "einsum_proj": ("abc,cde->abde", (None, 2, 3), "de", None),
    "einsum_out": ("abcd,cde->abe", (None, 6), "e", "relu"),
    "einsum_partial_bias": ("abc,cd->abd", (4, 3), "b", None),
    "einsum_left_ellipsis": ("...b,bc->...c", 3, "c", "tanh"),
    "einsum_right_ellipsis": ("ab...,bc->ac...", 3, "c", None),
    "einsum_middle": ("abc,bd->adc", (3, 5), None, None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_tf_keras(name):
    equation, output_shape, bias_axes, activation = CASES[name]
    layer = layers.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes, activation=activation)
    check_against_tf(layer, name, lambda m, x: m(x[0]))


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_helper(name):
    equation, output_shape, bias_axes, activation = CASES[name]
    shapes = {"einsum_ab_bc": (3, 5), "einsum_proj": (2, 4, 5), "einsum_out": (2, 4, 2, 3),
              "einsum_partial_bias": (2, 4, 5), "einsum_left_ellipsis": (2, 3, 4),
              "einsum_right_ellipsis": (2, 5, 4), "einsum_middle": (2, 4, 5)}
    layer_test(layers.EinsumDense, dict(equation=equation, output_shape=output_shape, bias_axes=bias_axes,
                                        activation=activation), input_shape=shapes[name],
               expected_num_trainable_weights=1 if bias_axes is None else 2)


def test_kernel_and_bias_shapes_and_fused_path():
    layer = layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")
    layer(np.ones((1, 4, 5), "float32"))
    assert layer.kernel.shape == (5, 2, 3) and layer.bias.shape == (2, 3)
    assert layer._plan == (1, (2, 3))  # a plain product over the last axis: one fused dense op
    middle = layers.EinsumDense("abc,bd->adc", output_shape=(3, 5))
    middle(np.ones((2, 4, 5), "float32"))
    assert middle._plan is None and middle.kernel.shape == (4, 3)
    partial = layers.EinsumDense("abc,cd->abd", output_shape=(4, 3), bias_axes="b")
    partial(np.ones((2, 4, 5), "float32"))
    assert partial._plan is None and partial.bias.shape == (4, 1)


def test_config_matches_tf_keras_and_round_trips():
    layer = layers.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c", activation="relu")
    config = layer.get_config()
    assert config["output_shape"] == [4] and config["equation"] == "ab,bc->ac" and config["bias_axes"] == "c"
    assert config["activation"] == "relu"
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.EinsumDense("ab,bc->ac", output_shape=2)(inputs))
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(clone(x).numpy(), model(x).numpy())


def test_bad_equations():
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        layers.EinsumDense("ab->b", output_shape=2)
    with pytest.raises(ValueError, match="did not have a match"):
        layers.EinsumDense("ab,bz->ab", output_shape=3)(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match="Bias dimension"):
        layers.EinsumDense("ab,bc->ac", output_shape=2, bias_axes="x")(np.ones((1, 3), "float32"))
    with pytest.raises(TypeError, match="equation"):
        layers.EinsumDense(None, output_shape=2)
