"""What a search optimises: a metric name and a direction (``"min"`` or ``"max"``).

A metric name alone infers the direction like KerasTuner: names of losses and errors are minimised, accuracies,
AUC, precision, recall and other scores are maximised (``val_accuracy`` -> max, ``val_loss`` -> min).

>>> Objective("val_accuracy", "max").better(0.9, 0.8)
True
>>> get_objective("val_loss").direction
'min'
"""

from __future__ import annotations

import math
from typing import Any

_MAX_WORDS = ("acc", "accuracy", "auc", "precision", "recall", "f1", "iou", "r2", "score", "top_k", "reward",
              "return", "fitness", "dice")
_MIN_WORDS = ("loss", "error", "mse", "mae", "mape", "msle", "crossentropy", "hinge", "divergence", "regret",
              "poisson", "cosine_similarity_loss", "huber", "logcosh")


class Objective:
    """A metric to optimise.

    Args:
        name: the metric's name as it appears in ``History.history`` (``"val_accuracy"``).
        direction: ``"min"`` or ``"max"``.
    """

    def __init__(self, name: str, direction: str):
        if not isinstance(name, str) or not name:
            raise ValueError(f"Objective name must be a non-empty string. Received: name={name!r}")
        if direction not in ("min", "max"):
            raise ValueError(f"Objective direction must be 'min' or 'max'. Received: direction={direction!r}")
        self.name, self.direction = name, direction

    def better(self, a: float | None, b: float | None) -> bool:
        """Whether score ``a`` is strictly better than ``b`` (a missing or NaN score is worst)."""
        if a is None or (isinstance(a, float) and math.isnan(a)):
            return False
        if b is None or (isinstance(b, float) and math.isnan(b)):
            return True
        return a > b if self.direction == "max" else a < b

    def sort_key(self, score: float | None) -> float:
        """Key that sorts best first with ``sorted`` (missing scores last)."""
        if score is None or (isinstance(score, float) and math.isnan(score)):
            return math.inf
        return -score if self.direction == "max" else score

    def best_of(self, values: list[float]) -> float | None:
        """The best of a metric's per-epoch values."""
        finite = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
        if not finite:
            return None
        return max(finite) if self.direction == "max" else min(finite)

    def get_config(self) -> dict:
        return {"name": self.name, "direction": self.direction}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Objective) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((self.name, self.direction))

    def __repr__(self) -> str:
        return f"Objective(name={self.name!r}, direction={self.direction!r})"


def infer_direction(name: str) -> str:
    """``"min"`` or ``"max"`` for a metric name; ValueError if it cannot be told."""
    base = name.lower()
    for prefix in ("val_", "test_", "train_"):
        if base.startswith(prefix):
            base = base[len(prefix):]
    if any(word in base for word in _MIN_WORDS):
        return "min"
    if any(word in base for word in _MAX_WORDS):
        return "max"
    raise ValueError(f"Could not infer the direction of objective {name!r}: pass "
                     f"Objective({name!r}, direction='min' or 'max').")


def get_objective(objective: Any) -> Objective:
    """Objective from a name, an ``Objective``, or a ``(name, direction)`` pair."""
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        return Objective(objective, infer_direction(objective))
    if isinstance(objective, (tuple, list)) and len(objective) == 2:
        return Objective(*objective)
    if isinstance(objective, dict):
        return Objective(objective["name"], objective["direction"])
    raise TypeError("objective must be a metric name, an Objective or (name, direction). "
                    f"Received: objective={objective!r}")
