"""A functional-API model with two inputs and a shared encoder: "are these two digits the same?".

Two images enter through two ``keras.Input``s, go through ONE encoder (shared weights), and the two
codes are compared (``Subtract`` + ``Multiply``, concatenated) by a small head that outputs the
probability that both digits have the same label. Shows multiple inputs, shared layers, merge
layers, the "Connected to" summary, and inputs passed as a list or as a dict keyed by input name.

Run: ``python examples/functional_two_inputs.py`` (``--fast`` or ``FEATHERFLOW_EXAMPLE_FAST=1``: tiny run for tests).
"""

import os
import sys

import numpy as np

from featherflow import keras

FAST = "--fast" in sys.argv or os.environ.get("FEATHERFLOW_EXAMPLE_FAST") == "1"


def make_pairs(images, labels, count, rng):
    """``count`` pairs, half of them with equal labels; returns (left, right, same)."""
    by_label = [np.flatnonzero(labels == d) for d in range(10)]
    first = rng.integers(0, len(images), count)
    same = np.arange(count) % 2 == 0
    second = np.empty(count, dtype=int)
    for i, (a, s) in enumerate(zip(first, same)):
        pool = by_label[labels[a]] if s else np.flatnonzero(labels != labels[a])
        second[i] = rng.choice(pool)
    return images[first], images[second], same.astype("float32")


keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(sample=True)
x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
n_train, n_test, epochs = (512, 256, 1) if FAST else (8000, 2000, 5)
left_train, right_train, same_train = make_pairs(x_train, y_train, n_train, rng)
left_test, right_test, same_test = make_pairs(x_test, y_test, n_test, rng)

left = keras.Input(shape=(28, 28), name="left")
right = keras.Input(shape=(28, 28), name="right")
encoder = keras.Sequential([
    keras.layers.Flatten(),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dense(32, activation="relu"),
], name="encoder")
code_left, code_right = encoder(left), encoder(right)  # the same layers, the same weights, twice
difference = keras.layers.Subtract()([code_left, code_right])
product = keras.layers.Multiply()([code_left, code_right])
features = keras.layers.Concatenate()([difference, product])
hidden = keras.layers.Dense(32, activation="relu")(features)
same = keras.layers.Dense(1, activation="sigmoid", name="same")(hidden)
model = keras.Model(inputs=[left, right], outputs=same)

model.summary()
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit([left_train, right_train], same_train, batch_size=64, epochs=epochs,
          validation_data=([left_test, right_test], same_test))

# Inputs can also be given as a dict keyed by the inputs' names.
loss, accuracy = model.evaluate({"left": left_test, "right": right_test}, same_test, verbose=0)
print(f"test accuracy (same digit or not): {accuracy:.4f}")
probability = model.predict([x_test[:1], x_test[1:2]], verbose=0)[0, 0]
print(f"labels {y_test[0]} and {y_test[1]}: P(same) = {probability:.3f}")
