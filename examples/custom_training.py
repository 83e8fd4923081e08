"""Custom training with ``tf.GradientTape``: the loop that ``model.fit`` runs, written out by hand.

The same MLP as the lecture, trained by a loop you can change: forward pass under a tape,
loss, gradients, ``optimizer.apply_gradients``, running metrics, and a validation pass. There is
no ``tf.data`` in featherflow: batches are NumPy slices of a shuffled index.

Run: ``python examples/custom_training.py`` (``--fast`` or ``FEATHERFLOW_EXAMPLE_FAST=1``: a tiny run for tests).
"""

import os
import sys

import numpy as np

import featherflow as tf

FAST = "--fast" in sys.argv or os.environ.get("FEATHERFLOW_EXAMPLE_FAST") == "1"

tf.keras.utils.set_random_seed(0)
(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data(sample=True)
x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
epochs, batch_size = 5, 32
if FAST:
    x_train, y_train, epochs = x_train[:512], y_train[:512], 1

model = tf.keras.Sequential([
    tf.keras.Input(shape=(28, 28)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(128, activation="relu"),
    tf.keras.layers.Dropout(0.2),
    tf.keras.layers.Dense(10),  # logits: the loss applies the softmax in its stable fused form
])
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = tf.keras.optimizers.Adam(learning_rate=1e-3)
train_loss = tf.keras.metrics.Mean(name="loss")
train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")
test_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="test_accuracy")

rng = np.random.default_rng(0)
for epoch in range(epochs):
    train_loss.reset_state()
    train_accuracy.reset_state()
    order = rng.permutation(len(x_train))
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        x, y = x_train[batch], y_train[batch]
        with tf.GradientTape() as tape:
            logits = model(x, training=True)  # training=True: Dropout is active
            loss = loss_fn(y, logits)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        train_loss.update_state(loss)
        train_accuracy.update_state(y, logits)

    test_accuracy.reset_state()
    for start in range(0, len(x_test), 256):
        test_accuracy.update_state(y_test[start:start + 256], model(x_test[start:start + 256], training=False))
    print(f"epoch {epoch + 1}/{epochs}: loss {float(train_loss.result()):.4f}, "
          f"accuracy {float(train_accuracy.result()):.4f}, test accuracy {float(test_accuracy.result()):.4f}")

# The trained model is an ordinary Keras model: compile it to use evaluate/predict/save as usual.
model.compile(optimizer=optimizer, loss=loss_fn, metrics=["accuracy"])
print("evaluate:", model.evaluate(x_test, y_test, verbose=0))
