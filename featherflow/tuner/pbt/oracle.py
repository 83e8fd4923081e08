"""The oracle of Population Based Training: which member trains next, from which checkpoint, with which values.

A PBT run is a sequence of *segments* (``records.Segment``). Each segment is one trial record of the tuner's
machinery: member ``member`` trains from step ``start`` to ``stop`` (epochs or steps) starting from the
checkpoint of trial ``parent`` (None: a freshly built model), with the trial's values. When the segment ends its
score is compared with the population's (exploit, ``exploit.py``) and the next segment's values are explored
(``explore.py``).

- **synchronous**: segment ``index`` is member ``index % P`` of generation ``index // P``; generation ``g + 1``
  waits until generation ``g`` has finished, and its decisions use the scores of generation ``g`` only. The run
  is then a pure function of the seed: 1 or 20 workers give the same schedules.
- **asynchronous** (the paper's default): a member goes on as soon as its own segment has finished, comparing
  its score with the latest score of every other member still training (as in Ray Tune, members that have
  finished are neither ranked nor copied). No member waits, but with several workers the decisions depend on
  which segments happen to have finished. With one worker it is deterministic too.

When explore switches a conditional parent (``kind`` ``"a"`` -> ``"b"``), the parameters that become active get
a value drawn from the space and those that become inactive are dropped; both are recorded in ``changes``.

Every decision is written into the trial record (``trial.info``, ``Segment.to_info()``) when the segment is
created (``parent``, ``donor``, the explored ``changes``), so a killed run resumes from the records alone.

>>> from featherflow.tuner import HyperParameters
>>> hp = HyperParameters(); _ = hp.Float("lr", 1e-3, 1.0, sampling="log")
>>> oracle = PBTOracle("loss", population_size=2, perturbation_interval=5, hyperparameters=hp, seed=0,
...                    synchronous=True, mutable=["lr"])
>>> oracle.total = 10
>>> p = oracle.propose({}); segment = Segment.from_info(p.info)
>>> (p.index, segment.member, segment.start, segment.stop, segment.parent)
(0, 0, 0, 5, None)
"""

from __future__ import annotations

from typing import Any

from featherflow.tuner.oracles.base import DONE, WAIT, Oracle, Proposal
from featherflow.tuner.pbt.exploit import EXPLOIT_METHODS, choose_donor
from featherflow.tuner.pbt.explore import explore
from featherflow.tuner.pbt.records import Segment
from featherflow.tuner.trial import Trial, TrialStatus


