"""The oracle interface: which hyperparameters the next trial tries, as a pure function of the trials so far.

``oracle.propose(trials)`` looks at the trials created so far (``{index: Trial}``) and returns a ``Proposal``
(the index, values and bookkeeping of the next trial), ``WAIT`` (the next trial needs results that are still
running) or ``DONE``. Because a proposal depends only on the oracle's seed, its configuration and the earlier
trials' records - never on timing - the same seed gives the same trials on 1 or 20 workers, and a resumed search
rebuilds the oracle's position from the trial records alone. Each trial draws its random numbers from its own
stream, ``numpy.random.default_rng([seed, index])``.

>>> from featherflow.tuner import HyperParameters
>>> from featherflow.tuner.oracles import RandomSearchOracle
>>> hp = HyperParameters(); _ = hp.Float("x", 0.0, 1.0)
>>> oracle = RandomSearchOracle(objective="loss", max_trials=2, hyperparameters=hp, seed=7)
>>> proposal = oracle.propose({}); proposal.index
0
>>> 0.0 <= proposal.values["x"] <= 1.0
True
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from featherflow.tuner.hyperparameters import Fixed, HyperParameter, HyperParameters
from featherflow.tuner.objective import Objective, get_objective
from featherflow.tuner.trial import Trial, TrialStatus

WAIT = "WAIT"
DONE = "DONE"


class Proposal:
    """The next trial: its ``index``, hyperparameter ``values`` and oracle ``info`` (e.g. Hyperband's epochs)."""

    def __init__(self, index: int, values: dict[str, Any], info: dict | None = None):
        self.index, self.values, self.info = int(index), dict(values), dict(info or {})

    def __repr__(self) -> str:
        return f"Proposal(index={self.index}, values={self.values}, info={self.info})"


def values_key(values: dict) -> str:
    """A canonical string of a values dict, to detect repeated configurations."""
    return json.dumps({k: values[k] for k in sorted(values)}, sort_keys=True, default=str)


class Oracle:
    """Base class of the search algorithms.

    Args:
        objective: a metric name, ``Objective`` or ``(name, direction)``.
        max_trials: how many trials to create at most (None: until the oracle is exhausted).
        hyperparameters: a search space to start from (the tuner adds what the model builder registers).
        allow_new_entries: whether the builder may register parameters that ``hyperparameters`` lacks.
        tune_new_entries: whether such new parameters are tuned (else they keep their defaults).
        seed: seeds every random choice; None draws one (saved in the project so a resumed search agrees).
        max_retries_per_trial: reruns of a trial that raised, before it is recorded as failed.
        max_consecutive_failed_trials: the search stops with an error after this many failed trials in a row.
    """

    #: Whether the oracle needs the whole search space before its first proposal (GridSearch).
    needs_full_space = False

    def __init__(self, objective: Any = None, max_trials: int | None = None,
                 hyperparameters: HyperParameters | None = None, allow_new_entries: bool = True,
                 tune_new_entries: bool = True, seed: int | None = None, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3):
        self.objective: Objective | None = None if objective is None else get_objective(objective)
        if max_trials is not None and int(max_trials) < 1:
            raise ValueError(f"max_trials must be >= 1 or None. Received: max_trials={max_trials}")
        self.max_trials = None if max_trials is None else int(max_trials)
        self.hyperparameters = hyperparameters.copy() if hyperparameters is not None else HyperParameters()
        self.allow_new_entries = allow_new_entries
        self.tune_new_entries = tune_new_entries
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        self.seed = int(seed)
        self.max_retries_per_trial = int(max_retries_per_trial)
        self.max_consecutive_failed_trials = int(max_consecutive_failed_trials)
        self._fixed_names = {hp.name for hp in self.hyperparameters.space}

    # -- randomness ---------------------------------------------------------------------------------------------
    def rng(self, index: int, stream: int = 0) -> np.random.Generator:
        """The random stream of trial ``index`` (``stream`` separates independent uses within one trial)."""
        return np.random.default_rng([self.seed, int(index), int(stream)])

    def trial_seed(self, index: int) -> int:
        """The seed a worker sets before building trial ``index``'s model."""
        return int(self.rng(index, stream=99).integers(0, 2**31 - 1))

    def sampler(self, index: int) -> Callable[[HyperParameter], Any]:
        """How a parameter first registered while building trial ``index`` gets its value."""
        rng = self.rng(index, stream=1)

        def sample(hp: HyperParameter) -> Any:
            if not self.tune_new_entries or isinstance(hp, Fixed):
                return hp.default
            return hp.random_sample(rng)

        return sample

    # -- space --------------------------------------------------------------------------------------------------
    def update_space(self, hyperparameters: HyperParameters) -> None:
        """Add parameters registered by the builder (refused when ``allow_new_entries=False``)."""
        new = [hp for hp in hyperparameters.space if hp.name not in self.hyperparameters]
        if new and not self.allow_new_entries:
            raise RuntimeError(f"The model builder registered new hyperparameters {[hp.name for hp in new]} but the "
                               "oracle was created with allow_new_entries=False.")
        self.hyperparameters.merge(new)

    def tunable(self, hp: HyperParameter) -> bool:
        return not isinstance(hp, Fixed) and (self.tune_new_entries or hp.name in self._fixed_names)

    def fill(self, values: dict, choose: Callable[[HyperParameter], Any]) -> dict:
        """Values for every active parameter in space order: ``choose(hp)`` for tunable ones, else defaults."""
        hp = self.hyperparameters.with_values({})
        for parameter in self.hyperparameters.space:
            if not hp.is_active(parameter):
                continue
            if parameter.name in values:
                hp.values[parameter.name] = values[parameter.name]
            elif self.tunable(parameter):
                hp.values[parameter.name] = parameter.cast(choose(parameter))
            else:
                hp.values[parameter.name] = parameter.default
        return hp.active_values()

    # -- proposals ----------------------------------------------------------------------------------------------
    def propose(self, trials: dict[int, Trial]) -> Proposal | str:
        """The next trial, ``WAIT`` or ``DONE`` (see the module docstring)."""
        index = len(trials)
        if self.max_trials is not None and index >= self.max_trials:
            return DONE
        values = self.propose_values(index, trials)
        if values in (WAIT, DONE):
            return values
        return Proposal(index, values)

    def propose_values(self, index: int, trials: dict[int, Trial]) -> dict | str:
        raise NotImplementedError

    def total_trials(self) -> int | None:
        """How many trials the search will create, when known in advance (for progress lines)."""
        return self.max_trials

    # -- results ------------------------------------------------------------------------------------------------
    def scored(self, trials: dict[int, Trial]) -> list[Trial]:
        """Completed trials with a score, in index order."""
        return [trials[i] for i in sorted(trials) if trials[i].has_score()]

    def get_best_trials(self, trials: dict[int, Trial], num_trials: int = 1) -> list[Trial]:
        """The best completed trials, best first (ties: the earlier trial)."""
        ranked = sorted(self.scored(trials), key=lambda t: (self.objective.sort_key(t.score), t.index))
        return ranked[:num_trials]

    def finished_before(self, trials: dict[int, Trial], index: int) -> bool:
        """Whether every trial with a smaller index has finished."""
        return all(i in trials and trials[i].status in TrialStatus.FINISHED for i in range(index))

    def get_state(self) -> dict:
        """Configuration saved to ``oracle.json`` (the position itself is rebuilt from the trial records)."""
        return {"class_name": type(self).__name__, "seed": self.seed, "max_trials": self.max_trials,
                "objective": None if self.objective is None else self.objective.get_config(),
                "hyperparameters": self.hyperparameters.get_config(), "tune_new_entries": self.tune_new_entries,
                "max_retries_per_trial": self.max_retries_per_trial,
                "max_consecutive_failed_trials": self.max_consecutive_failed_trials}

    def set_state(self, state: dict) -> None:
        """Restore the seed and the space of a saved search (called on resume)."""
        if state.get("class_name") != type(self).__name__:
            raise ValueError(f"The project was created by {state.get('class_name')}, not {type(self).__name__}. "
                             "Use overwrite=True or another project_name.")
        self.seed = int(state["seed"])
        self.hyperparameters.merge(HyperParameters.from_config(state["hyperparameters"]))
