"""scikit-learn estimators around featherflow Keras models: ``KerasClassifier`` and ``KerasRegressor``.

Parameters follow SciKeras (and Keras 3's ``SKLearnClassifier``): ``model`` is a builder function (or a model
to clone); wrapper parameters are routed by prefix - ``model__units`` to the builder, ``optimizer__learning_rate``
to the optimizer, ``loss__*`` to the loss, ``fit__*`` / ``predict__*`` to ``fit`` / ``predict``. Any other
keyword given to the constructor is a parameter too and reaches the builder if its signature names it; the builder
may also ask for ``meta`` (``n_features_in_``, ``n_classes_``, ``classes_``, ``target_type_``, ``n_outputs_``),
``compile_kwargs`` and ``params``. A builder may return an uncompiled model: it is then compiled with
``optimizer``, ``loss`` and ``metrics``.

Fitted estimators pickle as their parameters plus the model's weights (the model is rebuilt from the builder on
unpickling, so the builder must be importable); this is what ``GridSearchCV(n_jobs=2)`` needs.

>>> from featherflow.keras.wrappers import KerasClassifier  # doctest: +SKIP
>>> clf = KerasClassifier(model=build_mlp, model__hidden=32, epochs=10, optimizer__learning_rate=1e-2)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import re
import warnings
from collections import defaultdict
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import check_is_fitted, column_or_1d
except ImportError as error:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError('The scikit-learn wrappers require scikit-learn: pip install "featherflow[sklearn]"') from error

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _validate_data(estimator, X, y="no_validation", reset=True, **kwargs):
        return estimator._validate_data(X, y, reset=reset, **kwargs)

_ROUTES = ("model", "optimizer", "loss", "metrics", "fit", "predict", "compile", "callbacks")
_SIGNATURE = ("model", "build_fn", "warm_start", "random_state", "optimizer", "loss", "metrics", "batch_size",
              "validation_batch_size", "verbose", "callbacks", "validation_split", "shuffle", "epochs")


def _routed(params: dict, prefix: str) -> dict:
    start = prefix + "__"
    return {k[len(start):]: v for k, v in params.items() if k.startswith(start) and "__" not in k[len(start):]}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


@contextlib.contextmanager
def _seeded(random_state: Any):
    """Seed featherflow's generator for one fit and put the caller's random state back afterwards."""
    from featherflow.backend import random as ff_random

    if random_state is None:
        yield
        return
    if isinstance(random_state, np.random.RandomState):
        seed = int(random_state.randint(0, 2**31 - 1))
    elif isinstance(random_state, (int, np.integer)):
        seed = int(random_state)
    else:
        raise ValueError(f"random_state must be None, an int or a numpy RandomState. Received: {random_state!r}")
    saved = {key: copy.deepcopy(value) for key, value in ff_random._state.items()}
    ff_random.set_seed(seed)
    try:
        yield
    finally:
        ff_random._state.update(saved)


class BaseWrapper(BaseEstimator):
    """Shared implementation of ``KerasClassifier`` and ``KerasRegressor`` (see the module docstring).

    Args:
        model: builder ``fn(**routed) -> model`` (compiled or not) or a model instance (cloned at each fit).
        warm_start: keep training the fitted model on the next ``fit`` instead of building a new one.
        random_state: int (or ``RandomState``) seeding weight initialisation and shuffling of each fit.
        optimizer, loss, metrics: used to compile a model the builder returns uncompiled.
        batch_size, validation_batch_size, verbose, callbacks, validation_split, shuffle, epochs: passed to
            ``fit`` / ``predict``.
        **kwargs: routed parameters (``model__*``, ``optimizer__*``, ...) and builder parameters.
    """

    def __init__(self, model: Any = None, *, build_fn: Any = None, warm_start: bool = False,
                 random_state: Any = None, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                 batch_size: int | None = None, validation_batch_size: int | None = None, verbose: int = 0,
                 callbacks: Any = None, validation_split: float = 0.0, shuffle: bool = True, epochs: int = 1,
                 **kwargs: Any):
        self.model = model
        self.build_fn = build_fn
        self.warm_start = warm_start
        self.random_state = random_state
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.validation_batch_size = validation_batch_size
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.epochs = epochs
        vars(self).update(kwargs)

    # -- parameters ---------------------------------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        params = super().get_params(deep=deep)
        # Keyword parameters (routed or for the builder) are the public attributes that are not fitted state.
        extra = {k: v for k, v in vars(self).items()
                 if k not in params and not k.startswith("_") and not k.endswith("_")}
        params.update(extra)
        return params

    def set_params(self, **params: Any) -> BaseWrapper:
        known = set(self.get_params(deep=False))
        for key, value in params.items():
            if key in known or key.split("__", 1)[0] in _ROUTES:
                setattr(self, key, value)
            else:
                raise ValueError(f"Invalid parameter {key!r} for estimator {type(self).__name__}. Valid parameters "
                                 f"are {sorted(known)} and routed ones such as 'model__units' or "
                                 "'optimizer__learning_rate'.")
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Training is stochastic; with an int random_state every fit is reproducible bit for bit.
        tags.non_deterministic = not isinstance(self.random_state, (int, np.integer))
        return tags

    # -- building -----------------------------------------------------------------------------------------------
    @property
    def _builder(self):
        if self.model is None and self.build_fn is not None:
            warnings.warn("build_fn is deprecated: pass model= instead.", DeprecationWarning, stacklevel=3)
            return self.build_fn
        if self.model is None:
            raise ValueError(f"{type(self).__name__} needs model=: a function that returns a Keras model (or a "
                             "model to clone). Received: model=None")
        return self.model

    def _meta(self) -> dict:
        return {k: getattr(self, k) for k in ("n_features_in_", "X_shape_", "X_dtype_", "target_type_", "classes_",
                                               "n_classes_", "n_outputs_", "n_outputs_expected_", "y_dtype_")
                if hasattr(self, k)}

    def _optimizer(self):
        from featherflow import keras

        options = _routed(self.get_params(), "optimizer")
        optimizer = self.optimizer
        if isinstance(optimizer, type):
            return optimizer(**options)
        if isinstance(optimizer, str):
            optimizer = keras.optimizers.get(optimizer)
        # A fresh optimizer per fit: an instance shared between fits (or clones) would carry its state over.
        return type(optimizer).from_config({**optimizer.get_config(), **options})

    def _loss(self):
        from featherflow import keras

        options = _routed(self.get_params(), "loss")
        loss = self.loss if self.loss is not None else self._default_loss()
        if not options:
            return loss
        if isinstance(loss, type):
            return loss(**options)
        if isinstance(loss, str):
            cls = getattr(keras.losses, _camel(loss), None)
            if cls is None:
                raise ValueError(f"loss__ parameters need a loss class; no class for loss={loss!r}.")
            return cls(**options)
        return type(loss).from_config({**loss.get_config(), **options})

    def _default_loss(self) -> Any:
        return None

    def _compile_kwargs(self) -> dict:
        return {"optimizer": self._optimizer(), "loss": self._loss(), "metrics": self.metrics,
                **_routed(self.get_params(), "compile")}

    def _build_keras_model(self):
        from featherflow import keras

        builder = self._builder
        params = self.get_params()
        if isinstance(builder, keras.Model):
            model = keras.models.clone_model(builder)
            kwargs = self._compile_kwargs()
            if self.loss is None and getattr(builder, "_is_compiled", False):
                kwargs["loss"] = builder.loss
            model.compile(**kwargs)
            return model
        if not callable(builder):
            raise TypeError(f"model must be a callable returning a Keras model, or a model. Received: {builder!r}")
        signature = inspect.signature(builder).parameters
        accepts_all = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in signature.values())
        kwargs = {k: v for k, v in params.items() if k in signature and "__" not in k and k not in ("model",)}
        kwargs.update(_routed(params, "model"))
        extras = {"meta": self._meta(), "compile_kwargs": self._compile_kwargs(), "params": params}
        for name, value in extras.items():
            if name in signature:
                kwargs[name] = value
        if not accepts_all:
            unknown = set(_routed(params, "model")) - set(signature)
            if unknown:
                raise TypeError(f"The model builder {getattr(builder, '__name__', builder)!r} does not accept "
                                f"{sorted(unknown)} (routed with model__).")
        model = builder(**kwargs)
        if not isinstance(model, keras.Model):
            raise TypeError(f"The model builder must return a Keras model. Received: {type(model).__name__}")
        if not getattr(model, "_is_compiled", False):
            model.compile(**self._compile_kwargs())
        return model

    # -- data ---------------------------------------------------------------------------------------------------
    def _validate_X(self, X, reset: bool) -> np.ndarray:
        from featherflow.backend import floatx

        X = _validate_data(self, X, reset=reset, dtype=["float64", "float32"], allow_nd=True)
        if reset:
            self.X_shape_, self.X_dtype_ = X.shape, X.dtype
        return np.asarray(X, dtype=floatx())

    def _encode_y(self, y: np.ndarray, reset: bool) -> np.ndarray:
        return y

    def _fit_kwargs(self, kwargs: dict) -> dict:
        fit = {"batch_size": self.batch_size, "epochs": self.epochs, "verbose": self.verbose,
               "callbacks": copy.deepcopy(self.callbacks), "validation_split": self.validation_split,
               "shuffle": self.shuffle}
        if self.validation_batch_size is not None:
            fit["validation_batch_size"] = self.validation_batch_size
        fit.update(_routed(self.get_params(), "fit"))
        fit.update(kwargs)
        return {k: v for k, v in fit.items() if v is not None}

    # -- estimator API ------------------------------------------------------------------------------------------
    def initialize(self, X, y=None) -> BaseWrapper:
        """Build the model for data shaped like ``X`` / ``y`` without training it."""
        X = self._validate_X(X, reset=True)
        if y is not None:
            self._encode_y(np.asarray(y), reset=True)
        with _seeded(self.random_state):
            self.model_ = self._build_keras_model()
        self.history_ = defaultdict(list)
        return self

    def fit(self, X, y, sample_weight=None, **kwargs: Any) -> BaseWrapper:
        """Build (unless ``warm_start`` and fitted) and train the model for ``epochs`` epochs; returns self."""
        self._partial_classes = None
        return self._fit(X, y, sample_weight, kwargs, reinitialize=not (self.warm_start and hasattr(self, "model_")))

    def partial_fit(self, X, y, sample_weight=None, classes=None, **kwargs: Any) -> BaseWrapper:
        """One epoch of training, building the model on the first call (``classes``: every label, classifiers)."""
        kwargs = {**kwargs, "epochs": 1}
        first = not hasattr(self, "model_")
        self._partial_classes = None if classes is None or not first else np.asarray(classes)
        return self._fit(X, y, sample_weight, kwargs, reinitialize=first)

    def _fit(self, X, y, sample_weight, kwargs, reinitialize: bool) -> BaseWrapper:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        X, y = _validate_data(self, X, y, reset=reinitialize, dtype=["float64", "float32"], allow_nd=True,
                              multi_output=True, y_numeric=isinstance(self, RegressorMixin))
        from featherflow.backend import floatx

        if reinitialize:
            self.X_shape_, self.X_dtype_ = X.shape, X.dtype
        X = np.asarray(X, dtype=floatx())
        y_encoded = self._encode_y(y, reset=reinitialize)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=floatx())
            if sample_weight.shape != (len(X),):
                raise ValueError(f"sample_weight must have shape ({len(X)},). Received: {sample_weight.shape}")
            if not np.any(sample_weight > 0):
                raise ValueError("No training samples had any weight; only zero or negative sample weights were "
                                 "passed.")
        with _seeded(self.random_state):
            if reinitialize:
                self.model_ = self._build_keras_model()
                self.history_ = defaultdict(list)
            history = self.model_.fit(X, y_encoded, sample_weight=sample_weight, **self._fit_kwargs(kwargs))
        for name, values in history.history.items():
            self.history_[name].extend(float(v) for v in values)
        return self

    def _predict_raw(self, X, **kwargs: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = self._validate_X(X, reset=False)
        options = {"batch_size": self.batch_size, "verbose": self.verbose, **_routed(self.get_params(), "predict"),
                   **kwargs}
        return np.asarray(self.model_.predict(X, **{k: v for k, v in options.items() if v is not None}))

    # -- pickling -----------------------------------------------------------------------------------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        model = state.pop("model_", None)
        if model is not None:
            state["_model_weights"] = [np.array(w) for w in model.get_weights()]
        return state

    def __setstate__(self, state: dict) -> None:
        weights = state.pop("_model_weights", None)
        self.__dict__.update(state)
        if weights is not None:
            self.model_ = self._build_keras_model()
            if weights and not self.model_.built and hasattr(self, "X_shape_"):
                # A builder without keras.Input makes an unbuilt model: one call on a zero batch of the
                # training data's shape creates its weights before they are set.
                from featherflow.backend import floatx

                self.model_(np.zeros((1, *self.X_shape_[1:]), dtype=floatx()))
            self.model_.set_weights(weights)


class KerasClassifier(ClassifierMixin, BaseWrapper):
    """scikit-learn classifier around a Keras model (SciKeras-compatible parameters).

    Labels of any type are encoded to ``0 .. n_classes - 1`` (one-hot for a ``categorical_crossentropy`` loss);
    ``predict`` returns the original labels, ``predict_proba`` one column per class (a single sigmoid output gives
    ``[1 - p, p]``). Default loss: ``sparse_categorical_crossentropy``; ``score`` is the accuracy.
    """

    def _default_loss(self) -> str:
        return "sparse_categorical_crossentropy"

    def _one_hot_loss(self) -> bool:
        loss = self.loss
        name = loss if isinstance(loss, str) else getattr(loss, "name", None) or type(loss).__name__
        return bool(name) and re.sub(r"(?<!^)(?=[A-Z])", "_", str(name)).lower() in (
            "categorical_crossentropy", "categoricalcrossentropy")

    def _encode_y(self, y: np.ndarray, reset: bool) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(f"KerasClassifier expects 1-d class labels. Received: y.shape={y.shape}")
        check_classification_targets(y)
        if reset:
            self.target_type_ = type_of_target(y)
            given = getattr(self, "_partial_classes", None)
            self.classes_ = np.unique(y if given is None else np.concatenate([np.asarray(given), y]))
            self.n_classes_ = len(self.classes_)
            self.n_outputs_, self.n_outputs_expected_, self.y_dtype_ = 1, 1, y.dtype
        lookup = np.searchsorted(self.classes_, y)
        if np.any(lookup >= len(self.classes_)) or np.any(self.classes_[np.minimum(lookup, len(self.classes_) - 1)]
                                                           != y):
            raise ValueError(f"y contains labels not seen in the first fit: {sorted(set(y) - set(self.classes_))}")
        if self._one_hot_loss():
            return np.eye(self.n_classes_, dtype="float32")[lookup]
        return lookup.astype("int64")

    def predict_proba(self, X, **kwargs: Any) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes)``."""
        probabilities = self._predict_raw(X, **kwargs)
        if (probabilities.ndim == 1 or probabilities.shape[-1] == 1) and self.n_classes_ != 1:  # one sigmoid unit
            p = probabilities.reshape(-1)
            probabilities = np.stack([1.0 - p, p], axis=1)
        return probabilities.astype(np.float64)

    def predict(self, X, **kwargs: Any) -> np.ndarray:
        """The most probable class of each sample, as the original labels."""
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X, **kwargs), axis=1)]

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy."""
        return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))


class KerasRegressor(RegressorMixin, BaseWrapper):
    """scikit-learn regressor around a Keras model (default loss ``mean_squared_error``; ``score`` is R^2).

    2-d targets train a multi-output model (one output unit per column).
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _default_loss(self) -> str:
        return "mean_squared_error"

    def _encode_y(self, y: np.ndarray, reset: bool) -> np.ndarray:
        from featherflow.backend import floatx

        y = np.asarray(y)
        if reset:
            self.target_type_ = type_of_target(y)
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
            self.n_outputs_expected_, self.y_dtype_, self.y_ndim_ = self.n_outputs_, y.dtype, y.ndim
        return y.astype(floatx())

    def predict(self, X, **kwargs: Any) -> np.ndarray:
        """Predictions, 1-d when the targets were 1-d."""
        predictions = self._predict_raw(X, **kwargs)
        if getattr(self, "y_ndim_", 1) == 1 and predictions.ndim == 2 and predictions.shape[1] == 1:
            predictions = predictions[:, 0]
        return predictions.astype(np.float64)

    def score(self, X, y, sample_weight=None) -> float:
        """Coefficient of determination R^2."""
        return float(r2_score(y, self.predict(X), sample_weight=sample_weight))


SKLearnClassifier = KerasClassifier
SKLearnRegressor = KerasRegressor
