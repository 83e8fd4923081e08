"""Masking, Lambda, Embedding."""

import sys

import numpy as np
import pytest
from layer_helpers import layer_test

import featherflow as ff
from featherflow import keras
from featherflow.keras import layers


def test_masking():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]], [[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]]], "float32")
    out = layers.Masking()(x)
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(out.numpy(), x)
    x2 = x.copy()
    x2[0, 1] = [-1.0, -1.0]
    out2 = layers.Masking(mask_value=-1.0)(x2)
    np.testing.assert_array_equal(out2._keras_mask.numpy(), [[True, False, True], [True, True, True]])
    np.testing.assert_array_equal(out2.numpy()[0, 1], [0.0, 0.0])
    layer_test(layers.Masking, {"mask_value": 0.5}, input_shape=(2, 3, 4), expected_output_shape=(None, 3, 4),
               supports_masking=True)


def square_plus(x, offset=0.0):
    return ff.square(x) + offset


def test_lambda_named_function_round_trip():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3)).astype("float32")
    layer_test(layers.Lambda, {"function": square_plus, "arguments": {"offset": 1.0}}, input_data=x,
               expected_output=x.astype("float64") ** 2 + 1, expected_output_shape=(None, 3))
    config = layers.Lambda(square_plus).get_config()
    assert config["function"] == "square_plus" and config["module"] == __name__
    assert config["function_type"] == "function"


def test_lambda_output_shape_and_mask():
    layer = layers.Lambda(lambda x: ff.concat([x, x], axis=-1), output_shape=(6,))
    assert layer.compute_output_shape((None, 3)) == (None, 6)
    assert layer(keras.Input(shape=(3,))).shape == (None, 6)
    fn_shape = layers.Lambda(lambda x: x[:, :1], output_shape=lambda s: (s[0], 1))
    assert fn_shape.compute_output_shape((None, 3)) == (None, 1)
    masked = layers.Lambda(lambda x: x, mask=lambda inputs, mask: ff.constant(np.array([True, False])))
    assert masked([[1.0], [2.0]])._keras_mask.numpy().tolist() == [True, False]


def test_lambda_training_and_mask_arguments():
    def fn(x, training=None):
        return x * 2.0 if training else x

    layer = layers.Lambda(fn)
    assert layer([[1.0]], training=True).numpy().item() == 2.0
    assert layer([[1.0]]).numpy().item() == 1.0


def test_lambda_refuses_to_rebuild_a_lambda():
    config = layers.Lambda(lambda x: x * 2).get_config()
    assert config["function_type"] == "lambda"
    with pytest.raises(ValueError, match="lambda"):
        layers.Lambda.from_config(config)
    restored = layers.Lambda.from_config(dict(config, function="double", function_type="function"),
                                         custom_objects={"double": lambda x: x * 2})
    assert restored([[2.0]]).numpy().item() == 4.0


def test_lambda_unknown_function():
    config = layers.Lambda(square_plus).get_config()
    config["function"] = "no_such_function"
    with pytest.raises(ValueError, match="Unknown function"):
        layers.Lambda.from_config(config)
    config = layers.Lambda(square_plus).get_config()
    config["module"] = "not_imported_module_xyz"
    with pytest.raises(ValueError, match="Unknown function"):
        layers.Lambda.from_config(config)
    assert "not_imported_module_xyz" not in sys.modules


def test_embedding_values_and_gradient():
    ids = np.array([[1, 2, 1], [0, 3, 3]])
    out = layer_test(layers.Embedding, {"input_dim": 5, "output_dim": 3}, input_data=ids,
                     expected_output_shape=(None, 3, 3), expected_num_trainable_weights=1)
    layer = layers.Embedding(5, 3)
    table = np.arange(15, dtype="float32").reshape(5, 3)
    layer(ids)
    layer.set_weights([table])
    np.testing.assert_array_equal(layer(ids).numpy(), table[ids])
    with ff.GradientTape() as tape:
        y = ff.reduce_sum(layer(ids) * ff.constant(np.ones((2, 3, 3), "float32")))
    grad = tape.gradient(y, layer.embeddings).numpy()
    counts = np.bincount(ids.ravel(), minlength=5)
    np.testing.assert_array_equal(grad, np.repeat(counts[:, None], 3, axis=1))
    assert out.shape == (2, 3, 3)


def test_embedding_defaults_and_config():
    layer = layers.Embedding(1000, 8)
    layer.build((None, 5))
    weights = layer.get_weights()[0]
    assert weights.shape == (1000, 8) and weights.dtype == np.float32
    assert np.abs(weights).max() <= 0.05 and np.abs(weights).max() > 0.04
    config = layer.get_config()
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert config["input_dim"] == 1000 and config["output_dim"] == 8 and config["mask_zero"] is False
    assert layers.Embedding(10, 4, input_length=7).compute_output_shape((None, 7)) == (None, 7, 4)
    seq = keras.Input(shape=(6,), dtype="int32")
    assert layers.Embedding(10, 4)(seq).shape == (None, 6, 4)


def test_embedding_mask_zero():
    ids = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    out = layers.Embedding(5, 2, mask_zero=True)(ids)
    np.testing.assert_array_equal(out._keras_mask.numpy(), ids != 0)
    pooled = layers.GlobalAveragePooling1D()(out)
    np.testing.assert_allclose(pooled.numpy()[1], out.numpy()[1, 0], rtol=1e-6)


def test_embedding_errors():
    with pytest.raises(ValueError, match="should be positive"):
        layers.Embedding(0, 3)
    with pytest.raises(ValueError, match=r"indices\[1, 0\] = 7 is not in \[0, 5\)"):
        layers.Embedding(5, 2)(np.array([[1, 2], [7, 0]]))
    with pytest.raises(ValueError, match="is not in"):
        layers.Embedding(5, 2)(np.array([[-1]]))
    # float ids are cast to integers, as in Keras
    np.testing.assert_array_equal(layers.Embedding(5, 2, embeddings_initializer="ones")(
        np.array([[1.0, 2.0]])).numpy(), np.ones((1, 2, 2)))
