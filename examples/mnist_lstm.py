"""An LSTM that reads each MNIST digit as a sequence of 28 rows of 28 pixels.

Input (28 timesteps, 28 features) - LSTM(64) - Dense(10, softmax). Shows recurrent layers on
ordinary NumPy data: ``(samples, timesteps, features)`` like tf.keras. About 0.9 test accuracy on
the bundled sample after 5 epochs.

Run: ``python examples/mnist_lstm.py`` (``--fast`` or ``FEATHERFLOW_EXAMPLE_FAST=1``: a tiny run for tests).
"""

import os
import sys

import featherflow as tf

FAST = "--fast" in sys.argv or os.environ.get("FEATHERFLOW_EXAMPLE_FAST") == "1"

tf.keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data(sample=True)
# Each image (28, 28) is already a sequence: 28 timesteps (rows) of 28 features (pixels).
x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
epochs = 5
if FAST:
    x_train, y_train, x_test, y_test, epochs = x_train[:256], y_train[:256], x_test[:128], y_test[:128], 1

model = tf.keras.Sequential([
    tf.keras.Input(shape=(28, 28)),
    tf.keras.layers.LSTM(64),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.summary()
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=3e-3),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=64, epochs=epochs, validation_data=(x_test, y_test))

test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy: {test_accuracy:.4f}")
