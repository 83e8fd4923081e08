"""An optimizer's state as arrays: ``variables``, ``get_state``/``set_state`` (and the legacy
``get_weights``/``set_weights``), Keras v3's ``save_own_variables``/``load_own_variables``, and pickling
(flat buffers and their views are rebuilt on the other side). A mixin of ``Optimizer`` (``base.py``), which
owns ``_variables``, ``_iterations``, ``_built``, ``build`` and the flat-buffer fields named here.

>>> import numpy as np
>>> import featherflow as ff
>>> from featherflow import keras
>>> opt = keras.optimizers.SGD(momentum=0.9)
>>> v = ff.Variable(np.ones(2, "float32"))
>>> _ = opt.apply_gradients([(np.ones(2, "float32"), v)])
>>> [a.shape for a in opt.get_state()]
[(), (2,)]
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import to_numpy
from featherflow.core.tensor import Tensor


class CallableList(list):
    """A list that returns itself when called (Keras 2.12's ``optimizer.variables()``)."""

    def __call__(self):
        return self


class OptimizerState:
    """The state methods of ``Optimizer`` (see the module docstring)."""

    # -- state ----------------------------------------------------------------------------------
    @property
    def variables(self) -> CallableList:
        """``[iterations, slot variables...]`` (callable too, as in Keras 2.12)."""
        return CallableList(self._variables)

    def get_state(self) -> list:
        """The optimizer's state as NumPy arrays (copies), in ``variables`` order."""
        return [np.array(to_numpy(v.value), copy=True) for v in self._variables]

    def set_state(self, state) -> None:
        """Restore ``get_state()`` output. Before ``build``, the state is kept and applied when the
        optimizer is built with the same variables."""
        state = [np.asarray(to_numpy(s.value) if isinstance(s, Tensor) else s) for s in state]
        if not self._built and len(state) > 1:
            self._pending_state = state
            self._iterations.value[...] = int(state[0])
            return
        if len(state) != len(self._variables):
            raise ValueError(f"Optimizer '{self.name}' has {len(self._variables)} state arrays but {len(state)} were "
                             f"given. The optimizer must be built with the same variables as the one whose state was "
                             f"saved.")
        for v, s in zip(self._variables, state):
            if tuple(s.shape) != tuple(v.value.shape):
                raise ValueError(f"Optimizer state for '{v.name}' has shape {tuple(v.value.shape)}; received "
                                 f"an array of shape {tuple(s.shape)}.")
        for v, s in zip(self._variables, state):
            v.value[...] = s

    def get_weights(self) -> list:
        """Alias of ``get_state`` (the legacy Keras name)."""
        return self.get_state()

    def set_weights(self, weights) -> None:
        """Alias of ``set_state`` (the legacy Keras name)."""
        self.set_state(weights)

    def save_own_variables(self, store) -> None:
        """Write the state into a dict-like ``store`` under keys ``"0"``, ``"1"``, ... (Keras v3 saving)."""
        for i, arr in enumerate(self.get_state()):
            store[str(i)] = arr

    def load_own_variables(self, store) -> None:
        """Read the state written by ``save_own_variables``."""
        self.set_state([store[str(i)] for i in range(len(store.keys()))])

    # -- copying and pickling ---------------------------------------------------------------------
    _BUFFER_FIELDS = ("_groups", "_index", "_variables", "_slot_lookup", "_scratch")

    def __getstate__(self):
        """Flat buffers and views do not survive pickling/deepcopy as views: ship the variables and
        the state arrays instead and rebuild the buffers on the other side."""
        state = {k: v for k, v in self.__dict__.items() if k not in self._BUFFER_FIELDS}
        state["_built"] = False
        if self._built:
            state["_rebuild"] = ([v for g in self._groups for v in g.variables], self.get_state())
        return state

    def __setstate__(self, state):
        state = dict(state)
        rebuild = state.pop("_rebuild", None)
        self.__dict__.update(state)
        self._groups, self._index, self._slot_lookup, self._scratch = [], {}, {}, {}
        self._variables = [self._iterations]
        self._built = False
        if rebuild is not None:
            variables, arrays = rebuild
            self.build(variables)
            self.set_state(arrays)
