"""keras.io / tensorflow.org "Transfer learning & fine-tuning" guide.

`trainable = False` and the weights lists it moves (`weights`, `trainable_weights`, `non_trainable_weights`),
recursive freezing of a nested model, BatchNormalization's two kinds of state; a pretrained base (trained here on
digits 0-4) reused for digits 5-9 with `base_model(inputs, training=False)` so its BatchNormalization stays in
inference mode; training only the new head, then fine-tuning everything with a low learning rate after
re-compiling; the base's moving statistics untouched throughout.
"""

import numpy as np
from program_data import mnist_sample

import featherflow as tf
from featherflow import keras


def test_freezing_layers_and_weights_lists():
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    assert len(layer.weights) == 2 and len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 0

    layer = keras.layers.BatchNormalization()
    layer.build((None, 4))
    assert len(layer.weights) == 4 and len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2

    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    layer.trainable = False
    assert len(layer.weights) == 2 and len(layer.trainable_weights) == 0 and len(layer.non_trainable_weights) == 2

    # A frozen layer does not move during fit.
    layer1 = keras.layers.Dense(3, activation="relu")
    layer2 = keras.layers.Dense(3, activation="sigmoid")
    model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])
    layer1.trainable = False
    initial_layer1_weights_values = layer1.get_weights()
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.random.random((2, 3)), np.random.random((2, 3)), verbose=0)
    for before, after in zip(initial_layer1_weights_values, layer1.get_weights()):
        np.testing.assert_array_equal(before, after)

    # trainable is recursive: freezing the inner model freezes its layers.
    inner_model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(3, activation="relu"),
                                    keras.layers.Dense(3, activation="relu")])
    model = keras.Sequential([keras.Input(shape=(3,)), inner_model, keras.layers.Dense(3, activation="sigmoid")])
    model.trainable = False
    assert inner_model.trainable is False and inner_model.layers[0].trainable is False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 6


def make_base(inputs_shape=(28, 28, 1)):
    inputs = keras.Input(shape=inputs_shape)
    x = keras.layers.Conv2D(8, 3, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(32, 3, use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, x, name="base")


def test_pretrained_base_frozen_then_fine_tuned():
    tf.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = mnist_sample(2000, 600)
    x_train = (x_train[..., None] / 255.0).astype("float32")
    x_test = (x_test[..., None] / 255.0).astype("float32")
    first, second = y_train < 5, y_train >= 5

    # "Pre-train" the base on digits 0-4.
    base_model = make_base()
    pretrain = keras.Sequential([base_model, keras.layers.Dense(5)])
    pretrain.compile(optimizer=keras.optimizers.Adam(3e-3),
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    pretrain.fit(x_train[first][:1000], y_train[first][:1000], epochs=4, batch_size=32, verbose=0)

    # Reuse it, frozen, for digits 5-9.
    base_model.trainable = False
    bn = [layer for layer in base_model.layers if isinstance(layer, keras.layers.BatchNormalization)][0]
    moving_mean = bn.moving_mean.numpy().copy()
    frozen = [w.numpy().copy() for w in base_model.weights]
    inputs = keras.Input(shape=(28, 28, 1))
    x = base_model(inputs, training=False)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(5)(x)
    model = keras.Model(inputs, outputs)
    assert len(model.trainable_weights) == 2  # only the new head
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    x_new, y_new = x_train[second][:600], y_train[second][:600] - 5
    test_new = y_test >= 5
    model.fit(x_new, y_new, epochs=4, batch_size=32, verbose=0)
    for before, weight in zip(frozen, base_model.weights):
        np.testing.assert_array_equal(before, weight.numpy())
    _, head_accuracy = model.evaluate(x_test[test_new], y_test[test_new] - 5, verbose=0)
    # Features learned on other digits transfer: well above the 20 % of chance for five classes.
    assert head_accuracy > 0.35, head_accuracy

    # Fine-tune: unfreeze, re-compile with a low learning rate; BatchNormalization stays in inference mode.
    base_model.trainable = True
    assert len(model.trainable_weights) == len(base_model.trainable_weights) + 2
    model.compile(optimizer=keras.optimizers.Adam(1e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x_new, y_new, epochs=2, batch_size=32, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving_mean)
    assert not np.array_equal(frozen[0], base_model.weights[0].numpy())
    _, tuned_accuracy = model.evaluate(x_test[test_new], y_test[test_new] - 5, verbose=0)
    assert tuned_accuracy > head_accuracy - 0.05, (head_accuracy, tuned_accuracy)
