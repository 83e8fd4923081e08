"""``plot_population(pbt)``: the objective of every member over training and its hyperparameter schedules.

The first panel has one line per member slot: the objective at the end of each segment. Where a member copied
another one, a dotted line joins the donor's checkpoint (the point it copied) to the member's next score, with a
triangle on the donor's point. One more panel per mutable hyperparameter shows each member's value as a step
function of training time (a log axis for log-sampled parameters; categories by their position in the list).
Needs matplotlib (``pip install "featherflow[plot]"``).
"""

from __future__ import annotations

from typing import Any

from featherflow.tuner.hyperparameters import Choice
from featherflow.tuner.pbt.records import Segment
from featherflow.tuner.trial import TrialStatus


def plot_population(pbt: Any, hyperparameters: list[str] | None = None, figsize: tuple | None = None):
    """Plot a ``PopulationBasedTraining`` run (during or after ``search``).

    Args:
        pbt: the ``PopulationBasedTraining`` tuner.
        hyperparameters: the parameters to plot (default: the mutable ones).
        figsize: the figure's size (default: 8 wide, 3 high per panel).

    Returns:
        The matplotlib ``Figure`` (panels in ``figure.axes``: the objective first, then one per parameter).
    """
    try:
        import matplotlib

        matplotlib.use(matplotlib.get_backend())
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError('plot_population requires matplotlib: pip install "featherflow[plot]"') from error
    names = list(pbt.oracle.mutable if hyperparameters is None else hyperparameters)
    space = pbt.oracle.hyperparameters
    unknown = [name for name in names if name not in space]
    if unknown:
        raise ValueError(f"Unknown hyperparameter(s) {unknown}. The search space has {list(space)}.")
    figure, axes = plt.subplots(1 + len(names), 1, sharex=True, squeeze=False,
                                figsize=figsize or (8, 3 * (1 + len(names))))
    axes = [row[0] for row in axes]
    objective = pbt.oracle.objective
    unit = pbt.interval_unit
    trials = pbt.trials
    for member in range(pbt.population_size):
        color = f"C{member % 10}"
        history = [e for e in pbt.member_history(member) if e["status"] == TrialStatus.COMPLETED
                   and e["score"] is not None]
        axes[0].plot([e["stop"] for e in history], [e["score"] for e in history], "o-", color=color, markersize=3,
                     label=f"member {member}")
        for entry in history:
            if entry["donor"] is None:
                continue
            parent = trials[Segment.of(trials[entry["trial"]]).parent]
            if parent.score is None:
                continue
            copied_at = Segment.of(parent).stop
            axes[0].plot([copied_at, entry["stop"]], [parent.score, entry["score"]], ":", color=color)
            axes[0].plot([copied_at], [parent.score], "v", color=color, markersize=6)
        segments = [e for e in pbt.member_history(member) if e["status"] == TrialStatus.COMPLETED]
        for ax, name in zip(axes[1:], names):
            points = [(e["start"], e["values"].get(name)) for e in segments if name in e["values"]]
            if not points:
                continue
            hp = space.hyperparameter(name)
            to_y = (lambda v, hp=hp: hp.values.index(v)) if isinstance(hp, Choice) else float
            xs = [x for x, _ in points] + [segments[-1]["stop"]]
            ys = [to_y(v) for _, v in points]
            ax.step(xs, ys + ys[-1:], where="post", color=color)
    axes[0].set_ylabel(f"{objective.name} ({objective.direction})")
    axes[0].set_title(f"Population Based Training: {pbt.population_size} members")
    axes[0].legend(loc="best", fontsize="small", ncol=2)
    for ax, name in zip(axes[1:], names):
        hp = space.hyperparameter(name)
        ax.set_ylabel(name)
        if isinstance(hp, Choice):
            ax.set_yticks(range(len(hp.values)), [str(v) for v in hp.values])
        elif getattr(hp, "sampling", "linear") == "log":
            ax.set_yscale("log")
    axes[-1].set_xlabel(unit)
    figure.tight_layout()
    return figure
