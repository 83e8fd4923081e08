"""keras.io / tensorflow.org "The Sequential model" guide.

Building a Sequential model from a list and with `add`, `model.layers`, `pop`, naming; weights created lazily on
the first call (`model.weights` empty before, `build`, the "has not yet been built" error of `summary`); `Input` and
`input_shape` giving a summary at once; a debugging workflow of add + summary; feature extraction via
`Model(inputs=model.inputs, outputs=[layer.output ...])` and `get_layer(name=...)`; transfer learning by freezing
all but the last layer.
"""

import numpy as np

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers


def test_building_and_lazy_weights():
    model = keras.Sequential([
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ])
    x = tf.ones((3, 3))
    y = model(x)
    assert y.shape == (3, 4)

    # The same as calling the layers one after another.
    layer1, layer2, layer3 = model.layers
    np.testing.assert_allclose(layer3(layer2(layer1(x))).numpy(), y.numpy(), rtol=1e-6)

    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))
    assert len(model.layers) == 3
    model.pop()
    assert len(model.layers) == 2
    model = keras.Sequential(name="my_sequential")
    assert model.name == "my_sequential"

    # Weights only exist once the input shape is known.
    layer = layers.Dense(3)
    assert layer.weights == []
    x = tf.ones((1, 4))
    layer(x)
    assert [w.shape for w in layer.weights] == [(4, 3), (3,)]

    model = keras.Sequential([layers.Dense(2, activation="relu"), layers.Dense(3, activation="relu"),
                              layers.Dense(4)])
    assert not model.built
    for attempt in [lambda: model.weights, model.summary]:
        try:
            attempt()
        except ValueError as error:
            assert "built" in str(error) or "not yet been created" in str(error)
        else:
            raise AssertionError("the weights and summary of an unbuilt Sequential model are an error")
    model(tf.ones((1, 4)))
    assert len(model.weights) == 6

    model = keras.Sequential()
    model.add(keras.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))
    lines = []
    model.summary(print_fn=lines.append)
    assert model.built and any("dense" in line and "(None, 2)" in line and "10" in line for line in lines)
    assert len(model.layers) == 1  # the Input is not a layer of the model
    model = keras.Sequential()
    model.add(layers.Dense(2, activation="relu", input_shape=(4,)))
    assert model.built and model.count_params() == 10

    model = keras.Sequential([layers.Dense(4)])
    model.build((None, 16))
    assert model.count_params() == 16 * 4 + 4


def test_debugging_workflow_with_summary():
    model = keras.Sequential()
    model.add(keras.Input(shape=(250, 250, 3)))
    model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    assert model.output_shape == (None, 40, 40, 32)
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(2))
    assert model.output_shape == (None, 4, 4, 32)
    model.add(layers.GlobalMaxPooling2D())
    model.add(layers.Dense(10))
    assert model.output_shape == (None, 10)
    # 32*(5*5*3)+32, five 3x3 32->32 convolutions, and the Dense.
    assert model.count_params() == (5 * 5 * 3 * 32 + 32) + 5 * (9 * 32 * 32 + 32) + (32 * 10 + 10)


def test_feature_extraction_and_transfer_learning():
    tf.keras.utils.set_random_seed(0)
    initial_model = keras.Sequential([
        keras.Input(shape=(12, 12, 3)),
        layers.Conv2D(8, 3, strides=2, activation="relu"),
        layers.Conv2D(8, 3, activation="relu", name="my_intermediate_layer"),
        layers.Conv2D(8, 3, activation="relu"),
    ])
    feature_extractor = keras.Model(inputs=initial_model.inputs,
                                    outputs=[layer.output for layer in initial_model.layers])
    x = tf.ones((1, 12, 12, 3))
    features = feature_extractor(x)
    assert [f.shape for f in features] == [(1, 5, 5, 8), (1, 3, 3, 8), (1, 1, 1, 8)]
    np.testing.assert_allclose(features[-1].numpy(), initial_model(x).numpy(), rtol=1e-6)

    one_layer = keras.Model(inputs=initial_model.inputs,
                            outputs=initial_model.get_layer(name="my_intermediate_layer").output)
    np.testing.assert_allclose(one_layer(x).numpy(), features[1].numpy(), rtol=1e-6)

    # Freeze all layers except the last; fit only changes the last layer.
    model = keras.Sequential([
        keras.Input(shape=(8,)),
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(1),
    ])
    for layer in model.layers[:-1]:
        layer.trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 4
    frozen_before = [w.numpy().copy() for w in model.non_trainable_weights]
    last_before = model.layers[-1].kernel.numpy().copy()
    rng = np.random.default_rng(0)
    features_x = rng.normal(size=(64, 8)).astype("float32")
    labels = features_x.sum(axis=1, keepdims=True)
    model.compile(optimizer="adam", loss="mse")
    model.fit(features_x, labels, epochs=2, verbose=0)
    for before, weight in zip(frozen_before, model.non_trainable_weights):
        np.testing.assert_array_equal(before, weight.numpy())
    assert not np.array_equal(last_before, model.layers[-1].kernel.numpy())
