"""Exploit and explore, the two steps of Population Based Training (Jaderberg et al., 2017), as pure functions.

**Exploit** decides whether a member abandons its own weights for those of a better member (its *donor*):

- *truncation*: rank the population by score; a member in the bottom ``quantile_fraction`` copies a member drawn
  uniformly from the top ``quantile_fraction``. The quantile holds ``ceil(P * quantile_fraction)`` members, at
  most ``floor(P / 2)`` (so top and bottom never overlap) and at least 1.
- *tournament*: a member draws ``tournament_size - 1`` other members uniformly (without replacement) and copies
  the best of them if it is strictly better (``tournament_size=2`` is the paper's binary tournament).

A member without a score (its last segment failed) always copies a donor: it has no weights of its own to keep.

**Explore** changes the copied hyperparameters. For each mutable parameter, with probability
``resample_probability`` a new value is drawn from the search space; otherwise it is perturbed:

- ``Float``: ``value * factor`` with ``factor`` drawn uniformly from ``perturbation_factors`` (default 0.8 or
  1.2), clipped to ``[min_value, max_value]`` and, with a ``step``, moved to the nearest grid value;
- ``Int``: ``round(value * factor)``, clipped (and put on the ``step`` grid). If rounding gives back the old
  value (``round(2 * 1.2) = 2``) it moves one unit (one grid step) in the factor's direction, so small integers
  are not frozen;
- ``Choice`` / ``Boolean``: the neighbouring value in the list, towards a lower index for a factor < 1 and a
  higher one for a factor > 1; at either end of the list, the only neighbour;
- ``Fixed``: unchanged.

>>> from featherflow.tuner import HyperParameters, Objective
>>> hp = HyperParameters(); _ = hp.Float("lr", 1e-4, 1.0, sampling="log")
>>> perturb(hp.hyperparameter("lr"), 0.01, 1.2)
0.012
>>> quantile_size(8, 0.25), quantile_size(3, 0.5)
(2, 1)
>>> choose_donor(0, {0: 0.9, 1: 0.1, 2: 0.5, 3: 0.4}, Objective("loss", "min"), "truncation",
...              np.random.default_rng(0))
1
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from featherflow.tuner.hyperparameters import Choice, Fixed, Float, HyperParameter, HyperParameters, Int
from featherflow.tuner.objective import Objective

EXPLOIT_METHODS = ("truncation", "tournament")


def quantile_size(population: int, fraction: float) -> int:
    """Members in the top (and in the bottom) quantile: ``ceil(P * fraction)``, within ``[1, floor(P / 2)]``."""
    if population < 2:
        return 0
    return max(1, min(math.ceil(population * fraction - 1e-12), population // 2))


def rank_members(scores: dict[int, float | None], objective: Objective) -> list[int]:
    """Members best first (ties: the lower member id; members without a score last)."""
    return sorted(scores, key=lambda m: (objective.sort_key(scores[m]), m))


def _has_score(score: Any) -> bool:
    return score is not None and not (isinstance(score, float) and math.isnan(score))


def choose_donor(member: int, scores: dict[int, float | None], objective: Objective, method: str,
                 rng: np.random.Generator, quantile_fraction: float = 0.25, tournament_size: int = 2) -> int | None:
    """The member that ``member`` copies (exploit), or None if it keeps its own weights.

    Args:
        member: the member deciding.
        scores: the population's current scores (``None``: no usable score), ``member`` included.
        objective: says which score is better.
        method: ``"truncation"`` or ``"tournament"``.
        rng: the random stream of this decision.
        quantile_fraction: truncation's quantile.
        tournament_size: members in a tournament, ``member`` included (>= 2).
    """
    if method not in EXPLOIT_METHODS:
        raise ValueError(f"exploit must be one of {EXPLOIT_METHODS}. Received: exploit={method!r}")
    scored = [m for m in rank_members(scores, objective) if _has_score(scores[m]) and m != member]
    if not scored:
        return None
    own_score = scores.get(member)
    if method == "truncation":
        ranked = rank_members(scores, objective)
        count = quantile_size(len(ranked), quantile_fraction)
        top = [m for m in ranked[:count] if _has_score(scores[m])]
        if member in top:
            return None
        if _has_score(own_score) and member not in ranked[len(ranked) - count:]:
            return None
        candidates = [m for m in top if m != member] or scored[:1]
        return int(candidates[int(rng.integers(len(candidates)))])
    others = [m for m in sorted(scores) if m != member]
    size = min(max(int(tournament_size), 2) - 1, len(others))
    drawn = [others[int(i)] for i in rng.choice(len(others), size=size, replace=False)]
    best = rank_members({m: scores[m] for m in drawn}, objective)[0]
    if not _has_score(own_score):
        # No weights of its own: copy the best drawn member, or any scored one if every drawn member failed too.
        return int(best) if _has_score(scores[best]) else int(scored[int(rng.integers(len(scored)))])
    return int(best) if objective.better(scores[best], own_score) else None


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
