"""``Adafactor`` (Shazeer & Stern, 2018): Adam-like steps with factored second moments (memory sublinear in the
size of each weight matrix), as tf.keras 2 implements it.

For a variable ``w`` of rank >= 2 the second moment is kept as row means ``r`` (shape ``w.shape[:-1]``) and
column means ``c`` (``w.shape[:-2] + w.shape[-1:]``); smaller variables keep a full ``v``. With
``t = iterations + 1``::

    rho = min(lr, 1 / sqrt(t))                       (lr itself is min(lr, 1/sqrt(t)) with relative_step)
    alpha = max(epsilon_2, rms(w)) * rho
    beta = 1 - t ** beta_2_decay;  s = g**2 + epsilon_1
    r = beta r + (1 - beta) mean(s, -1);  c = beta c + (1 - beta) mean(s, -2)
    v = (r / mean(r, -1))[..., None] * c[..., None, :]          (full: v = beta v + (1 - beta) s)
    u = g / sqrt(v);  w -= alpha * u / max(1, rms(u) / clip_threshold)

>>> import featherflow as ff
>>> v = ff.Variable([[1.0, 2.0], [3.0, 4.0]])
>>> _ = Adafactor(learning_rate=0.1).apply_gradients([(ff.constant([[1.0, 1.0], [1.0, 1.0]]), v)])
>>> v.numpy().round(4)
array([[0.7261, 1.7261],
       [2.7261, 3.7261]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow import compiler as _compiler
from featherflow.core.variable import Variable
from featherflow.keras.optimizers import schedules as _schedules
from featherflow.keras.optimizers.base import Optimizer


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


class Adafactor(Optimizer):
    """The Adafactor optimizer (see the module docstring).

    Args:
        learning_rate: a float or a schedule (default 0.001).
        beta_2_decay: the exponent of the second-moment decay ``1 - t ** beta_2_decay`` (default -0.8).
        epsilon_1: added to the squared gradients (default 1e-30).
        epsilon_2: the smallest scale of the step relative to the weights' RMS (default 1e-3).
        clip_threshold: the RMS the update is clipped to (default 1.0).
        relative_step: cap a constant learning rate at ``1 / sqrt(t)``.
        **kwargs: base arguments (``weight_decay``, clipping, EMA, ...).
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
                 relative_step=True, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, jit_compile=True, name="Adafactor",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         jit_compile=jit_compile, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step
        self._moments: dict = {}  # id(variable) -> (r, c, v); r and c are None below rank 2

    def _build_variable_list(self, ordered, specs) -> None:
        super()._build_variable_list(ordered, specs)
        for variable in ordered:  # Keras's order: each variable's r and c (rank >= 2), then its v
            moments = self._moments.get(id(variable))
            if moments is None:
                shape, dtype = variable.value.shape, variable.value.dtype
                if len(shape) >= 2:
                    r = Variable(np.zeros(shape[:-1], dtype), trainable=False, name=f"r/{variable.name}")
                    c = Variable(np.zeros(shape[:-2] + shape[-1:], dtype), trainable=False, name=f"c/{variable.name}")
                else:
                    r = c = None
                moments = (r, c, Variable(np.zeros(shape, dtype), trainable=False, name=f"v/{variable.name}"))
                self._moments[id(variable)] = moments
            self._variables.extend(m for m in moments if m is not None)

    def _step_scalars(self, lr, step):
        return lr, step

    def _update_groups(self, plan, scalars) -> None:
        # per variable, with Python scalars (the RMS of the weights and of the update): in a tf.function, one host
        # call that runs at every call of the program, on the step's learning rate and step number; the flat
        # buffers it reads and writes are bound to the program (the gradients are written there before it runs)
        for group, _, _ in plan:
            _compiler.state(group.params, "params")
            _compiler.state(group.grads, "grads")
        _compiler.host_call(self._update_now, plan, *scalars)

    def _update_now(self, plan, lr, step) -> None:
        lr = float(lr)
        if self.relative_step and not isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            lr = min(lr, step ** -0.5)
        rho = min(lr, step ** -0.5)
        beta = 1.0 - step ** self.beta_2_decay
        for group, runs, indices in plan:
            for i, variable in enumerate(group.variables):
                if runs is not None and i not in indices:
                    continue
                self._update_one(variable.value, group.grad_views[i], self._moments[id(variable)], rho, beta)

    def _update_one(self, w, g, moments, rho, beta) -> None:
        r, c, v = moments
        alpha = max(self.epsilon_2, _rms(w)) * rho
        square = np.square(g) + self.epsilon_1
        if r is not None:
            r.value[...] = beta * r.value + (1.0 - beta) * square.mean(axis=-1)
            c.value[...] = beta * c.value + (1.0 - beta) * square.mean(axis=-2)
            v.value[...] = (r.value / r.value.mean(axis=-1, keepdims=True))[..., None] * c.value[..., None, :]
        else:
            v.value[...] = beta * v.value + (1.0 - beta) * square
        update = g / np.sqrt(v.value)
        update /= max(1.0, _rms(update) / self.clip_threshold)
        w -= (alpha * update).astype(w.dtype, copy=False)

    def get_config(self):
        config = super().get_config()
        config.update(beta_2_decay=self.beta_2_decay, epsilon_1=self.epsilon_1, epsilon_2=self.epsilon_2,
                      clip_threshold=self.clip_threshold, relative_step=self.relative_step)
        return config
