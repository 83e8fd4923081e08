"""``keras.metrics``: running metrics (NumPy, cheap per batch), metric functions, lookup by name.

Lookup: ``get("accuracy")`` returns the function (as Keras does), ``get("Accuracy")`` an instance,
``get({"class_name": ..., "config": ...})`` a configured instance; unknown names raise a
``ValueError`` listing the valid ones.

For the trainer (compile's ``metrics=[...]``)::

    resolve(identifier, loss=None, output_shape=None, y_true_shape=None) -> Metric
    resolve_accuracy(loss=None, output_shape=None, y_true_shape=None, name="accuracy") -> Metric

``resolve`` turns any metric identifier into a ``Metric`` named after the string the user gave
(so History keys follow it): functions are wrapped in ``MeanMetricWrapper``, and
``"accuracy"``/``"acc"`` (and ``"crossentropy"``/``"ce"``) pick the binary, sparse or categorical
variant: binary when the loss is a binary cross-entropy or the output has one unit; sparse when
the labels have one axis fewer than the output or a trailing 1 against several units (Keras 2's
rule, if ``y_true_shape`` is known) or else when the loss is the sparse cross-entropy;
categorical otherwise. Shapes are tuples that may start with ``None``.

>>> from featherflow import keras
>>> m = keras.metrics.resolve("acc", loss="sparse_categorical_crossentropy", output_shape=(None, 10))
>>> m.name, type(m).__name__
('acc', 'MeanMetricWrapper')
"""

from __future__ import annotations

from featherflow.keras import losses as _losses
from featherflow.keras.losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from featherflow.keras.metrics import experimental  # noqa: E402 - after the names the submodules use
from featherflow.keras.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from featherflow.keras.metrics.base import Mean, MeanMetricWrapper, Metric, Sum
from featherflow.keras.metrics.confusion import (
    AUC,
    F1Score,
    FalseNegatives,
    FalsePositives,
    FBetaScore,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from featherflow.keras.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU  # noqa: E402
from featherflow.keras.metrics.operating_point import (  # noqa: E402
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from featherflow.keras.metrics.r2 import MeanRelativeError, MeanTensor, R2Score  # noqa: E402
from featherflow.keras.metrics.regression import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    RootMeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    cosine_similarity,
    log_cosh,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
)

MSE = mse
MAE = mae
MAPE = mape
MSLE = msle
kld = KLD = kullback_leibler_divergence = kl_divergence

_CLASSES = {cls.__name__: cls for cls in (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, Hinge, SquaredHinge,
    CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, AUC, Precision, Recall, TruePositives, TrueNegatives, FalsePositives,
    FalseNegatives, F1Score, FBetaScore, IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU, PrecisionAtRecall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, MeanRelativeError, MeanTensor, R2Score)}
_FUNCTIONS = {
    "accuracy": accuracy, "acc": accuracy, "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy, "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "mean_squared_error": mean_squared_error, "mse": mse, "MSE": mse, "mean_absolute_error": mean_absolute_error,
    "mae": mae, "MAE": mae, "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mape,
    "MAPE": mape, "mean_squared_logarithmic_error": mean_squared_logarithmic_error, "msle": msle, "MSLE": msle,
    "cosine_similarity": cosine_similarity, "logcosh": logcosh, "log_cosh": log_cosh, "hinge": hinge,
    "squared_hinge": squared_hinge, "categorical_hinge": categorical_hinge, "kl_divergence": kl_divergence,
    "kld": kl_divergence, "KLD": kl_divergence, "kullback_leibler_divergence": kl_divergence, "poisson": poisson,
    "binary_crossentropy": binary_crossentropy, "binary_focal_crossentropy": binary_focal_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "categorical_focal_crossentropy": categorical_focal_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}


def _valid_names() -> list:
    return sorted(set(_FUNCTIONS) | set(_CLASSES))


def serialize(metric):
    """A metric object as ``{"class_name", "config"}``; a built-in function as its name."""
    if isinstance(metric, Metric):
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    for name, fn in _FUNCTIONS.items():
        if fn is metric:
            return name
    return getattr(metric, "__name__", None)


def deserialize(config, custom_objects=None):
    """Inverse of ``serialize`` (``custom_objects`` for user metrics)."""
    custom_objects = custom_objects or {}
    if isinstance(config, dict):
        name = config.get("class_name")
        cls = custom_objects.get(name) or _CLASSES.get(name)
        if cls is None:
            raise ValueError(f"Unknown metric function: {name!r}. Valid names are: {_valid_names()}")
        return cls.from_config(config.get("config", {}))
    if config in custom_objects:
        return custom_objects[config]
    if config in _FUNCTIONS:
        return _FUNCTIONS[config]
    if config in _CLASSES:
        return _CLASSES[config]()
    snake = {"auc": AUC, "precision": Precision, "recall": Recall, "true_positives": TruePositives,
             "true_negatives": TrueNegatives, "false_positives": FalsePositives, "false_negatives": FalseNegatives,
             "f1_score": F1Score, "root_mean_squared_error": RootMeanSquaredError}
    if config in snake:
        return snake[config]()
    raise ValueError(f"Unknown metric function: {config!r}. Valid names are: {_valid_names()}")


def get(identifier):
    """Resolve a name, a config dict, a ``Metric`` or a callable (see the module docstring)."""
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}. Valid names are: {_valid_names()}")


def _last(shape):
    if shape is None:
        return None
    shape = tuple(shape)
    return shape[-1] if shape else None


def _family(loss, output_shape, y_true_shape) -> str:
    kind = _losses.loss_kind(loss) if loss is not None else None
    if kind == "binary" or _last(output_shape) == 1:
        return "binary"
    if y_true_shape is not None and output_shape is not None:
        yt, yp = tuple(y_true_shape), tuple(output_shape)
        if len(yt) < len(yp) or (_last(yt) == 1 and (_last(yp) or 0) > 1):
            return "sparse"
        return "categorical"
    return "sparse" if kind == "sparse" else "categorical"


def resolve_accuracy(loss=None, output_shape=None, y_true_shape=None, name="accuracy") -> Metric:
    """The accuracy ``Metric`` Keras picks for ``metrics=["accuracy"]`` (see the module docstring).

    >>> resolve_accuracy("binary_crossentropy", (None, 1))._fn.__name__
    'binary_accuracy'
    """
    fn = {"binary": binary_accuracy, "sparse": sparse_categorical_accuracy,
          "categorical": categorical_accuracy}[_family(loss, output_shape, y_true_shape)]
    return MeanMetricWrapper(fn, name=name)


def resolve(identifier, loss=None, output_shape=None, y_true_shape=None) -> Metric:
    """Any metric identifier as a ``Metric`` object named as the user named it."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str) and identifier in ("accuracy", "acc"):
        return resolve_accuracy(loss, output_shape, y_true_shape, name=identifier)
    if isinstance(identifier, str) and identifier in ("crossentropy", "ce"):
        fn = {"binary": binary_crossentropy, "sparse": sparse_categorical_crossentropy,
              "categorical": categorical_crossentropy}[_family(loss, output_shape, y_true_shape)]
        return MeanMetricWrapper(fn, name=identifier)
    metric = get(identifier)
    if isinstance(metric, Metric):
        return metric
    name = identifier if isinstance(identifier, str) else getattr(metric, "__name__", "metric")
    return MeanMetricWrapper(metric, name=name)


__all__ = [n for n in dir() if not n.startswith("_")]
