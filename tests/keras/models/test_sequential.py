"""Sequential: add/pop, input shapes, deferred build, weights, legacy predict helpers, config."""

import warnings

import numpy as np
import pytest

import featherflow as ff
from featherflow import keras


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def numpy_mlp(x, weights):
    w1, b1, w2, b2 = weights
    return np.maximum(x @ w1 + b1, 0) @ w2 + b2


def test_namespaces():
    assert keras.Sequential is keras.models.Sequential is ff.keras.models.Sequential
    assert keras.Model is keras.models.Model
    import featherflow.keras as k2

    assert k2.Input is keras.layers.Input
    for name in ("layers", "models", "losses", "metrics", "optimizers", "activations", "initializers",
                 "regularizers", "constraints", "callbacks", "datasets", "utils", "backend"):
        assert hasattr(keras, name), name


def test_input_shape_on_first_layer_builds_the_graph():
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,), activation="relu"), keras.layers.Dense(2)])
    assert model.built and model.output_shape == (None, 2) and model.input_shape == (None, 3)
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert model.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    x = np.random.default_rng(0).normal(size=(5, 3))
    expected = numpy_mlp(x, [w.astype(np.float64) for w in model.get_weights()])
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_add_input_and_inputlayer():
    model = keras.Sequential()
    model.add(keras.Input(shape=(6,)))
    model.add(keras.layers.Dense(3))
    assert model.output_shape == (None, 3) and len(model.layers) == 1
    model2 = keras.Sequential([keras.layers.InputLayer(input_shape=(6,)), keras.layers.Dense(2)])
    assert model2.output_shape == (None, 2) and [type(la).__name__ for la in model2.layers] == ["Dense"]


def test_deferred_build_on_first_data():
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(1)])
    assert not model.built
    with pytest.raises(ValueError, match="has not yet been built"):
        model.summary()
    with pytest.raises(ValueError, match="isn't built"):
        model.count_params()
    out = model(np.ones((2, 7)))
    assert out.shape == (2, 1) and model.built
    assert model.input_shape == (None, 7) and model.layers[0].kernel.shape == (7, 4)
    assert model.count_params() == 7 * 4 + 4 + 5


def test_build_with_shape_and_fit_builds_too():
    model = keras.Sequential([keras.layers.Dense(2)])
    model.build((None, 5))
    assert model.output_shape == (None, 2) and model.count_params() == 12
    model2 = keras.Sequential([keras.layers.Dense(2)])
    model2.compile(optimizer="sgd", loss="mse")
    model2.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    assert model2.built and model2.layers[0].kernel.shape == (3, 2)


def test_pop():
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,)), keras.layers.Dense(2)])
    model.pop()
    assert model.output_shape == (None, 4) and len(model.layers) == 1
    assert model(np.ones((1, 3))).shape == (1, 4)
    model.pop()
    assert model.layers == [] and not model.built
    with pytest.raises(TypeError, match="no layers"):
        model.pop()


def test_add_errors():
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,), name="same")])
    with pytest.raises(ValueError, match="unique names"):
        model.add(keras.layers.Dense(2, name="same"))
    with pytest.raises(TypeError, match="instance of class Layer"):
        model.add("dense")
    with pytest.raises(ValueError, match="only be the first layer"):
        model.add(keras.layers.InputLayer(input_shape=(2,)))
    built_elsewhere = keras.layers.Dense(1, name="built_elsewhere")
    built_elsewhere.build((None, 5))
    with pytest.raises(ValueError, match='layer "built_elsewhere" .* expected axis -1 of input shape to have value 5'):
        model.add(built_elsewhere)
    assert len(model.layers) == 1 and model.output_shape == (None, 2)


def test_incompatible_data_names_the_model_or_layer():
    model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r'Input 0 of layer "sequential" is incompatible .*expected shape=\(None, 28, '
                                         r'28\), found shape=\(2, 10, 10\)'):
        model.predict(np.ones((2, 10, 10)), verbose=0)
    deferred = keras.Sequential([keras.layers.Dense(128), keras.layers.Dense(2, name="dense_out")])
    deferred.build((None, 8))
    functional_in = keras.Input(shape=(64,))
    with pytest.raises(ValueError, match=r'Input 0 of layer "dense_out" is incompatible with the layer: expected axis -1 '
                                         r'of input shape to have value 128, but received input with shape \(None, 64\)'):
        deferred.layers[1](functional_in)


def test_get_layer():
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,), name="a"), keras.layers.Dense(1, name="b")])
    assert model.get_layer("b") is model.layers[1]
    assert model.get_layer(index=0) is model.layers[0]
    with pytest.raises(ValueError, match="No such layer: c"):
        model.get_layer("c")
    with pytest.raises(ValueError, match="only has 2 layers"):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match="Provide either"):
        model.get_layer()


