"""Small, learnable data sets for the tutorial-style programs (NumPy only, nothing downloads).

The programs in this directory are tf.keras programs; `run_under_tensorflow.py` runs them under real TensorFlow
as well, so this module must not import featherflow either.
"""

from __future__ import annotations

import os

import numpy as np

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MNIST_SAMPLE = os.path.join(_REPO, "featherflow", "keras", "datasets", "mnist_sample.npz")

FASHION_CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def mnist_sample(n_train: int | None = None, n_test: int | None = None):
    """The 5,000 real MNIST digits bundled with featherflow, in `mnist.load_data()`'s structure (uint8)."""
    with np.load(MNIST_SAMPLE, allow_pickle=False) as f:
        x_train, y_train, x_test, y_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])


def fashion_like(n_train: int = 1200, n_test: int = 300, seed: int = 0):
    """Fashion-MNIST-shaped data: uint8 28x28 images of 10 classes, labels uint8 0-9.

    Each class is a fixed random low-frequency pattern (a 7x7 grid blown up to 28x28); an image is its class
    pattern at a random brightness, shifted by up to one pixel, with pixel noise. Classes overlap enough that a
    linear model does not reach 100 % at once, and a small MLP separates them well (> 85 %).
    """
    rng = np.random.default_rng(seed)
    templates = np.kron(rng.random((10, 7, 7)), np.ones((4, 4)))  # (10, 28, 28) in [0, 1]

    def draw(n):
        labels = rng.integers(0, 10, n)
        brightness = rng.uniform(0.5, 1.0, (n, 1, 1))
        images = templates[labels] * brightness
        shifts = rng.integers(-1, 2, (n, 2))
        for i, (dy, dx) in enumerate(shifts):
            images[i] = np.roll(images[i], (dy, dx), axis=(0, 1))
        images = images + rng.normal(0.0, 0.25, images.shape)
        return (np.clip(images, 0, 1) * 255).astype("uint8"), labels.astype("uint8")

    return draw(n_train), draw(n_test)


def auto_mpg_like(n: int = 300, seed: int = 0):
    """A pandas DataFrame with the auto-MPG data set's columns and a few missing horsepower values.

    MPG falls with horsepower and weight (a noisy but mostly monotone relation, as in the real data), and the
    origin column is categorical (1, 2, 3).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    cylinders = rng.choice([4, 6, 8], n, p=[0.5, 0.25, 0.25])
    displacement = cylinders * rng.uniform(20, 45, n)
    horsepower = 40 + displacement * 0.45 + rng.normal(0, 8, n)
    weight = 1500 + displacement * 7 + rng.normal(0, 150, n)
    acceleration = 22 - horsepower / 25 + rng.normal(0, 1, n)
    model_year = rng.integers(70, 83, n)
    origin = rng.choice([1, 2, 3], n, p=[0.6, 0.2, 0.2])
    mpg = 4000.0 / horsepower + 0.3 * (model_year - 76) - (weight - 2800) / 1500 + rng.normal(0, 1.0, n)
    frame = pd.DataFrame({
        "MPG": mpg, "Cylinders": cylinders, "Displacement": displacement, "Horsepower": horsepower,
        "Weight": weight, "Acceleration": acceleration, "Model Year": model_year, "Origin": origin,
    })
    frame.loc[rng.choice(n, 6, replace=False), "Horsepower"] = np.nan
    return frame


def two_moons(n: int = 400, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles (float32 (n, 2), labels 0/1): not linearly separable, easy for an MLP."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, np.pi, n)
    labels = rng.integers(0, 2, n)
    x = np.where(labels[:, None] == 0,
                 np.stack([np.cos(angle), np.sin(angle)], 1),
                 np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], 1))
    return (x + rng.normal(0, noise, x.shape)).astype("float32"), labels.astype("float32")


def token_sequences(n: int = 400, vocab: int = 50, max_len: int = 12, seed: int = 0):
    """Variable-length integer sequences (lists, tokens 1..vocab-1) labelled 1 when token 7 occurs in them.

    Lengths run from 2 to max_len; about half the sequences contain the token. Padding zeros are not part of the
    data: the programs pad them with `pad_sequences`.
    """
    rng = np.random.default_rng(seed)
    sequences, labels = [], []
    for _ in range(n):
        length = int(rng.integers(2, max_len + 1))
        tokens = rng.integers(1, vocab, length)
        tokens[tokens == 7] = 8
        label = int(rng.random() < 0.5)
        if label:
            tokens[rng.integers(0, length)] = 7
        sequences.append(tokens.tolist())
        labels.append(label)
    return sequences, np.array(labels, dtype="float32")
