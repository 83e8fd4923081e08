"""``keras.activations``: activation functions by name.

>>> from featherflow.keras import activations
>>> activations.get("relu")([-1.0, 1.0]).numpy()
array([0., 1.], dtype=float32)
"""

from __future__ import annotations

from featherflow import ops


def linear(x):
    """The identity."""
    return ops.identity(x)


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit ``max(x, 0)``."""
    return ops.relu(x)


def sigmoid(x):
    return ops.sigmoid(x)


def tanh(x):
    return ops.tanh(x)


def softmax(x, axis=-1):
    return ops.softmax(x, axis=axis)


_BY_NAME = {"linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax}


def serialize(activation) -> str:
    """The name of a built-in activation."""
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", str(activation))


def get(identifier):
    """Resolve ``None`` (linear), a name or a callable to an activation function."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier)
        if fn is None:
            raise ValueError(f"Unknown activation function: {identifier!r}. Valid names are: {sorted(_BY_NAME)}")
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret activation function identifier: {identifier!r}")
