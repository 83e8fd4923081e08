"""Random search: every tunable parameter drawn independently with its sampling (Bergstra & Bengio, 2012)."""

from __future__ import annotations

from featherflow.tuner.oracles.base import DONE, Oracle, values_key
from featherflow.tuner.trial import Trial


class RandomSearchOracle(Oracle):
    """Draws each trial's values from the trial's own random stream; configurations already tried are drawn
    again (up to ``max_collisions`` times, then the space is taken as exhausted).

    >>> from featherflow.tuner import HyperParameters
    >>> hp = HyperParameters(); _ = hp.Choice("act", ["relu", "tanh"])
    >>> oracle = RandomSearchOracle("loss", max_trials=5, hyperparameters=hp, seed=0)
    >>> trials = {}
    >>> from featherflow.tuner.trial import Trial
    >>> while (p := oracle.propose(trials)) != "DONE":
    ...     trials[p.index] = Trial(p.index, hp.with_values(p.values))
    >>> sorted(t.values["act"] for t in trials.values())
    ['relu', 'tanh']
    """

    def __init__(self, objective=None, max_trials=10, hyperparameters=None, seed=None, max_collisions: int = 100,
                 **kwargs):
        super().__init__(objective, max_trials, hyperparameters, seed=seed, **kwargs)
        self.max_collisions = int(max_collisions)

    def propose_values(self, index: int, trials: dict[int, Trial]) -> dict | str:
        seen = {values_key(t.values) for t in trials.values()}
        rng = self.rng(index)
        for _ in range(self.max_collisions + 1):
            values = self.fill({}, lambda hp: hp.random_sample(rng))
            if values_key(values) not in seen:
                return values
        return DONE
