"""A trial: one point of the search space, its status, its metrics and its score, as a JSON-ready record.

>>> from featherflow.tuner import HyperParameters
>>> hp = HyperParameters(); _ = hp.Int("units", 8, 64)
>>> trial = Trial(index=3, hyperparameters=hp)
>>> trial.trial_id, trial.status
('0003', 'RUNNING')
>>> Trial.from_dict(trial.to_dict()).hyperparameters.values
{'units': 8}
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from featherflow.tuner.hyperparameters import HyperParameters


def _show(value: Any) -> str:
    """A value for people: floats to 12 significant digits (no ``0.30000000000000004``)."""
    if isinstance(value, (float, np.floating)):
        text = f"{float(value):.12g}"
        return text if any(c in text for c in ".eni") else text + ".0"
    return str(value)


class TrialStatus:
    """The states of a trial (KerasTuner's names)."""

    RUNNING = "RUNNING"  # created and handed to a worker (or interrupted: rerun on resume)
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"  # raised on every attempt; ``message`` holds the last traceback
    INVALID = "INVALID"  # the builder or the objective was unusable for these values
    STOPPED = "STOPPED"

    FINISHED = (COMPLETED, FAILED, INVALID, STOPPED)


def to_json_value(value: Any) -> Any:
    """NumPy scalars/arrays and tuples as plain JSON values (NaN/inf kept as floats for ``json``)."""
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclasses.dataclass
class TrialResult:
    """What a trial's worker function sends back to its tuner (``BaseTuner.trial_task``'s function returns it).

    Attributes:
        score: the value of the objective (None: no usable score).
        metrics: ``{name: [value per epoch or step]}``.
        best_step: the epoch (or step) the score comes from, when it has one.

    Tuners that carry more (the Keras tuner's weights, a PBT member's checkpoint) subclass it.

    >>> TrialResult.of({"score": 0.5, "metrics": {"loss": [0.7, 0.5]}})
    TrialResult(score=0.5, metrics={'loss': [0.7, 0.5]}, best_step=None)
    """

    score: float | None
    metrics: dict = dataclasses.field(default_factory=dict)
    best_step: int | None = None

    @classmethod
    def of(cls, value: Any) -> TrialResult:
        """``value`` itself, or a ``TrialResult`` from a mapping with its fields (a tuner subclass written
        against the mapping form)."""
        if isinstance(value, TrialResult):
            return value
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {field.name for field in dataclasses.fields(cls)})
            if unknown:
                raise TypeError(f"A trial's result has unknown entries {unknown}; expected score, metrics and "
                                "best_step. Return a TrialResult (or a subclass carrying the extra data).")
            return cls(**value)
        raise TypeError(f"A trial's function must return a TrialResult. Received: {type(value).__name__}")


class Trial:
    """One evaluated (or running) point of the search space.

    Attributes:
        index: position in the oracle's sequence (stable whatever the number of workers).
        trial_id: ``f"{index:04d}"``.
        hyperparameters: the space and this trial's values.
        status: a ``TrialStatus`` value.
        score: the objective's best value over epochs (averaged over executions), or None.
        best_step: the epoch at which the best score was reached.
        metrics: metric name -> list of per-epoch values (of the execution that reached the best score).
        info: oracle bookkeeping (Hyperband's bracket, round, epochs and parent trial).
        seed: the seed the worker sets before building the model.
        attempts: how many times the trial was run (retries after errors).
        message: the traceback of the last error, if any.
    """

    def __init__(self, index: int, hyperparameters: HyperParameters, status: str = TrialStatus.RUNNING,
                 score: float | None = None, best_step: int | None = None, metrics: dict | None = None,
                 info: dict | None = None, seed: int | None = None, attempts: int = 0, message: str | None = None,
                 started: float | None = None, ended: float | None = None, duration: float | None = None):
        self.index = int(index)
        self.hyperparameters = hyperparameters
        self.status = status
        self.score = score
        self.best_step = best_step
        self.metrics = metrics or {}
        self.info = info or {}
        self.seed = seed
        self.attempts = attempts
        self.message = message
        self.started = started if started is not None else time.time()
        self.ended = ended
        self.duration = duration

    @property
    def trial_id(self) -> str:
        return f"{self.index:04d}"

    @property
    def finished(self) -> bool:
        return self.status in TrialStatus.FINISHED

    @property
    def values(self) -> dict:
        """The trial's hyperparameter values (active ones)."""
        return self.hyperparameters.values

    def has_score(self) -> bool:
        return self.status == TrialStatus.COMPLETED and self.score is not None and not (
            isinstance(self.score, float) and math.isnan(self.score))

    def to_dict(self) -> dict:
        return to_json_value({
            "trial_id": self.trial_id, "index": self.index, "status": self.status, "score": self.score,
            "best_step": self.best_step, "metrics": self.metrics, "info": self.info, "seed": self.seed,
            "attempts": self.attempts, "message": self.message, "started": self.started, "ended": self.ended,
            "duration": self.duration, "hyperparameters": self.hyperparameters.get_config(),
        })

    @classmethod
    def from_dict(cls, record: dict) -> Trial:
        fields = {k: v for k, v in record.items() if k not in ("trial_id", "hyperparameters")}
        return cls(hyperparameters=HyperParameters.from_config(record["hyperparameters"]), **fields)

    def summary(self) -> str:
        lines = [f"Trial {self.trial_id} summary", "Hyperparameters:"]
        lines += [f"{name}: {_show(value)}" for name, value in self.values.items()]
        if self.score is not None:
            lines.append(f"Score: {self.score}")
        if self.status != TrialStatus.COMPLETED:
            lines.append(f"Status: {self.status}")
        if self.message:
            lines.append(self.message.rstrip().splitlines()[-1])
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Trial(id={self.trial_id}, status={self.status}, score={self.score}, values={self.values})"
