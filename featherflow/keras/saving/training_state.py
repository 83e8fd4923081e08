"""Random state as JSON, so a resumed run draws exactly the numbers an uninterrupted run would have.

Captured: featherflow's global generator (``featherflow.backend.random``; NumPy's
``bit_generator.state`` is a plain dict of ints), every ``numpy.random.Generator`` held by a layer
of the model (seeded Dropout, noise layers...), NumPy's legacy global state and Python's ``random``
(``keras.utils.set_random_seed`` seeds all three). Restoring validates every field.

>>> from featherflow.backend import random as ff_random
>>> from featherflow.keras.saving.training_state import capture_random_state, restore_random_state
>>> ff_random.set_seed(3); state = capture_random_state()
>>> a = ff_random.generator().random()
>>> restore_random_state(state); a == ff_random.generator().random()
True
"""

from __future__ import annotations

import random as py_random

import numpy as np

from featherflow.keras.saving.errors import InvalidArchiveError


def _generator_state(generator: np.random.Generator) -> dict:
    return generator.bit_generator.state


def _set_generator_state(generator: np.random.Generator, state, what: str) -> None:
    if not isinstance(state, dict) or state.get("bit_generator") != generator.bit_generator.state["bit_generator"]:
        raise InvalidArchiveError(f"The saved random state for {what} does not match its generator type.")
    try:
        generator.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise InvalidArchiveError(f"The saved random state for {what} is malformed: {e}") from e


def _layer_generators(model) -> dict:
    """``{"path:attr": Generator}`` for every Generator attribute of the model's layers."""
    from featherflow.keras.saving.weights_io import walk

    found: dict = {}
    if model is None:
        return found

    def visit(obj, path):
        for attr, value in sorted(vars(obj).items()):
            if isinstance(value, np.random.Generator):
                found[f"{path}:{attr}"] = value

    walk(model, visit)
    return found


def capture_random_state(model=None) -> dict:
    """All random state relevant to training ``model``, as JSON-ready data."""
    from featherflow.backend import random as ff_random

    legacy = np.random.get_state()
    py_version, py_internal, py_gauss = py_random.getstate()
    return {
        "featherflow": {"seed": ff_random._state["seed"], "counter": ff_random._state["counter"],
                        "generator": _generator_state(ff_random.generator())},
        "layers": {key: _generator_state(gen) for key, gen in _layer_generators(model).items()},
        "numpy_legacy": [legacy[0], legacy[1].tolist(), int(legacy[2]), int(legacy[3]), float(legacy[4])],
        "python": [py_version, list(py_internal), py_gauss],
    }


def restore_random_state(state: dict, model=None) -> None:
    """Put back what ``capture_random_state`` recorded (layers matched by path)."""
    from featherflow.backend import random as ff_random

    if not isinstance(state, dict):
        raise InvalidArchiveError("The saved random state must be a JSON object.")
    ff = state.get("featherflow")
    if isinstance(ff, dict):
        seed, counter = ff.get("seed"), ff.get("counter", 0)
        if seed is not None and not isinstance(seed, int) or not isinstance(counter, int):
            raise InvalidArchiveError("The saved featherflow seed/counter must be integers.")
        _set_generator_state(ff_random.generator(), ff.get("generator"), "featherflow's global generator")
        ff_random._state["seed"] = seed
        ff_random._state["counter"] = counter
    layers = state.get("layers") or {}
    if not isinstance(layers, dict):
        raise InvalidArchiveError("The saved layer random states must be a JSON object.")
    for key, gen in _layer_generators(model).items():
        if key in layers:
            _set_generator_state(gen, layers[key], f"layer generator {key!r}")
    legacy = state.get("numpy_legacy")
    if legacy is not None:
        try:
            keys = np.asarray(legacy[1], dtype=np.uint32)
            np.random.set_state((str(legacy[0]), keys, int(legacy[2]), int(legacy[3]), float(legacy[4])))
        except (TypeError, ValueError, IndexError, OverflowError) as e:
            raise InvalidArchiveError(f"The saved NumPy random state is malformed: {e}") from e
    python = state.get("python")
    if python is not None:
        try:
            py_random.setstate((int(python[0]), tuple(int(x) for x in python[1]),
                                None if python[2] is None else float(python[2])))
        except (TypeError, ValueError, IndexError, OverflowError) as e:
            raise InvalidArchiveError(f"The saved Python random state is malformed: {e}") from e
