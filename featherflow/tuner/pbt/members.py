"""The worker side of Population Based Training: train one member for one segment, from plain data to plain data.

A segment arrives as a checkpoint (lists of NumPy arrays: the model's weights and the optimizer's state, or the
state of a ``train_function``), the member's hyperparameter values and a seed; it leaves as a new checkpoint,
the metrics and the score. No live object crosses between processes, so any ``featherflow.distribute`` executor
runs it, and a member whose worker crashes is simply trained again from the same checkpoint.

**Mutable hyperparameters** (changed by explore without rebuilding the model) are applied in place after the
model is built and before its weights and optimizer state are restored. A parameter maps to a *target*:

=================================  ==================================================================
``"optimizer.learning_rate"``      ``model.optimizer.learning_rate = value`` (the settable variable)
``"optimizer.<attr>"``             ``setattr(model.optimizer, attr, value)``: ``momentum``, ``beta_1``,
                                   ``beta_2``, ``rho``, ``epsilon``, ``weight_decay``, ``clipnorm``, ...
                                   (read by the optimizer at every step)
``"layers:<Class>.<attr>"``        every layer that is an instance of a class named ``Class`` (nested
                                   models included), e.g. ``"layers:Dropout.rate"``
``"layer:<name>.<attr>"``          the layer called ``name``
``"fit.<argument>"``               a ``model.fit`` argument, e.g. ``"fit.batch_size"``
a callable ``f(model, value)``     anything else (a module-level function, so that it pickles)
=================================  ==================================================================

Without a declaration these names are mutable and map to their obvious target: ``learning_rate``/``lr``,
``momentum``, ``beta_1``, ``beta_2``, ``rho``, ``epsilon``, ``weight_decay`` (optimizer), ``dropout`` and
``dropout_rate`` (every ``Dropout`` layer), ``batch_size`` (``fit``).

Randomness: the global seed is set to the segment's seed before the model is built and again right before
training, so a segment's result depends only on its checkpoint, values and seed - not on the worker, nor on
whether the model was rebuilt (``replay`` trains one model straight through and gets the same weights).

>>> resolve_targets(None, ["learning_rate", "units", "batch_size"])
{'learning_rate': 'optimizer.learning_rate', 'batch_size': 'fit.batch_size'}
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from featherflow.tuner.hyperparameters import HyperParameters
from featherflow.tuner.keras_tuner import _build as build_hypermodel
from featherflow.tuner.pbt.records import SegmentResult, SegmentTask

OPTIMIZER_ATTRIBUTES = ("momentum", "beta_1", "beta_2", "rho", "epsilon", "weight_decay", "clipnorm", "clipvalue",
                        "global_clipnorm", "ema_momentum")
DEFAULT_TARGETS: dict[str, str] = {
    "learning_rate": "optimizer.learning_rate", "lr": "optimizer.learning_rate",
    **{name: f"optimizer.{name}" for name in OPTIMIZER_ATTRIBUTES},
    "dropout": "layers:Dropout.rate", "dropout_rate": "layers:Dropout.rate",
    "batch_size": "fit.batch_size",
}
_TARGET_HELP = ("Declare it as mutable={name: target} with a target 'optimizer.<attr>', 'layers:<Class>.<attr>', "
                "'layer:<name>.<attr>', 'fit.<argument>' or a module-level function f(model, value).")


def _check_target(name: str, target: Any) -> None:
    if callable(target):
        return
    if not isinstance(target, str):
        raise TypeError(f"The target of mutable hyperparameter {name!r} must be a string or a callable. "
                        f"Received: {target!r}. {_TARGET_HELP}")
    kind, _, rest = target.partition(":") if ":" in target else target.partition(".")
    ok = (kind in ("optimizer", "fit") and rest and "." not in rest) or (
        kind in ("layers", "layer") and "." in rest and all(rest.rpartition(".")[::2]))
    if not ok:
        raise ValueError(f"Unknown target {target!r} for mutable hyperparameter {name!r}. {_TARGET_HELP}")


def resolve_targets(mutable: Any, names: list[str]) -> dict[str, Any]:
    """``{name: target}`` of the mutable parameters among ``names`` (the search space's tunable names).

    Args:
        mutable: None (the default names of the module docstring that are in the space), a list of names (each
            with a default target) or a dict ``{name: target}``.
        names: the parameters of the search space.
    """
    if mutable is None:
        return {name: DEFAULT_TARGETS[name] for name in names if name in DEFAULT_TARGETS}
    if isinstance(mutable, str):
        mutable = [mutable]
    if not isinstance(mutable, dict):
        missing = [name for name in mutable if name not in DEFAULT_TARGETS]
        if missing:
            raise ValueError(f"No default target for mutable hyperparameter(s) {missing}. {_TARGET_HELP}")
        mutable = {name: DEFAULT_TARGETS[name] for name in mutable}
    unknown = [name for name in mutable if name not in names]
    if unknown:
        raise ValueError(f"Mutable hyperparameter(s) {unknown} are not in the search space {list(names)}. "
                         "Register them in build_model or in `hyperparameters`.")
    for name, target in mutable.items():
        _check_target(name, target)
    return dict(mutable)


def _layers(model) -> list:
    flat = getattr(model, "_flat_layers", None)
    return flat() if flat is not None else list(getattr(model, "layers", []))


def apply_targets(model, values: dict[str, Any], targets: dict[str, Any]) -> dict[str, Any]:
    """Set the mutable values on ``model`` in place; returns the ``fit`` arguments among them."""
    fit_arguments: dict[str, Any] = {}
    for name, target in targets.items():
        if name not in values:
            continue
        value = values[name]
        if callable(target):
            target(model, value)
            continue
        if target.startswith("fit."):
            fit_arguments[target[4:]] = value
        elif target.startswith("optimizer."):
            attribute, optimizer = target[len("optimizer."):], getattr(model, "optimizer", None)
            if optimizer is None:
                raise ValueError(f"Mutable hyperparameter {name!r} targets the optimizer, but the model has none: "
                                 "build_model must return a compiled model.")
            if attribute in ("learning_rate", "lr"):
                optimizer.learning_rate = float(value)
            elif not hasattr(optimizer, attribute):
                raise ValueError(f"Mutable hyperparameter {name!r}: optimizer {type(optimizer).__name__} has no "
                                 f"hyperparameter {attribute!r}. {_TARGET_HELP}")
            else:
                setattr(optimizer, attribute, value)
        else:
            kind, _, rest = target.partition(":")
            selector, _, attribute = rest.rpartition(".")
            if kind == "layer":
                chosen = [layer for layer in _layers(model) if layer.name == selector]
            else:
                chosen = [layer for layer in _layers(model)
                          if any(cls.__name__ == selector for cls in type(layer).__mro__)]
            if not chosen:
                raise ValueError(f"Mutable hyperparameter {name!r}: no layer matches {target!r} in model "
                                 f"{getattr(model, 'name', model)!r}.")
            for layer in chosen:
                if not hasattr(layer, attribute):
                    raise ValueError(f"Mutable hyperparameter {name!r}: layer {layer.name!r} has no attribute "
                                     f"{attribute!r}.")
                setattr(layer, attribute, value)
    return fit_arguments


def _metric_lists(history: dict) -> dict[str, list[float]]:
    return {name: [float(v) for v in values] for name, values in history.items()}


def _score_of(metrics: dict[str, list[float]], objective: str) -> float:
    if objective not in metrics or not metrics[objective]:
        raise ValueError(f"The objective {objective!r} is not among the metrics of the segment: "
                         f"{sorted(metrics)}. Pass validation data for 'val_' objectives, or choose another.")
    return float(metrics[objective][-1])


def _batches_per_pass(args: tuple, kwargs: dict, batch_size: int) -> int | None:
    x = args[0] if args else kwargs.get("x")
    while isinstance(x, (list, tuple)) and x:
        x = x[0]
    if isinstance(x, dict) and x:
        x = next(iter(x.values()))
    if isinstance(x, np.ndarray) and x.ndim:
        return max(1, math.ceil(len(x) / batch_size))
    return None


def _fit_segment(model, args: tuple, kwargs: dict, start: int, stop: int, unit: str) -> dict[str, list[float]]:
    if unit == "epochs":
        return _metric_lists(model.fit(*args, initial_epoch=start, epochs=stop, **kwargs).history)
    # Steps: one fit per chunk of at most one pass over array data (fit's steps_per_epoch cannot span passes).
    validation = {k: kwargs.pop(k) for k in ("validation_data", "validation_split", "validation_steps",
                                             "validation_batch_size", "validation_freq") if k in kwargs}
    per_pass = _batches_per_pass(args, kwargs, int(kwargs.get("batch_size") or 32))
    metrics: dict[str, list[float]] = {}
    remaining = stop - start
    while remaining > 0:
        chunk = remaining if per_pass is None else min(remaining, per_pass)
        remaining -= chunk
        extra = validation if remaining == 0 else {}
        history = model.fit(*args, epochs=1, steps_per_epoch=chunk, **kwargs, **extra).history
        for name, values in _metric_lists(history).items():
            metrics.setdefault(name, []).extend(values)
    return metrics


def build_member(build_model: Callable, space_config: dict, values: dict, seed: int):
    """Seed, then ``build_model(hp)`` (or ``HyperModel.build(hp)``) for ``values``; the model must be compiled."""
    from featherflow.keras.utils import set_random_seed

    set_random_seed(int(seed))
    hp = HyperParameters.from_config(space_config).with_values(values)
    model = build_hypermodel(build_model, hp)
    if getattr(model, "optimizer", None) is None:
        raise ValueError("build_model(hp) must return a compiled model (call model.compile(...) in build_model). "
                         f"Received: {model!r}")
    return model


def train_keras_segment(model, values: dict, targets: dict, segment: SegmentTask, checkpoint: dict | None,
                        data: tuple) -> dict[str, list[float]]:
    """Apply the values, restore the checkpoint, reseed and fit ``model`` for the segment; returns its metrics."""
    from featherflow.keras.utils import set_random_seed

    args, fit_kwargs = data
    fit_arguments = apply_targets(model, values, targets)
    if checkpoint is not None:
        model.set_weights(checkpoint["weights"])
        model.optimizer.set_state(checkpoint["optimizer"])
    set_random_seed(int(segment.seed))
    kwargs = {**fit_kwargs, **fit_arguments, "verbose": 0}
    return _fit_segment(model, tuple(args), kwargs, int(segment.start), int(segment.stop), segment.unit)


def _empty_segment(segment: SegmentTask, checkpoint: dict | None, objective: str) -> SegmentResult:
    # A member that copies a member which has already finished takes over its final checkpoint as it is.
    score = segment.parent_score
    return SegmentResult(score, {objective: [score]} if score is not None else {}, checkpoint=checkpoint)


def run_keras_segment(build_model: Callable, space_config: dict, values: dict, targets: dict, segment: SegmentTask,
                      checkpoint: dict | None, objective: str, data: tuple) -> SegmentResult:
    """Worker task of a Keras member: its score, metrics and checkpoint ``{"weights", "optimizer"}``."""
    if int(segment.start) >= int(segment.stop):
        return _empty_segment(segment, checkpoint, objective)
    model = build_member(build_model, space_config, values, segment.seed)
    metrics = train_keras_segment(model, values, targets, segment, checkpoint, data)
    return SegmentResult(_score_of(metrics, objective), metrics,
                         checkpoint={"weights": [np.asarray(w) for w in model.get_weights()],
                                     "optimizer": [np.asarray(s) for s in model.optimizer.get_state()]})


def call_train_function(train_function: Callable, values: dict, state: list | None, segment: SegmentTask,
                        objective: str, data: tuple) -> tuple[list[np.ndarray], dict[str, list[float]]]:
    """Run ``train_function`` for one segment and check what it returns."""
    args, kwargs = data
    result = train_function(dict(values), state, int(segment.start), int(segment.stop), int(segment.seed),
                            *args, **kwargs)
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError("train_function must return (state, metrics): a list of NumPy arrays and a number or a "
                        f"dict of metrics. Received: {type(result).__name__}")
    new_state, metrics = result
    if isinstance(new_state, np.ndarray):
        new_state = [new_state]
    if not isinstance(new_state, (list, tuple)):
        raise TypeError(f"train_function's state must be a list of NumPy arrays. Received: {type(new_state).__name__}")
    if isinstance(metrics, numbers.Real):
        metrics = {objective: [float(metrics)]}
    elif isinstance(metrics, dict):
        metrics = {k: [float(x) for x in (v if isinstance(v, (list, tuple, np.ndarray)) else [v])]
                   for k, v in metrics.items()}
    else:
        raise TypeError(f"train_function's metrics must be a number or a dict. Received: {metrics!r}")
    return [np.array(s, copy=True) for s in new_state], metrics


def run_function_segment(train_function: Callable, values: dict, segment: SegmentTask, checkpoint: dict | None,
                         objective: str, data: tuple) -> SegmentResult:
    """Worker task of a ``train_function`` member: its score, metrics and checkpoint ``{"state"}``."""
    if int(segment.start) >= int(segment.stop):
        return _empty_segment(segment, checkpoint, objective)
    state = None if checkpoint is None else list(checkpoint["state"])
    new_state, metrics = call_train_function(train_function, values, state, segment, objective, data)
    return SegmentResult(_score_of(metrics, objective), metrics, checkpoint={"state": new_state})
