"""Checkpoints of an evolution run: a JSON state plus an ``.npz`` of arrays, both written atomically.

Layout of a checkpoint directory::

    evolution.json            the state (generation, random generator, genomes, history, ...); names its arrays
    arrays-000012.npz         the arrays of that generation (ES centre, optimizer slots, observation statistics)

The arrays are written first under a new name, then the JSON that points at them replaces the old JSON
(``os.replace``), then older array files are removed. A process killed at any moment leaves either the old
or the new checkpoint complete.

>>> import tempfile, numpy as np
>>> directory = tempfile.mkdtemp()
>>> save_checkpoint(directory, {"generation": 3}, {"theta": np.arange(3.0)})
>>> state, arrays = load_checkpoint(directory)
>>> state["generation"], arrays["theta"].tolist()
(3, [0.0, 1.0, 2.0])
"""

from __future__ import annotations

import io
import json
import os

import numpy as np

from featherflow.keras.saving.atomic import atomic_open

STATE_FILE = "evolution.json"


def save_checkpoint(directory: str, state: dict, arrays: dict) -> None:
    """Write ``state`` (JSON-ready) and ``arrays`` (name -> ndarray) into ``directory`` atomically."""
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    name = f"arrays-{int(state.get('generation', 0)):06d}.npz"
    buffer = io.BytesIO()
    np.savez(buffer, **{key: np.asarray(value) for key, value in arrays.items()})
    with atomic_open(os.path.join(directory, name), "wb") as handle:
        handle.write(buffer.getvalue())
    state = dict(state, arrays=name)
    with atomic_open(os.path.join(directory, STATE_FILE), "w") as handle:
        json.dump(state, handle)
    for entry in os.listdir(directory):
        if entry.startswith("arrays-") and entry.endswith(".npz") and entry != name:
            try:
                os.unlink(os.path.join(directory, entry))
            except OSError:
                pass


def load_checkpoint(directory: str):
    """``(state, arrays)`` from ``directory``, or None when it holds no checkpoint."""
    path = os.path.join(os.fspath(directory), STATE_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        state = json.load(handle)
    arrays = {}
    name = state.get("arrays")
    if name:
        with np.load(os.path.join(os.fspath(directory), name), allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    return state, arrays
