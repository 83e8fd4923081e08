"""Where Population Based Training keeps its members' checkpoints: in memory or in the project directory.

A checkpoint is ``{part: [arrays]}`` (``{"weights": [...], "optimizer": [...]}`` for a Keras member,
``{"state": [...]}`` for a ``train_function``). On disk it is ``trial_XXXX/checkpoint.npz`` with arrays named
``<part>_<i>``, written through a temporary file and ``os.replace`` (a killed run leaves the old file or the new
one, never half of one). Only the checkpoints a later segment can start from are kept: each member's latest
completed segment and the parents of segments that have not finished.

>>> store = CheckpointStore(None)
>>> store.save(0, {"state": [np.ones(2)]}); store.load(0)["state"][0]
array([1., 1.])
"""

from __future__ import annotations

import io
import os

import numpy as np

from featherflow.tuner.pbt.records import Segment
from featherflow.tuner.storage import Project, write_atomic
from featherflow.tuner.trial import Trial, TrialStatus


class CheckpointStore:
    """Checkpoints by trial index.

    Args:
        project: the project whose trial folders hold the files, or None to keep them in memory.
    """

    def __init__(self, project: Project | None):
        self.project = project
        self._memory: dict[int, dict[str, list[np.ndarray]]] = {}

    @property
    def in_memory(self) -> bool:
        return self.project is None

    def _path(self, index: int) -> str:
        return self.project.file(self.project.trial_dir(f"{index:04d}"), "checkpoint.npz")

    def save(self, index: int, checkpoint: dict[str, list]) -> None:
        checkpoint = {part: [np.asarray(a) for a in arrays] for part, arrays in checkpoint.items()}
        if self.in_memory:
            self._memory[index] = checkpoint
            return
        buffer = io.BytesIO()
        np.savez(buffer, **{f"{part}_{i}": a for part, arrays in checkpoint.items() for i, a in enumerate(arrays)})
        write_atomic(self._path(index), buffer.getvalue())

    def has(self, index: int) -> bool:
        return index in self._memory if self.in_memory else os.path.exists(self._path(index))

    def load(self, index: int) -> dict[str, list[np.ndarray]]:
        if self.in_memory:
            if index not in self._memory:
                raise KeyError(f"No checkpoint for trial {index:04d} in memory.")
            return self._memory[index]
        parts: dict[str, dict[int, np.ndarray]] = {}
        with np.load(self._path(index), allow_pickle=False) as archive:
            for key in archive.files:
                part, _, position = key.rpartition("_")
                parts.setdefault(part, {})[int(position)] = archive[key]
        return {part: [arrays[i] for i in range(len(arrays))] for part, arrays in parts.items()}

    def delete(self, index: int) -> None:
        if self.in_memory:
            self._memory.pop(index, None)
        elif os.path.exists(self._path(index)):
            os.remove(self._path(index))

    def stored(self) -> list[int]:
        """Indices of the trials with a stored checkpoint."""
        if self.in_memory:
            return sorted(self._memory)
        indices = []
        for entry in os.listdir(self.project.path):
            if entry.startswith("trial_") and os.path.exists(self.project.file(entry, "checkpoint.npz")):
                indices.append(int(entry[len("trial_"):]))
        return sorted(indices)

    @staticmethod
    def needed(trials: dict[int, Trial], population_size: int | None = None) -> set[int]:
        """Checkpoints a segment may start from: each member's latest completed segment, the parent of every
        segment that has not finished and, in synchronous mode (``population_size`` given), every segment of the
        generation before the one being created."""
        keep: set[int] = set()
        latest: dict[int, int] = {}
        for index in sorted(trials):
            trial = trials[index]
            segment = Segment.of(trial)
            if trial.status == TrialStatus.COMPLETED:
                latest[segment.member] = index
            elif trial.status not in TrialStatus.FINISHED and segment.parent is not None:
                keep.add(segment.parent)
        if population_size:
            previous = len(trials) // population_size - 1
            keep.update(range(previous * population_size, (previous + 1) * population_size) if previous >= 0 else [])
        return keep | set(latest.values())

    def collect_garbage(self, trials: dict[int, Trial], population_size: int | None = None) -> None:
        """Delete the checkpoints no later segment can start from (decided on the trial records as saved)."""
        keep = self.needed(trials, population_size)
        for index in self.stored():
            if index not in keep:
                self.delete(index)
