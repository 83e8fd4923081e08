"""``keras.datasets``: tf.keras's data set loaders (downloaded into Keras's cache, verified)."""

from featherflow.keras.datasets import mnist
