"""The project directory: one JSON record per trial, the oracle's state and the trials' weights.

Layout of ``directory/project_name``::

    oracle.json                 the oracle's configuration and state, the search space
    trial_0000/trial.json       a ``Trial.to_dict()`` record
    trial_0000/weights.npz      the model's weights at its best epoch (arrays ``arr_0``, ``arr_1``, ...)

Every file is written to a temporary file in the same folder and moved into place with ``os.replace``, so a
run killed at any moment leaves either the old or the new file, never half of one.

>>> import tempfile
>>> project = Project(tempfile.mkdtemp(), "demo")
>>> project.write_json("oracle.json", {"seed": 1}); project.read_json("oracle.json")
{'seed': 1}
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import numpy as np

from featherflow.keras.saving.atomic import atomic_write_bytes
from featherflow.tuner.trial import Trial, to_json_value


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace`` (all or nothing); temporaries left by
    a killed run are removed on the next write of the same file (``keras.saving.atomic``)."""
    atomic_write_bytes(path, data)


class Project:
    """Files of one search (``directory/project_name``).

    Args:
        directory: parent folder (default: the current directory, like KerasTuner).
        project_name: the search's folder name.
        overwrite: delete an existing project folder first instead of resuming from it.
    """

    def __init__(self, directory: str | None = None, project_name: str | None = None, overwrite: bool = False):
        self.directory = os.path.abspath(directory or os.getcwd())
        self.project_name = project_name or "untitled_project"
        self.path = os.path.join(self.directory, self.project_name)
        if overwrite and os.path.isdir(self.path):
            shutil.rmtree(self.path)
        os.makedirs(self.path, exist_ok=True)

    def file(self, *parts: str) -> str:
        return os.path.join(self.path, *parts)

    def write_json(self, name: str, obj: Any) -> None:
        write_atomic(self.file(name), json.dumps(to_json_value(obj), indent=1, sort_keys=False).encode())

    def read_json(self, name: str) -> Any:
        with open(self.file(name), "rb") as handle:
            return json.loads(handle.read())

    def exists(self, name: str) -> bool:
        return os.path.exists(self.file(name))

    # -- trials ------------------------------------------------------------------------------------------------
    def trial_dir(self, trial_id: str) -> str:
        return f"trial_{trial_id}"

    def save_trial(self, trial: Trial) -> None:
        self.write_json(os.path.join(self.trial_dir(trial.trial_id), "trial.json"), trial.to_dict())

    def load_trials(self) -> dict[int, Trial]:
        """Every trial record in the project, by index (unreadable leftovers are ignored)."""
        trials: dict[int, Trial] = {}
        if not os.path.isdir(self.path):
            return trials
        for entry in sorted(os.listdir(self.path)):
            record_path = os.path.join(entry, "trial.json")
            if entry.startswith("trial_") and self.exists(record_path):
                trial = Trial.from_dict(self.read_json(record_path))
                trials[trial.index] = trial
        return trials

    def save_weights(self, trial_id: str, weights: list[np.ndarray]) -> None:
        import io

        buffer = io.BytesIO()
        np.savez(buffer, *[np.asarray(w) for w in weights])
        write_atomic(self.file(self.trial_dir(trial_id), "weights.npz"), buffer.getvalue())

    def load_weights(self, trial_id: str) -> list[np.ndarray] | None:
        path = self.file(self.trial_dir(trial_id), "weights.npz")
        if not os.path.exists(path):
            return None
        with np.load(path, allow_pickle=False) as archive:
            return [archive[f"arr_{i}"] for i in range(len(archive.files))]
