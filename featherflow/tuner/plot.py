"""``plot_search(tuner)``: the objective of every trial and the best so far (extra ``plot``)."""

from __future__ import annotations

from typing import Any

from featherflow.tuner.trial import TrialStatus


def plot_search(tuner: Any, ax: Any = None, title: str | None = None):
    """Plot each finished trial's score (failed trials as crosses on the axis) and the best-so-far line.

    Args:
        tuner: any tuner of ``featherflow.tuner`` (after or during ``search``).
        ax: a matplotlib ``Axes`` to draw on (a new figure when None).
        title: the plot's title (default: the objective).

    Returns:
        The matplotlib ``Figure``.
    """
    try:
        import matplotlib

        if ax is None:
            matplotlib.use(matplotlib.get_backend())
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError('plot_search requires matplotlib: pip install "featherflow[plot]"') from error
    objective = tuner.oracle.objective
    if ax is None:
        figure, ax = plt.subplots(figsize=(7, 4))
    else:
        figure = ax.figure
    trials = [t for _, t in sorted(tuner.trials.items()) if t.finished]
    scored = [t for t in trials if t.has_score()]
    failed = [t for t in trials if t.status == TrialStatus.FAILED]
    ax.scatter([t.index for t in scored], [t.score for t in scored], s=18, label="trial")
    best, steps_x, steps_y = None, [], []
    for trial in scored:
        if objective.better(trial.score, best):
            best = trial.score
        steps_x.append(trial.index)
        steps_y.append(best)
    if steps_x:
        ax.step(steps_x, steps_y, where="post", color="C1", label="best so far")
    if failed:
        bottom = min((t.score for t in scored), default=0.0)
        ax.scatter([t.index for t in failed], [bottom] * len(failed), marker="x", color="C3", label="failed")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{objective.name} ({objective.direction})")
    ax.set_title(title or f"{type(tuner).__name__}: {objective.name}")
    ax.legend(loc="best")
    return figure
