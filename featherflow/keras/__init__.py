"""``featherflow.keras``: the ``tf.keras`` surface (re-exports only).

>>> import featherflow as tf
>>> tf.keras.models.Sequential is tf.keras.Sequential
True
"""

from featherflow.keras import (
    activations,
    backend,
    callbacks,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    optimizers,
    preprocessing,
    regularizers,
    saving,
    utils,
    wrappers,
)
from featherflow.keras.layers import Input
from featherflow.keras.models import Model, Sequential

__all__ = ["activations", "backend", "callbacks", "constraints", "datasets", "initializers", "layers", "losses",
           "metrics", "mixed_precision", "models", "optimizers", "preprocessing", "regularizers", "saving", "utils", "wrappers", "Input",
           "Model", "Sequential"]
