"""``keras.losses``: every tf.keras loss as a class, a function and a string alias.

Lookup: ``get("categorical_crossentropy")`` returns the function, ``get("CategoricalCrossentropy")``
an instance, ``get({"class_name": ..., "config": ...})`` a configured instance; unknown names raise
a ``ValueError`` listing the valid ones.

For the trainer:

- ``as_loss(identifier) -> Loss`` always gives a ``Loss`` object (functions are wrapped in a
  ``LossFunctionWrapper`` named after the string the user gave, or the function's name).
- ``loss_kind(identifier) -> "binary" | "sparse" | "categorical" | None`` says which cross-entropy
  family a loss belongs to (used to resolve ``metrics=["accuracy"]``).

>>> from featherflow import keras
>>> keras.losses.get("mse") is keras.losses.mean_squared_error
True
>>> round(float(keras.losses.as_loss("sparse_categorical_crossentropy")([0], [[0.5, 0.5]])), 6)
0.693147
"""

from __future__ import annotations

from featherflow.keras.losses._utils import Reduction, compute_weighted_loss
from featherflow.keras.losses.base import Loss, LossFunctionWrapper
from featherflow.keras.losses.probabilistic import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from featherflow.keras.losses.regression import (
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    SquaredHinge,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    squared_hinge,
)

# Keras's short aliases
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

_CLASSES = {cls.__name__: cls for cls in (
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalFocalCrossentropy,
    SparseCategoricalCrossentropy, KLDivergence, Poisson, MeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge,
    CosineSimilarity)}
_FUNCTIONS = {
    "binary_crossentropy": binary_crossentropy, "binary_focal_crossentropy": binary_focal_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "categorical_focal_crossentropy": categorical_focal_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy, "kl_divergence": kl_divergence,
    "kld": kl_divergence, "KLD": kl_divergence, "kullback_leibler_divergence": kl_divergence, "poisson": poisson,
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error, "MSE": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error, "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error, "huber": huber,
    "huber_loss": huber, "log_cosh": log_cosh, "logcosh": log_cosh, "hinge": hinge, "squared_hinge": squared_hinge,
    "categorical_hinge": categorical_hinge, "cosine_similarity": cosine_similarity,
}
_KINDS = {binary_crossentropy: "binary", binary_focal_crossentropy: "binary", categorical_crossentropy: "categorical",
          categorical_focal_crossentropy: "categorical", sparse_categorical_crossentropy: "sparse"}


def _valid_names() -> list:
    return sorted(set(_FUNCTIONS) | set(_CLASSES))


def serialize(loss):
    """A loss object as ``{"class_name", "config"}``; a built-in function as its name."""
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    for name, fn in _FUNCTIONS.items():
        if fn is loss:
            return name
    return getattr(loss, "__name__", None)


def deserialize(name, custom_objects=None):
    """Inverse of ``serialize``: a name or ``{"class_name", "config"}`` (``custom_objects`` for user losses)."""
    custom_objects = custom_objects or {}
    if isinstance(name, dict):
        cls_name = name.get("class_name")
        cls = custom_objects.get(cls_name) or _CLASSES.get(cls_name)
        if cls is None:
            raise ValueError(f"Unknown loss function: {cls_name!r}. Valid names are: {_valid_names()}")
        return cls.from_config(name.get("config", {}))
    if name in custom_objects:
        return custom_objects[name]
    if name in _FUNCTIONS:
        return _FUNCTIONS[name]
    if name in _CLASSES:
        return _CLASSES[name]()
    raise ValueError(f"Unknown loss function: {name!r}. Valid names are: {_valid_names()}")


def get(identifier):
    """Resolve ``None``, a name, a config dict, a ``Loss`` or any callable ``fn(y_true, y_pred)``."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss function identifier: {identifier!r}. Pass a Loss, a callable "
                     f"fn(y_true, y_pred) or one of {_valid_names()}")


def as_loss(identifier, name=None) -> Loss:
    """``identifier`` resolved (``get``) and, if it is a plain function, wrapped into a ``Loss``.

    The wrapper's name is ``name``, else the string given, else the function's ``__name__``.
    """
    loss = get(identifier)
    if loss is None or isinstance(loss, Loss):
        return loss
    if name is None:
        name = identifier if isinstance(identifier, str) else getattr(loss, "__name__", "loss")
    return LossFunctionWrapper(loss, name=name)


def loss_kind(identifier):
    """``"binary"``, ``"sparse"`` or ``"categorical"`` for the cross-entropy losses, else ``None``."""
    try:
        loss = get(identifier)
    except ValueError:
        return None
    if isinstance(loss, LossFunctionWrapper):
        loss = loss.fn
    return _KINDS.get(loss)


__all__ = [n for n in dir() if not n.startswith("_")]
