"""The data forms tf.keras 2 takes: 1-D feature arrays, pandas objects, dicts of columns, Python lists.

Where tf.keras 2.21 accepts or refuses (checked with tf_keras 2.21): 1-D ``x`` conforms to an
``Input(shape=(1,))`` (and ``(N, d, 1)`` to ``Input(shape=(d,))``) in every entry point; a model without a
declared input refuses 1-D data; a DataFrame or Series is its array; a DataFrame with text columns is refused.
"""

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras

pd = pytest.importorskip("pandas")


def _one_feature_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(keras.optimizers.SGD(0.01), "mse")
    return model


def test_one_dimensional_x_is_taken_as_a_column():
    x = np.linspace(-1, 1, 10).astype("float32")
    y = 3 * x + 1
    model = _one_feature_model()
    column = x[:, None]
    expected = model.predict(column, verbose=0)
    assert model.predict(x, verbose=0).shape == (10, 1)
    np.testing.assert_array_equal(model.predict(x, verbose=0), expected)
    np.testing.assert_array_equal(model(x).numpy(), expected)
    np.testing.assert_array_equal(model.predict_on_batch(x), expected)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(column, y, verbose=0))
    twin = _one_feature_model()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    twin.fit(column, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(model.train_on_batch(x, y))


def test_trailing_axis_of_one_is_squeezed_and_sequential_needs_an_input():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    np.testing.assert_array_equal(model(x[..., None]).numpy(), model(x).numpy())
    declared = keras.Sequential([keras.layers.Dense(1, input_shape=(1,))])
    declared.compile("sgd", "mse")
    declared.fit(np.arange(4.0), np.arange(4.0), verbose=0)
    undeclared = keras.Sequential([keras.layers.Dense(1)])
    undeclared.compile("sgd", "mse")
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        undeclared.fit(np.arange(4.0), np.arange(4.0), verbose=0)


def test_pandas_frames_series_and_dicts_of_columns():
    frame = pd.DataFrame({"a": np.arange(8.0), "b": np.arange(8.0) * 2, "target": np.arange(8.0) + 1})
    features, target = frame[["a", "b"]], frame["target"]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    np.testing.assert_array_equal(model.predict(features, verbose=0), model.predict(features.to_numpy(), verbose=0))
    history = model.fit(features, target, validation_split=0.25, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "val_loss"}
    series_model = _one_feature_model()
    assert series_model.predict(frame["a"], verbose=0).shape == (8, 1)
    series_model.fit(frame["a"], target, epochs=1, verbose=0)
    a, b = keras.Input((1,), name="a"), keras.Input((1,), name="b")
    named = keras.Model({"a": a, "b": b}, keras.layers.Dense(1)(keras.layers.concatenate([a, b])))
    named.compile("sgd", "mse")
    named.fit(dict(features), target, epochs=1, verbose=0)  # a dict of Series, each a 1-D column
    named.fit({"a": list(frame["a"]), "b": list(frame["b"])}, list(target), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="expects 2 input"):
        named.fit(features, target, epochs=1, verbose=0)  # a whole frame is one input, as in tf.keras
    mixed = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]}).astype(object)
    model.fit(mixed, [1.0, 2.0], verbose=0)  # object columns holding numbers convert
    text = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    with pytest.raises(ValueError, match="Failed to convert a NumPy array to a Tensor"):
        model.fit(text, [1.0, 2.0], verbose=0)


def test_normalization_statistics_and_adapted_layers_start_a_built_model(capsys):
    data = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
    norm = keras.layers.Normalization(axis=-1)
    with pytest.raises(AttributeError, match="mean"):
        _ = norm.mean
    norm.adapt(data)
    np.testing.assert_allclose(norm.mean.numpy(), [[2.0, 20.0]])
    np.testing.assert_allclose(norm.variance.numpy(), data.var(axis=0, keepdims=True), rtol=1e-6)
    model = keras.Sequential([norm, keras.layers.Dense(1)])
    assert model.built
    model.summary()
    assert "normalization" in capsys.readouterr().out
    np.testing.assert_allclose(model.layers[0](data).numpy(), (data - data.mean(0)) / data.std(0), rtol=1e-5)
    one = keras.layers.Normalization(input_shape=[1], axis=None)
    one.adapt(np.arange(5.0))
    assert one.mean.shape == (1,) and float(one.mean.numpy()[0]) == 2.0
    fixed = keras.layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])
    fixed(np.ones((1, 2), "float32"))
    np.testing.assert_array_equal(fixed.variance.numpy(), [[1.0, 4.0]])


def test_the_basic_regression_tutorial_runs():
    """tensorflow.org's "Basic regression" with one feature, on synthetic data of the same form."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"Horsepower": rng.uniform(50, 200, 60)})
    frame["MPG"] = 40 - 0.15 * frame["Horsepower"] + rng.normal(0, 1, 60)
    horsepower = np.array(frame["Horsepower"])
    normalizer = keras.layers.Normalization(input_shape=[1], axis=None)
    normalizer.adapt(horsepower)
    model = keras.Sequential([normalizer, keras.layers.Dense(units=1)])
    model.summary(print_fn=lambda *_: None)
    assert model.predict(horsepower[:10], verbose=0).shape == (10, 1)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mean_absolute_error")
    history = model.fit(frame["Horsepower"], frame["MPG"], epochs=100, verbose=0, validation_split=0.2)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    line = model.predict(tf.linspace(0.0, 250, 251), verbose=0)
    assert line.shape == (251, 1) and line[0, 0] > line[-1, 0]
