"""Explore, the second step of Population Based Training (Jaderberg et al., 2017), as pure functions.

After a member copied a donor (``exploit.py``), **explore** changes the copied hyperparameters. For each mutable
parameter, with probability ``resample_probability`` a new value is drawn from the search space; otherwise it is
perturbed:

- ``Float``: ``value * factor`` with ``factor`` drawn uniformly from ``perturbation_factors`` (default 0.8 or
  1.2), clipped to ``[min_value, max_value]`` and, with a ``step``, moved to the nearest grid value;
- ``Int``: ``round(value * factor)``, clipped (and put on the ``step`` grid). If rounding gives back the old
  value (``round(2 * 1.2) = 2``) it moves one unit (one grid step) in the factor's direction, so small integers
  are not frozen;
- ``Choice`` / ``Boolean``: the neighbouring value in the list, towards a lower index for a factor < 1 and a
  higher one for a factor > 1; at either end of the list, the only neighbour;
- ``Fixed``: unchanged.

>>> from featherflow.tuner import HyperParameters
>>> hp = HyperParameters(); _ = hp.Float("lr", 1e-4, 1.0, sampling="log")
>>> perturb(hp.hyperparameter("lr"), 0.01, 1.2)
0.012
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from featherflow.tuner.hyperparameters import Choice, Fixed, Float, HyperParameter, HyperParameters, Int


def _snap_to_grid(hp: HyperParameter, value: float, current: Any, direction: int) -> Any:
    grid = hp.grid_values()
    if hp.sampling == "linear":
        distances = [abs(float(g) - value) for g in grid]
    else:
        distances = [abs(math.log(float(g)) - math.log(max(value, 1e-300))) for g in grid]
    index = int(np.argmin(distances))
    if grid[index] == current and direction:
        index = min(max(grid.index(current) + direction if current in grid else index, 0), len(grid) - 1)
    return grid[index]


def perturb(hp: HyperParameter, value: Any, factor: float) -> Any:
    """``value`` moved by ``factor`` within ``hp``'s range (see the module docstring for each kind)."""
    direction = 0 if factor == 1 else (1 if factor > 1 else -1)
    if isinstance(hp, Fixed):
        return value
    if isinstance(hp, Choice):  # Boolean too
        if len(hp.values) < 2:
            return value
        index = hp.values.index(value) if value in hp.values else 0
        target = index + (direction or 1)
        if not 0 <= target < len(hp.values):
            target = index - (direction or 1)
        return hp.values[target]
    if isinstance(hp, Float):
        new = min(max(float(value) * factor, hp.min_value), hp.max_value)
        if hp.step is not None:
            return float(_snap_to_grid(hp, new, value, direction))
        return float(new)
    if isinstance(hp, Int):
        new = min(max(int(round(float(value) * factor)), hp.min_value), hp.max_value)
        if hp.step is not None:
            return int(_snap_to_grid(hp, new, value, direction))
        if new == value and direction:
            new = min(max(int(value) + direction, hp.min_value), hp.max_value)
        return int(new)
    raise TypeError(f"Cannot perturb a hyperparameter of type {type(hp).__name__}: {hp!r}")


def explore(values: dict[str, Any], space: HyperParameters, names: list[str], rng: np.random.Generator,
            resample_probability: float = 0.25, perturbation_factors: tuple = (0.8, 1.2)
            ) -> tuple[dict[str, Any], dict[str, dict]]:
    """New values after the explore step, and what changed.

    Args:
        values: the values to start from (the donor's after an exploit).
        space: the search space (``HyperParameter`` objects).
        names: the parameters that may change (the mutable ones); others are copied unchanged.
        rng: the random stream of this step. For each name in order it draws one uniform number (resample or
            not) and, when perturbing, one factor index.
        resample_probability: chance of drawing a fresh value instead of perturbing.
        perturbation_factors: the factors a perturbation multiplies by.

    Returns:
        ``(new_values, changes)`` with ``changes[name] = {"from", "to", "how"}`` for every parameter that was
        explored (``how``: ``"resample"`` or ``"x<factor>"``), even when the value happens to stay the same.
    """
    new_values = dict(values)
    changes: dict[str, dict] = {}
    for name in names:
        if name not in values:
            continue  # inactive (conditional) parameter
        hp = space.hyperparameter(name)
        if isinstance(hp, Fixed):
            continue
        if float(rng.random()) < resample_probability:
            new, how = hp.cast(hp.random_sample(rng)), "resample"
        else:
            factor = float(perturbation_factors[int(rng.integers(len(perturbation_factors)))])
            new, how = perturb(hp, values[name], factor), f"x{factor:g}"
        new_values[name] = new
        changes[name] = {"from": values[name], "to": new, "how": how}
    return new_values, changes
