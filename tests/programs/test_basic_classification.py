"""tensorflow.org "Basic classification: Classify images of clothing", on Fashion-MNIST-shaped data.

A Flatten -> Dense(relu) -> Dense(logits) Sequential model trained with `SparseCategoricalCrossentropy(from_logits=
True)`, evaluated, then wrapped with a `Softmax` layer into a probability model used for `predict` on a batch and
on a single image (`np.expand_dims`).
"""

import numpy as np
from program_data import FASHION_CLASS_NAMES, fashion_like

import featherflow as tf


def test_classify_clothing_images():
    tf.keras.utils.set_random_seed(0)
    (train_images, train_labels), (test_images, test_labels) = fashion_like(n_train=1500, n_test=400)
    assert train_images.shape == (1500, 28, 28) and len(FASHION_CLASS_NAMES) == 10

    train_images = train_images / 255.0
    test_images = test_images / 255.0

    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(10),
    ])
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(train_images, train_labels, epochs=6, verbose=0)

    losses = history.history["loss"]
    assert history.epoch == list(range(6)) and set(history.history) == {"loss", "accuracy"}
    assert losses[-1] < 0.5 * losses[0]

    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)
    # 10 separable class patterns under noise: chance is 10 %, a trained MLP gets well above 85 %.
    assert test_acc > 0.85, test_acc
    assert isinstance(test_loss, float) and isinstance(test_acc, float)

    probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
    predictions = probability_model.predict(test_images, verbose=0)
    assert predictions.shape == (400, 10) and predictions.dtype == np.float32
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)

    # The probability model's argmax is the logits' argmax, and its accuracy is evaluate's accuracy.
    logits = model.predict(test_images, verbose=0)
    np.testing.assert_array_equal(np.argmax(predictions, axis=1), np.argmax(logits, axis=1))
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(predictions, exp / exp.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
    assert abs(np.mean(np.argmax(predictions, axis=1) == test_labels) - test_acc) < 1e-6

    # One image: add the batch dimension, predict, read the class name.
    img = np.expand_dims(test_images[1], 0)
    assert img.shape == (1, 28, 28)
    predictions_single = probability_model.predict(img, verbose=0)
    assert predictions_single.shape == (1, 10)
    np.testing.assert_allclose(predictions_single[0], predictions[1], rtol=1e-5, atol=1e-6)
    assert FASHION_CLASS_NAMES[int(np.argmax(predictions_single[0]))] in FASHION_CLASS_NAMES
