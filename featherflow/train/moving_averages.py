"""``tf.train.ExponentialMovingAverage``: shadow copies of variables that follow them slowly.

Each ``apply`` moves every shadow ``s`` of a variable ``v`` by ``s -= (1 - decay) * (s - v)``; with
``num_updates`` the decay is ``min(decay, (1 + num_updates) / (10 + num_updates))`` (faster early).
A shadow starts at its variable's value. ``zero_debias`` is accepted as in TensorFlow, where it only
affects the averages of tensors (zero-started, divided by ``1 - decay**t``); the averages of variables,
the only kind featherflow's ``apply`` takes, start at the variable's value and are never debiased.

>>> import featherflow as tf
>>> v = tf.Variable(0.0)
>>> ema = tf.train.ExponentialMovingAverage(decay=0.5)
>>> ema.apply([v]); _ = v.assign(4.0); ema.apply([v])
>>> float(ema.average(v))
2.0
"""

from __future__ import annotations

import numpy as np

from featherflow.core import Variable


class ExponentialMovingAverage:
    """Moving averages of variables.

    Args:
        decay: the decay per ``apply`` (e.g. 0.999).
        num_updates: optional step count (a number or variable) that lowers the decay early in training.
        zero_debias: TensorFlow's flag for the averages of tensors; no effect on variables (see the module docstring).
        name: the prefix of the shadow variables' names.
    """

    def __init__(self, decay, num_updates=None, zero_debias=False, name="ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = bool(zero_debias)
        self._name = name
        self._averages: dict = {}

    @property
    def name(self) -> str:
        return self._name

    def _current_decay(self) -> float:
        decay = float(np.asarray(self._decay.numpy() if hasattr(self._decay, "numpy") else self._decay))
        if self._num_updates is not None:
            steps = float(np.asarray(self._num_updates.numpy() if hasattr(self._num_updates, "numpy")
                                     else self._num_updates))
            decay = min(decay, (1.0 + steps) / (10.0 + steps))
        return decay

    def apply(self, var_list=None) -> None:
        """Create shadows for new variables (a copy of each value) and update all."""
        var_list = list(var_list or [])
        for variable in var_list:
            if not isinstance(variable, Variable) or variable.dtype.kind != "f":
                raise TypeError(f"The variables must be float variables. Received: {variable!r:.80}")
            if id(variable) not in self._averages:
                self._averages[id(variable)] = (variable, Variable(variable.numpy(), trainable=False,
                                                                   name=self.average_name(variable)))
        decay = self._current_decay()
        for variable in var_list:
            _, shadow = self._averages[id(variable)]
            value = variable.numpy().astype(np.float64)
            shadow.assign_sub(((1.0 - decay) * (shadow.numpy() - value)).astype(shadow.dtype))

    def average(self, var):
        """The shadow variable of ``var`` (``None`` if ``apply`` never saw it)."""
        entry = self._averages.get(id(var))
        return None if entry is None else entry[1]

    def average_name(self, var) -> str:
        """The shadow's name: ``<var name>/<ema name>``."""
        return f"{var.name.split(':')[0]}/{self._name}"

    def variables_to_restore(self, moving_avg_variables=None) -> dict:
        """``{shadow name: variable}``: restore the averages into the variables themselves."""
        return {self.average_name(variable): variable for variable, _ in self._averages.values()}

    def _trackable_children(self) -> dict:
        """The shadows, named after their variables (so a ``Checkpoint(ema=ema)`` saves them)."""
        return {self.average_name(variable): shadow for variable, shadow in self._averages.values()}
