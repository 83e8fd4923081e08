"""Hyperband (Li et al., 2018): successive halving over epochs, with KerasTuner's bracket arithmetic.

With ``max_epochs`` and ``factor``: the number of brackets is how many times ``max_epochs`` can be divided by
``factor`` while staying >= 1; bracket ``b`` has ``b + 1`` rounds; round ``r`` of bracket ``b`` trains
``ceil(ceil(1 + log_factor(max_epochs)) / (b + 1) * factor^(b - r))`` models for
``ceil(max_epochs / factor^(b - r))`` epochs, and each round keeps the best of the previous round's models,
continuing their training from their saved weights (``initial_epoch`` = the previous round's epochs). Brackets
run from the most exploratory (most models, fewest epochs) to bracket 0 (plain random search at
``max_epochs``), ``hyperband_iterations`` times over.

The whole schedule is fixed in advance, so trial ``i`` is always the same slot: a round waits for the round
before it, meanwhile later brackets' first rounds may start (the trials' content never depends on timing).

>>> oracle = HyperbandOracle("val_loss", max_epochs=9, factor=3)
>>> [(s["bracket"], s["round"], s["epochs"]) for s in oracle.schedule()][:4]
[(2, 0, 1), (2, 0, 1), (2, 0, 1), (2, 0, 1)]
>>> from collections import Counter
>>> sorted(Counter((s["bracket"], s["round"], s["epochs"]) for s in oracle.schedule()).items())
[((0, 0, 9), 3), ((1, 0, 3), 5), ((1, 1, 9), 2), ((2, 0, 1), 9), ((2, 1, 3), 3), ((2, 2, 9), 1)]
"""

from __future__ import annotations

import math

from featherflow.tuner.oracles.base import DONE, WAIT, Oracle, Proposal, values_key
from featherflow.tuner.trial import Trial, TrialStatus

_SKIP = "SKIP"


class HyperbandOracle(Oracle):
    """Args: ``max_epochs`` (epochs of the longest-trained models), ``factor`` (reduction factor, >= 2),
    ``hyperband_iterations`` (how many times to run all brackets), ``max_trials`` (optional cap on the schedule).
    """

    min_epochs = 1

    def __init__(self, objective=None, max_epochs: int = 100, factor: int = 3, hyperband_iterations: int = 1,
                 seed=None, hyperparameters=None, max_trials: int | None = None, **kwargs):
        super().__init__(objective, max_trials, hyperparameters, seed=seed, **kwargs)
        if int(max_epochs) < 1:
            raise ValueError(f"max_epochs must be >= 1. Received: max_epochs={max_epochs}")
        if int(factor) < 2:
            raise ValueError(f"factor must be >= 2. Received: factor={factor}")
        if int(hyperband_iterations) < 1:
            raise ValueError(f"hyperband_iterations must be >= 1. Received: hyperband_iterations="
                             f"{hyperband_iterations}")
        self.max_epochs, self.factor = int(max_epochs), int(factor)
        self.hyperband_iterations = int(hyperband_iterations)
        self._schedule: list[dict] | None = None

    # -- KerasTuner's arithmetic --------------------------------------------------------------------------------
    def num_brackets(self) -> int:
        epochs, brackets = self.max_epochs, 0
        while epochs >= self.min_epochs:
            epochs = epochs / self.factor
            brackets += 1
        return brackets

    def bracket_size(self, bracket: int, round_: int) -> int:
        """Models trained in ``round_`` of ``bracket``."""
        end_size = math.ceil(1 + math.log(self.max_epochs, self.factor))
        return math.ceil(end_size / (bracket + 1) * self.factor ** (bracket - round_))

    def round_epochs(self, bracket: int, round_: int) -> int:
        """Epochs a model has been trained for at the end of ``round_`` of ``bracket``."""
        return math.ceil(self.max_epochs / self.factor ** (bracket - round_))

    def schedule(self) -> list[dict]:
        """Every slot of the search in order: iteration, bracket, round, rank within the round, epochs."""
        if self._schedule is None:
            slots: list[dict] = []
            for iteration in range(self.hyperband_iterations):
                for bracket in reversed(range(self.num_brackets())):
                    for round_ in range(bracket + 1):
                        for rank in range(self.bracket_size(bracket, round_)):
                            slots.append({"iteration": iteration, "bracket": bracket, "round": round_, "rank": rank,
                                          "epochs": self.round_epochs(bracket, round_),
                                          "initial_epoch": self.round_epochs(bracket, round_ - 1) if round_ else 0})
            for index, slot in enumerate(slots):
                slot["index"] = index
            self._schedule = slots
        return self._schedule

    def _round_members(self, slot: dict, round_: int) -> list[int]:
        return [s["index"] for s in self.schedule() if s["iteration"] == slot["iteration"]
                and s["bracket"] == slot["bracket"] and s["round"] == round_]

    # -- proposals ----------------------------------------------------------------------------------------------
    def propose(self, trials: dict[int, Trial]) -> Proposal | str:
        slots = self.schedule()
        if self.max_trials is not None:
            slots = slots[: self.max_trials]
        # Slots that cannot exist: a first-round slot when the space has no unseen configuration left, a later
        # slot whose rank exceeds the previous round's survivors. Recomputed from the records on every call.
        skipped: set[int] = set()
        waiting = False
        for slot in slots:
            if slot["index"] in trials:
                continue
            proposal = self._fill_slot(slot, trials, skipped)
            if proposal == _SKIP:
                skipped.add(slot["index"])
                continue
            if proposal == WAIT:
                waiting = True
                continue
            return proposal
        return WAIT if waiting else DONE

    def _fill_slot(self, slot: dict, trials: dict[int, Trial], skipped: set) -> Proposal | str:
        info = {k: slot[k] for k in ("iteration", "bracket", "round", "epochs", "initial_epoch")}
        if slot["round"] == 0:
            seen = {values_key({k: v for k, v in trials[i].values.items() if not k.startswith("tuner/")})
                    for i in range(slot["index"]) if i in trials and trials[i].info.get("round") == 0}
            rng = self.rng(slot["index"])
            for _ in range(101):
                values = self.fill({}, lambda hp: hp.random_sample(rng))
                if values_key(values) not in seen:
                    return Proposal(slot["index"], values, info)
            return _SKIP
        previous = [i for i in self._round_members(slot, slot["round"] - 1) if i not in skipped]
        if not all(i in trials and trials[i].status in TrialStatus.FINISHED for i in previous):
            return WAIT
        ranked = sorted(previous, key=lambda i: (0 if trials[i].has_score() else 1,
                                                 self.objective.sort_key(trials[i].score), i))
        if slot["rank"] >= len(ranked):
            return _SKIP
        parent = trials[ranked[slot["rank"]]]
        info["parent_index"] = parent.index
        info["parent_trial_id"] = parent.trial_id
        values = {k: v for k, v in parent.values.items() if not k.startswith("tuner/")}
        return Proposal(slot["index"], values, info)

    def total_trials(self) -> int:
        total = len(self.schedule())
        return total if self.max_trials is None else min(total, self.max_trials)

    def get_state(self) -> dict:
        state = super().get_state()
        state.update(max_epochs=self.max_epochs, factor=self.factor, hyperband_iterations=self.hyperband_iterations)
        return state
