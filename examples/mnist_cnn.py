"""A small convolutional network on the bundled MNIST sample.

Conv2D(32, 3x3) - MaxPooling - Conv2D(64, 3x3) - MaxPooling - Flatten - Dropout - Dense(10, softmax),
the classic Keras MNIST CNN, trained with Adam. Reaches about 0.95 test accuracy on the
4,000/1,000-digit sample in 3 epochs.

Run: ``python examples/mnist_cnn.py`` (``--fast`` or ``FEATHERFLOW_EXAMPLE_FAST=1``: a tiny run for tests).
"""

import os
import sys

import numpy as np

import featherflow as tf

FAST = "--fast" in sys.argv or os.environ.get("FEATHERFLOW_EXAMPLE_FAST") == "1"

tf.keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data(sample=True)
# Conv2D wants a channels axis: (samples, 28, 28) -> (samples, 28, 28, 1), scaled to [0, 1].
x_train = x_train[..., np.newaxis].astype("float32") / 255.0
x_test = x_test[..., np.newaxis].astype("float32") / 255.0
epochs = 3
if FAST:
    x_train, y_train, x_test, y_test, epochs = x_train[:256], y_train[:256], x_test[:128], y_test[:128], 1

model = tf.keras.Sequential([
    tf.keras.Input(shape=(28, 28, 1)),
    tf.keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
    tf.keras.layers.MaxPooling2D(pool_size=(2, 2)),
    tf.keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
    tf.keras.layers.MaxPooling2D(pool_size=(2, 2)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dropout(0.5),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.summary()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=128, epochs=epochs, validation_split=0.1)

test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.4f}")
