"""The records of a Population Based Training run: a segment as the oracle decided it, as a worker trains it, and
what the worker sends back.

* ``Segment``: one member, one interval - the decisions written into the trial record when the segment is
  created (``trial.info``, JSON), so that a killed run resumes from the records alone.
* ``SegmentTask``: what a worker needs besides the values and the checkpoint (the interval, its unit, the seed).
* ``SegmentResult``: the worker's ``TrialResult`` plus the member's new checkpoint.

>>> segment = Segment(member=1, generation=2, start=10, stop=15, parent=4, donor=3, donor_trial=7,
...                   changes={"lr": {"from": 0.1, "to": 0.12, "how": "x1.2"}})
>>> Segment.from_info(segment.to_info()) == segment
True
"""

from __future__ import annotations

import dataclasses

from featherflow.tuner.trial import Trial, TrialResult


@dataclasses.dataclass(frozen=True)
class Segment:
    """A member's training from step ``start`` to ``stop`` (epochs or steps), as the oracle decided it.

    Attributes:
        member: the member slot.
        generation: the member's segment count before this one.
        start, stop: the interval.
        parent: the trial whose checkpoint it starts from (None: a freshly built model).
        donor: the member it copied at its start (exploit), or None when it kept its own weights.
        donor_trial: the donor's trial copied, or None.
        changes: what explore changed, ``{name: {"from", "to", "how"}}``.
    """

    member: int
    generation: int
    start: int
    stop: int
    parent: int | None = None
    donor: int | None = None
    donor_trial: int | None = None
    changes: dict = dataclasses.field(default_factory=dict)

    def to_info(self) -> dict:
        """The segment as a trial's ``info`` (plain JSON)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_info(cls, info: dict) -> Segment:
        """The segment recorded in a trial's ``info``."""
        return cls(member=int(info["member"]), generation=int(info["generation"]), start=int(info["start"]),
                   stop=int(info["stop"]), parent=None if info.get("parent") is None else int(info["parent"]),
                   donor=None if info.get("donor") is None else int(info["donor"]),
                   donor_trial=None if info.get("donor_trial") is None else int(info["donor_trial"]),
                   changes=dict(info.get("changes") or {}))

    @classmethod
    def of(cls, trial: Trial) -> Segment:
        """The segment of a PBT trial."""
        return cls.from_info(trial.info)


@dataclasses.dataclass(frozen=True)
class SegmentTask:
    """The interval a worker trains and how: ``start`` to ``stop`` in ``unit`` (``"epochs"`` or ``"steps"``),
    seeded with ``seed``; ``parent_score`` is the score of the checkpoint it starts from (reported as the
    segment's score when the interval is empty: a member that copied one already at the end)."""

    start: int
    stop: int
    unit: str
    seed: int
    parent_score: float | None = None


@dataclasses.dataclass
class SegmentResult(TrialResult):
    """A segment's ``TrialResult`` and the member's checkpoint at its end: ``{"weights", "optimizer"}`` (Keras
    members) or ``{"state"}`` (``train_function`` members), lists of NumPy arrays."""

    checkpoint: dict | None = None
