"""Grid search: the full cartesian product of every parameter's grid values, in a stable order."""

from __future__ import annotations

import itertools

from featherflow.tuner.oracles.base import DONE, Oracle, values_key
from featherflow.tuner.trial import Trial


class GridSearchOracle(Oracle):
    """Enumerates every combination, the first registered parameter varying slowest (like nested for-loops in
    registration order). Continuous ``Float`` parameters without ``step`` contribute 10 points evenly spaced in
    their sampling scale. Combinations that differ only in inactive (conditional) parameters are tried once.
    The grid is fixed at the first proposal; parameters registered later keep their defaults.

    >>> from featherflow.tuner import HyperParameters
    >>> hp = HyperParameters(); _ = hp.Int("a", 1, 2); _ = hp.Choice("b", ["x", "y"])
    >>> oracle = GridSearchOracle("loss", hyperparameters=hp)
    >>> [list(v.values()) for v in oracle.grid()]
    [[1, 'x'], [1, 'y'], [2, 'x'], [2, 'y']]
    """

    needs_full_space = True

    def __init__(self, objective=None, max_trials=None, hyperparameters=None, seed=None, **kwargs):
        super().__init__(objective, max_trials, hyperparameters, seed=seed, **kwargs)
        self._grid: list[dict] | None = None
        self._grid_names: list[str] | None = None

    def grid(self) -> list[dict]:
        """Every distinct active combination, in order (computed once)."""
        if self._grid is None:
            space = [hp for hp in self.hyperparameters.space if self._grid_names is None or hp.name in
                     self._grid_names]
            self._grid_names = [hp.name for hp in space]
            names = [hp.name for hp in space if self.tunable(hp)]
            axes = [self.hyperparameters.hyperparameter(name).grid_values() for name in names]
            grid, seen = [], set()
            for combination in itertools.product(*axes):
                chosen = dict(zip(names, combination))
                values = self.fill({}, lambda hp, chosen=chosen: chosen.get(hp.name, hp.default))
                key = values_key(values)
                if key not in seen:
                    seen.add(key)
                    grid.append(values)
            self._grid = grid
        return self._grid

    def propose_values(self, index: int, trials: dict[int, Trial]) -> dict | str:
        grid = self.grid()
        return grid[index] if index < len(grid) else DONE

    def total_trials(self) -> int:
        total = len(self.grid())
        return total if self.max_trials is None else min(total, self.max_trials)

    def get_state(self) -> dict:
        state = super().get_state()
        state["grid_names"] = self._grid_names
        return state

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        self._grid_names = state.get("grid_names")
        self._grid = None