def test_get_and_set_weights():
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), keras.layers.Dense(1)])
    weights = [np.full(w.shape, i + 1.0, np.float32) for i, w in enumerate(model.get_weights())]
    model.set_weights(weights)
    x = np.ones((1, 3))
    expected = numpy_mlp(x, weights)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected)
    got = model.get_weights()
    got[0][...] = 0  # copies: editing them does not change the model
    np.testing.assert_allclose(model.predict(x, verbose=0), expected)
    with pytest.raises(ValueError, match="expecting 4 weights"):
        model.set_weights(weights[:2])
    with pytest.raises(ValueError, match="not compatible"):
        model.set_weights([np.zeros((4, 2))] + weights[1:])


def test_weights_in_keras_layer_order_with_non_trainable():
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), keras.layers.BatchNormalization(),
                              keras.layers.Dense(1)])
    names = [w.name for w in model.weights]
    assert names == ["dense/kernel", "dense/bias", "batch_normalization/gamma", "batch_normalization/beta",
                     "batch_normalization/moving_mean", "batch_normalization/moving_variance", "dense_1/kernel",
                     "dense_1/bias"]
    assert len(model.trainable_weights) == 6 and len(model.non_trainable_weights) == 2
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 4


def test_predict_classes_and_proba_are_deprecated_with_their_old_semantics():
    softmax = keras.Sequential([keras.layers.Dense(3, input_shape=(2,), activation="softmax")])
    x = np.random.default_rng(1).normal(size=(6, 2))
    with pytest.warns(DeprecationWarning, match=r"np\.argmax\(model\.predict\(x\), axis=-1\)"):
        classes = softmax.predict_classes(x)
    np.testing.assert_array_equal(classes, softmax.predict(x, verbose=0).argmax(axis=-1))
    sigmoid = keras.Sequential([keras.layers.Dense(1, input_shape=(2,), activation="sigmoid")])
    with pytest.warns(DeprecationWarning, match="predict_classes"):
        classes = sigmoid.predict_classes(x)
    probs = sigmoid.predict(x, verbose=0)
    np.testing.assert_array_equal(classes, (probs > 0.5).astype("int32"))
    assert classes.dtype == np.int32 and classes.shape == (6, 1)
    with pytest.warns(DeprecationWarning, match=r"model\.predict\(\)"):
        np.testing.assert_array_equal(sigmoid.predict_proba(x), probs)
    linear = keras.Sequential([keras.layers.Dense(1, input_shape=(2,), kernel_initializer="ones")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        linear.predict_proba(np.full((1, 2), 5.0))
    assert any("invalid probability values" in str(w.message) for w in caught)


def test_config_round_trip():
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,), activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(2)], name="seq")
    config = model.get_config()
    assert config["name"] == "seq" and [e["class_name"] for e in config["layers"]] == [
        "InputLayer", "Dense", "Dropout", "Dense"]
    clone = keras.Sequential.from_config(config)
    assert clone.output_shape == (None, 2) and clone.count_params() == model.count_params()
    assert [type(la).__name__ for la in clone.layers] == ["Dense", "Dropout", "Dense"]


def test_nested_sequential_takes_the_inner_input_shape():
    inner = keras.Sequential([keras.layers.Dense(4, input_shape=(3,))], name="inner")
    outer = keras.Sequential([inner, keras.layers.Dense(1)])
    assert outer.output_shape == (None, 1) and outer.count_params() == 16 + 5
    x = np.ones((2, 3))
    w = outer.get_weights()
    np.testing.assert_allclose(outer.predict(x, verbose=0), (x @ w[0] + w[1]) @ w[2] + w[3], rtol=1e-5)


def test_weights_of_an_unbuilt_sequential_model_are_an_error():
    """As in tf.keras: a Sequential model without an input shape has no weights yet, and asking for them says so
    (a subclassed Model that does not define `build` lists what it has instead)."""
    model = keras.Sequential([keras.layers.Dense(2), keras.layers.Dense(3)], name="lazy")
    for attribute in ["weights", "trainable_weights", "non_trainable_weights", "variables"]:
        with pytest.raises(ValueError, match="Weights for model 'lazy' have not yet been created"):
            getattr(model, attribute)
    with pytest.raises(ValueError, match="have not yet been created"):
        model.get_weights()
    model.build((None, 4))
    assert [tuple(w.shape) for w in model.weights] == [(4, 2), (2,), (2, 3), (3,)]

    class Plain(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    assert Plain().weights == []

    class WithBuild(Plain):
        def build(self, input_shape):
            super().build(input_shape)

    with pytest.raises(ValueError, match="have not yet been created"):
        _ = WithBuild().trainable_weights
