"""The records that travel between an evolution run and its workers: what to score, and the scores.

An ``EvaluationRequest`` describes a block of individuals by what a worker needs to rebuild their parameter
vectors - seed genomes (GA), noise offsets and signs around a centre (ES), or the parameters themselves - plus
where they sit in the population (``positions``, which fix shared-input batching), which episodes they play
(``seed_keys``, ``task_seed``, ``episodes``) and the observation filter. The run splits a request into chunks
(``chunk``), a worker (``featherflow.evolution.worker.evaluate_task``) answers each chunk with an
``EvaluationResult``, and the run joins the answers again (``EvaluationResult.concatenate``). Both are plain
picklable data, so any executor of ``featherflow.distribute`` carries them.

>>> request = EvaluationRequest("genomes", positions=[0, 1, 2], seed_keys=[0, 1, 2], task_seed=7, episodes=1,
...                             genomes=[(1,), (2,), (3,)])
>>> [part.genomes for part in (request.chunk(0, 2), request.chunk(2, 3))]
[[(1,), (2,)], [(3,)]]
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

KINDS = ("genomes", "perturbations", "params")


@dataclasses.dataclass
class EvaluationRequest:
    """A block of individuals to score (see the module docstring).

    Attributes:
        kind: ``"genomes"`` (``genomes``: seed tuples decoded by the worker), ``"perturbations"`` (``theta``
            plus ``sigma * sign * noise[offset]`` per individual; sign 0 is ``theta`` itself) or ``"params"``
            (``params``: the ``(P, n)`` vectors).
        positions: each individual's place in the population.
        seed_keys: each individual's key for its episodes' seeds (antithetic pairs share one).
        task_seed: the seed of this evaluation (with ``seed_keys`` it fixes every episode).
        episodes: episodes (or batches) per individual.
        observation_filter: the observation normaliser of reinforcement-learning fitness, or None.
    """

    kind: str
    positions: list
    seed_keys: list
    task_seed: int
    episodes: int
    genomes: list | None = None
    theta: np.ndarray | None = None
    sigma: float = 0.0
    offsets: list | None = None
    signs: list | None = None
    params: np.ndarray | None = None
    observation_filter: Any = None

    PER_INDIVIDUAL = ("positions", "seed_keys", "genomes", "offsets", "signs", "params")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown evaluation request kind {self.kind!r}; expected one of {KINDS}.")

    def __len__(self) -> int:
        return len(self.positions)

    def chunk(self, start: int, stop: int) -> EvaluationRequest:
        """The individuals ``start:stop`` as a request of their own (the shared fields are kept)."""
        sliced = {name: getattr(self, name)[start:stop] for name in self.PER_INDIVIDUAL
                  if getattr(self, name) is not None}
        return dataclasses.replace(self, **sliced)


@dataclasses.dataclass
class EvaluationResult:
    """The scores of a request's individuals.

    Attributes:
        scores: ``(P,)`` float64.
        steps: ``(P,)`` int64 environment steps (or examples) spent on each.
        observation_stats: per-individual observation sums ``(count, sum, sum_of_squares)`` for reinforcement
            learning with observation normalisation, else None.
        pid: the process that computed it (None once joined).
    """

    scores: np.ndarray
    steps: np.ndarray
    observation_stats: tuple | None = None
    pid: int | None = None

    @classmethod
    def concatenate(cls, parts: list) -> EvaluationResult:
        """The results of a request's chunks, in chunk order, as one."""
        stats = None
        if parts[0].observation_stats is not None:
            stats = tuple(np.concatenate([p.observation_stats[k] for p in parts]) for k in range(3))
        scores = np.concatenate([p.scores for p in parts]).astype(np.float64, copy=False)
        return cls(scores, np.concatenate([p.steps for p in parts]), stats)
