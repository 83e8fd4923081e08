"""``featherflow.keras``: the ``tf.keras`` surface (re-exports only)."""

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
    models,
    optimizers,
    regularizers,
    saving,
    utils,
    wrappers,
)
from featherflow.keras.layers import Input
