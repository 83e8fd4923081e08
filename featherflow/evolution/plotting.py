"""``plot_evolution``: fitness curves of one or more evolution runs (extra ``plot``).

>>> history = {"generation": [1, 2], "best": [1.0, 3.0], "elite": [0.5, 2.0], "mean": [0.0, 1.0],
...            "evaluations": [10, 20], "steps": [100, 200], "time": [0.1, 0.2]}
>>> figure = plot_evolution(history, x="steps")
>>> [line.get_label() for line in figure.axes[0].lines]
['best', 'elite', 'mean']
"""

from __future__ import annotations

import os

import numpy as np

_AXES = {"generation": "generation", "steps": "environment steps", "evaluations": "evaluations",
         "time": "time (s)"}


def _history_of(run) -> dict:
    if isinstance(run, dict):
        return run
    history = getattr(run, "history", None)
    if isinstance(history, dict):
        return history
    raise TypeError("plot_evolution expects an algorithm (GeneticAlgorithm, EvolutionStrategy), its `history` "
                    f"dict, or a dict of them by name. Received: {run!r}")


def plot_evolution(runs, x: str = "generation", keys=("best", "elite", "mean"),
                   filename: str | os.PathLike | None = None, figsize=None, dpi: int = 100, title: str | None = None):
    """Plot ``best``/``elite``/``mean`` fitness against generations, environment steps, evaluations or time.

    Args:
        runs: an algorithm, its ``history`` dict, or ``{"name": algorithm_or_history, ...}`` to compare runs
            (one colour per run, one line style per key).
        x: ``"generation"``, ``"steps"``, ``"evaluations"`` or ``"time"``.
        keys: which curves to draw.
        filename: save the figure there (format from the extension).
        figsize, dpi: figure size in inches and resolution.
        title: the axes' title.

    Returns:
        The matplotlib ``Figure``.
    """
    from featherflow.keras.utils.plotting import _pyplot

    if x not in _AXES:
        raise ValueError(f"x must be one of {sorted(_AXES)}. Received: x={x!r}")
    if isinstance(keys, str):
        keys = (keys,)
    named = isinstance(runs, dict) and not any(k in runs for k in ("best", "elite", "generation"))
    items = list(runs.items()) if named else [(None, runs)]
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=figsize or (7, 4), dpi=dpi)
    styles = ("-", "--", ":", "-.")
    for index, (name, run) in enumerate(items):
        history = _history_of(run)
        missing = [key for key in (x, *keys) if key not in history]
        if missing:
            raise ValueError(f"The history has no {missing}; its keys are {sorted(history)}.")
        xs = np.asarray(history[x], dtype=float)
        color = f"C{index}" if named else None
        for number, key in enumerate(keys):
            label = key if name is None else f"{name} {key}"
            axis.plot(xs, np.asarray(history[key], dtype=float), linestyle=styles[number % len(styles)],
                      color=color, label=label)
    axis.set_xlabel(_AXES[x])
    axis.set_ylabel("fitness")
    if title:
        axis.set_title(title)
    axis.grid(True, alpha=0.3)
    axis.legend()
    figure.tight_layout()
    if filename is not None:
        figure.savefig(os.fspath(filename), dpi=dpi)
    return figure