class PBTOracle(Oracle):
    """Schedules the segments of a Population Based Training run (see the module docstring).

    Args:
        objective: the metric compared between members.
        population_size: members trained side by side (>= 2).
        perturbation_interval: length of a segment, in the tuner's unit (epochs or steps).
        quantile_fraction, resample_probability, perturbation_factors, exploit, tournament_size: see
            ``featherflow.tuner.pbt.exploit`` and ``featherflow.tuner.pbt.explore``.
        synchronous: generations in lockstep (reproducible) or members independent (no waiting).
        mutable: names of the parameters that explore may change; the others are copied on exploit only.
        hyperparameters, seed, max_retries_per_trial, max_consecutive_failed_trials: as for every ``Oracle``.
    """

    def __init__(self, objective: Any = "val_loss", population_size: int = 8, perturbation_interval: int = 1,
                 quantile_fraction: float = 0.25, resample_probability: float = 0.25,
                 perturbation_factors: tuple = (0.8, 1.2), exploit: str = "truncation", tournament_size: int = 2,
                 synchronous: bool = False, mutable: list[str] | None = None, hyperparameters=None,
                 seed: int | None = None, max_retries_per_trial: int = 2,
                 max_consecutive_failed_trials: int | None = None):
        population_size = int(population_size)
        if population_size < 2:
            raise ValueError(f"population_size must be >= 2. Received: population_size={population_size}")
        if int(perturbation_interval) < 1:
            raise ValueError(f"perturbation_interval must be a positive integer. Received: "
                             f"perturbation_interval={perturbation_interval!r}")
        if not 0 < float(quantile_fraction) <= 0.5:
            raise ValueError(f"quantile_fraction must be in (0, 0.5]. Received: quantile_fraction={quantile_fraction}")
        if not 0 <= float(resample_probability) <= 1:
            raise ValueError(f"resample_probability must be in [0, 1]. Received: "
                             f"resample_probability={resample_probability}")
        factors = tuple(float(f) for f in perturbation_factors)
        if not factors or any(f <= 0 for f in factors):
            raise ValueError(f"perturbation_factors must be positive numbers. Received: "
                             f"perturbation_factors={perturbation_factors!r}")
        if exploit not in EXPLOIT_METHODS:
            raise ValueError(f"exploit must be one of {EXPLOIT_METHODS}. Received: exploit={exploit!r}")
        if int(tournament_size) < 2:
            raise ValueError(f"tournament_size must be >= 2. Received: tournament_size={tournament_size}")
        super().__init__(objective, None, hyperparameters, seed=seed, max_retries_per_trial=max_retries_per_trial,
                         max_consecutive_failed_trials=max_consecutive_failed_trials or population_size)
        self.population_size = population_size
        self.perturbation_interval = int(perturbation_interval)
        self.quantile_fraction = float(quantile_fraction)
        self.resample_probability = float(resample_probability)
        self.perturbation_factors = factors
        self.exploit = exploit
        self.tournament_size = int(tournament_size)
        self.synchronous = bool(synchronous)
        self.mutable = list(mutable or [])
        #: Length of training per member (set by the tuner's ``search``).
        self.total: int | None = None

    # -- helpers ------------------------------------------------------------------------------------------------
    def generations(self) -> int:
        """Segments per member: ``ceil(total / perturbation_interval)``."""
        return -(-int(self.total) // self.perturbation_interval)

    def total_trials(self) -> int | None:
        """Segments of the whole run (exact in synchronous mode; copies may change it in asynchronous mode)."""
        return None if self.total is None else self.generations() * self.population_size

    def _segment_end(self, start: int) -> int:
        return min(start + self.perturbation_interval, int(self.total))

    @staticmethod
    def by_member(trials: dict[int, Trial]) -> dict[int, list[Trial]]:
        """Each member's segments in creation order."""
        members: dict[int, list[Trial]] = {}
        for index in sorted(trials):
            members.setdefault(Segment.of(trials[index]).member, []).append(trials[index])
        return members

    def _score(self, trial: Trial | None) -> float | None:
        return trial.score if trial is not None and trial.has_score() else None

    def _first(self, index: int, member: int) -> Proposal:
        rng = self.rng(index)
        values = self.fill({}, lambda hp: hp.random_sample(rng))
        return Proposal(index, values, Segment(member, 0, 0, self._segment_end(0)).to_info())

    def _next(self, index: int, member: int, generation: int, latest: dict[int, Trial]) -> Proposal:
        """The member's next segment, given every member's latest finished segment (``latest[member]`` its own)."""
        scores = {m: self._score(t) for m, t in latest.items()}
        if not any(score is not None for score in scores.values()):
            raise RuntimeError("Every member of the population failed: no checkpoint left to continue from. "
                               "See the trials' error messages (tuner.trials[i].message).")
        own = latest[member]
        donor = choose_donor(member, scores, self.objective, self.exploit, self.rng(index, stream=2),
                             self.quantile_fraction, self.tournament_size)
        changes: dict = {}
        if donor is None:
            source, values = own, dict(own.values)
        else:
            source = latest[donor]
            values, changes = explore(dict(source.values), self.hyperparameters, self.mutable,
                                      self.rng(index, stream=3), self.resample_probability,
                                      self.perturbation_factors)
            values = self._conditions_applied(values, changes, self.rng(index, stream=4))
        start = Segment.of(source).stop
        segment = Segment(member, generation, start, self._segment_end(start), parent=source.index,
                          donor=None if donor is None else int(donor),
                          donor_trial=None if donor is None else source.index, changes=changes)
        return Proposal(index, values, segment.to_info())

    def _conditions_applied(self, values: dict, changes: dict, rng) -> dict:
        """``values`` with the parameters an explored parent switched on (drawn from ``rng``, recorded in
        ``changes`` as ``"activated"``) and without the ones it switched off (``"deactivated"``)."""
        active = self.fill(values, lambda hp: hp.random_sample(rng))
        for name in active:
            if name not in values:
                changes[name] = {"from": None, "to": active[name], "how": "activated"}
        for name in values:
            if name not in active:  # "from": the copied value, also when explore had perturbed it
                changes[name] = {"from": changes.get(name, {"from": values[name]})["from"], "to": None,
                                 "how": "deactivated"}
        return active

    def _finished(self, trial: Trial) -> bool:
        return trial.has_score() and Segment.of(trial).stop >= int(self.total)

    # -- proposals ----------------------------------------------------------------------------------------------
    def propose(self, trials: dict[int, Trial]) -> Proposal | str:
        if self.total is None:
            raise RuntimeError("PBTOracle.total (training length per member) must be set before proposing.")
        if self.synchronous:
            return self._propose_synchronous(trials)
        return self._propose_asynchronous(trials)

    def _propose_synchronous(self, trials: dict[int, Trial]) -> Proposal | str:
        index = len(trials)
        generation, member = divmod(index, self.population_size)
        if generation >= self.generations():
            return DONE
        if generation == 0:
            return self._first(index, member)
        previous = [trials.get((generation - 1) * self.population_size + m) for m in range(self.population_size)]
        if any(t is None or t.status not in TrialStatus.FINISHED for t in previous):
            return WAIT
        return self._next(index, member, generation, dict(enumerate(previous)))

    def _propose_asynchronous(self, trials: dict[int, Trial]) -> Proposal | str:
        index = len(trials)
        members = self.by_member(trials)
        for member in range(self.population_size):
            if member not in members:
                return self._first(index, member)
        ready, running = [], False
        for member, segments in members.items():
            last = segments[-1]
            if last.status not in TrialStatus.FINISHED:
                running = True
                continue
            if not self._finished(last):
                segment = Segment.of(last)
                ready.append((segment.stop if last.has_score() else segment.start, member))
        # Compared with every member's latest finished segment (a member still in its first segment is left out)
        # except the members that have finished training, as in Ray Tune's PBT: copying one would leave nothing
        # to train (a zero-length segment), and a final score is no measure for a member still training.
        latest = {}
        for other, segments in members.items():
            finished = [t for t in segments if t.status in TrialStatus.FINISHED]
            if finished:
                latest[other] = finished[-1]
        for _, member in sorted(ready):
            peers = {m: t for m, t in latest.items() if m == member or not self._finished(t)}
            if any(t.has_score() for t in peers.values()):
                return self._next(index, member, len(members[member]), peers)
        # Left: members whose last segment failed, with no member still training to copy from (they end there).
        return WAIT if running else DONE

    # -- state --------------------------------------------------------------------------------------------------
    def get_state(self) -> dict:
        state = super().get_state()
        state.update(population_size=self.population_size, perturbation_interval=self.perturbation_interval,
                     synchronous=self.synchronous, exploit=self.exploit, mutable=self.mutable, total=self.total)
        return state

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        for key in ("population_size", "perturbation_interval", "synchronous"):
            if key in state and state[key] != getattr(self, key):
                raise ValueError(f"The project was created with {key}={state[key]!r}, not {getattr(self, key)!r}. "
                                 "Use overwrite=True or another project_name.")
        if self.total is None and state.get("total") is not None:
            self.total = int(state["total"])
