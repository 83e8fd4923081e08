"""``featherflow.keras``: the ``tf.keras`` surface (re-exports only)."""

from featherflow.keras import activations, backend, constraints, initializers, layers, regularizers
from featherflow.keras.layers import Input
