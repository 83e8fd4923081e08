"""How an optimizer takes part in ``tf.train.Checkpoint``: its children and its deferred slot restore.

Children are ``iter`` (the iteration count) and ``vars/<i>`` for the slot variables in
``optimizer.variables`` order. Slots exist only once the optimizer is built (first
``apply_gradients``); values saved for them before then wait in the optimizer's pending state
(``set_state`` before ``build``) and are assigned when the slots are created.

>>> from featherflow import keras
>>> sorted(keras.optimizers.Adam()._trackable_children())
['iter']
"""

from __future__ import annotations


class TrackableOptimizer:
    """Mixin of ``Optimizer``: the checkpoint protocol (``_trackable_children``, ``_restore_deferred``)."""

    def _trackable_children(self) -> dict:
        """``{"iter": iterations, "vars/<i>": slot variable}``."""
        variables = list(self._variables)
        return {"iter": self._iterations, **{f"vars/{i}": v for i, v in enumerate(variables[1:], 1)}}

    def _restore_deferred(self, values: dict) -> bool:
        """Keep checkpointed slot values (``{"vars/<i>": array}``) until ``build`` creates the slots."""
        slots = [values.get(f"vars/{i}") for i in range(1, len(values) + 1)]
        if self._built or not slots or any(value is None for value in slots):
            return False
        self.set_state([self._iterations.numpy()] + slots)
        return True
