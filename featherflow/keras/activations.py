"""``keras.activations``: every tf.keras activation by name, built on featherflow ops.

Names: ``elu, exponential, gelu, hard_sigmoid, leaky_relu, linear, log_softmax, mish, relu, relu6,
selu, sigmoid, silu, softmax, softplus, softsign, swish, tanh``. ``get`` resolves a name, ``None``
(linear), a ``{"class_name": ..., "config": ...}`` dict or a callable; ``serialize`` gives a
built-in's name back. Unknown names raise a ``ValueError`` listing the valid ones.

``softmax`` outputs remember their logits (``y._logits``) so the cross-entropy losses can use the
fused, stable form, as in Keras.

>>> from featherflow.keras import activations
>>> activations.get("relu")([-1.0, 1.0]).numpy()
array([0., 1.], dtype=float32)
>>> activations.relu([-2.0, 1.0, 8.0], alpha=0.5, max_value=6.0).numpy()
array([-1.,  1.,  6.], dtype=float32)
"""

from __future__ import annotations

from featherflow import ops
from featherflow.ops._convert import as_tensor


def linear(x):
    """The identity ``x``."""
    return ops.identity(x)


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with Keras's options.

    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for ``threshold <= x < max_value``,
    ``alpha * (x - threshold)`` otherwise.

    Args:
        alpha: slope below the threshold.
        max_value: saturation value (``None``: unbounded).
        threshold: values below it are zeroed (or scaled by ``alpha``).
    """
    if alpha == 0 and max_value is None and threshold == 0:
        return ops.relu(x)
    if alpha != 0 and max_value is None and threshold == 0:
        return ops.leaky_relu(x, alpha=alpha)
    x = as_tensor(x, "activation")
    if alpha != 0:
        negative = ops.relu(threshold - x if threshold != 0 else -x)
    if threshold != 0:
        out = x * ops.cast(ops.greater(x, threshold), x.dtype)
    elif max_value == 6:
        out = ops.relu6(x)
        max_value = None
    else:
        out = ops.relu(x)
    if max_value is not None:
        out = ops.clip_by_value(out, 0.0, float(max_value))
    if alpha != 0:
        out = out - negative * float(alpha)
    return out


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return ops.relu6(x)


def leaky_relu(x, alpha=0.2, negative_slope=None):
    """``x`` for ``x > 0``, ``alpha * x`` otherwise (``negative_slope`` is Keras 3's name for ``alpha``)."""
    return ops.leaky_relu(x, alpha=alpha if negative_slope is None else negative_slope)


def elu(x, alpha=1.0):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (Clevert et al., 2016)."""
    return ops.elu(x, alpha=alpha)


def selu(x):
    """Scaled ELU (Klambauer et al., 2017): ``scale * elu(x, alpha)`` with the self-normalizing constants."""
    return ops.selu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit ``x * Phi(x)`` (tanh approximation with ``approximate=True``)."""
    return ops.gelu(x, approximate=approximate)


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    return ops.sigmoid(x)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid: 0 below -2.5, 1 above 2.5, ``0.2 * x + 0.5`` between (tf.keras 2.x)."""
    return ops.hard_sigmoid(x)


def tanh(x):
    """Hyperbolic tangent."""
    return ops.tanh(x)


def softplus(x):
    """``log(exp(x) + 1)``, overflow-free."""
    return ops.softplus(x)


def softsign(x):
    """``x / (|x| + 1)``."""
    return ops.softsign(x)


def swish(x):
    """``x * sigmoid(x)`` (Ramachandran et al., 2017); also called SiLU."""
    return ops.silu(x)


silu = swish


def mish(x):
    """``x * tanh(softplus(x))`` (Misra, 2019)."""
    x = as_tensor(x, "activation")
    return x * ops.tanh(ops.softplus(x))


def exponential(x):
    """``exp(x)``."""
    return ops.exp(x)


def _check_rank(x, name):
    x = as_tensor(x, "activation")
    if x.ndim <= 1:
        raise ValueError(f"Cannot apply {name} to a tensor that is 1D. Received input with shape {tuple(x.shape)}; "
                         f"pass a batch, e.g. of shape (batch, features).")
    return x


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x), axis)``; the output keeps its logits for a stable cross-entropy."""
    return ops.softmax(_check_rank(x, "softmax"), axis=axis)


def log_softmax(x, axis=-1):
    """``x - logsumexp(x, axis)``."""
    return ops.log_softmax(_check_rank(x, "log_softmax"), axis=axis)


_BY_NAME = {
    "linear": linear, "relu": relu, "relu6": relu6, "leaky_relu": leaky_relu, "elu": elu, "selu": selu,
    "gelu": gelu, "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid, "tanh": tanh, "softplus": softplus,
    "softsign": softsign, "swish": swish, "silu": silu, "mish": mish, "exponential": exponential,
    "softmax": softmax, "log_softmax": log_softmax,
}


def serialize(activation):
    """The name of a built-in activation (``"swish"`` for swish/silu); a custom callable's ``__name__``."""
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    if hasattr(activation, "get_config"):
        return {"class_name": type(activation).__name__, "config": activation.get_config()}
    return getattr(activation, "__name__", str(activation))


def deserialize(name, custom_objects=None):
    """A built-in activation by name (``custom_objects`` maps extra names to callables)."""
    if isinstance(name, dict):
        name = name.get("config", {}).get("activation", name.get("class_name"))
    custom_objects = custom_objects or {}
    if name in custom_objects:
        return custom_objects[name]
    fn = _BY_NAME.get(name)
    if fn is None:
        raise ValueError(f"Unknown activation function: {name!r}. Valid names are: {sorted(_BY_NAME)}")
    return fn


def get(identifier):
    """Resolve ``None`` (linear), a name, a config dict or a callable to an activation function."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret activation function identifier: {identifier!r}. Pass a name "
                    f"({sorted(_BY_NAME)}) or a callable.")
