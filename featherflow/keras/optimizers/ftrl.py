"""``Ftrl`` (McMahan et al., 2013), Keras 2.12's dense update with shrinkage and ``beta``.

::

    l2 = l2_regularization_strength + beta / (2 * lr)
    g_s = g + 2 * l2_shrinkage_regularization_strength * var
    n_new = n + g**2
    z += g_s - (n_new**(-p) - n**(-p)) / lr * var              (p = learning_rate_power)
    quadratic = n_new**(-p) / lr + 2 * l2
    var = (clip(z, -l1, l1) - z) / quadratic
    n = n_new

>>> import featherflow as ff
>>> v = ff.Variable([0.0])
>>> _ = Ftrl(learning_rate=0.1, initial_accumulator_value=0.0).apply_gradients([(ff.constant([1.0]), v)])
>>> round(float(v.numpy()[0]), 5)
-0.1
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.optimizers.base import Optimizer, check_number


class Ftrl(Optimizer):
    """Follow The Regularized Leader.

    Args:
        learning_rate: defaults to 0.001.
        learning_rate_power: <= 0. Defaults to -0.5.
        initial_accumulator_value: >= 0. Defaults to 0.1.
        l1_regularization_strength, l2_regularization_strength: >= 0. Default 0.
        l2_shrinkage_regularization_strength: >= 0 (an L2 penalty on the loss). Default 0.
        beta: defaults to 0.
        **kwargs: base arguments.
    """

    _num_work = 2

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, jit_compile=True, name="Ftrl",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         jit_compile=jit_compile, **kwargs)
        cls = type(self).__name__
        self.learning_rate_power = check_number(learning_rate_power, "learning_rate_power", high=0, optimizer=cls)
        self.initial_accumulator_value = check_number(initial_accumulator_value, "initial_accumulator_value", low=0,
                                                      optimizer=cls)
        self.l1_regularization_strength = check_number(l1_regularization_strength, "l1_regularization_strength",
                                                       low=0, optimizer=cls)
        self.l2_regularization_strength = check_number(l2_regularization_strength, "l2_regularization_strength",
                                                       low=0, optimizer=cls)
        self.l2_shrinkage_regularization_strength = check_number(
            l2_shrinkage_regularization_strength, "l2_shrinkage_regularization_strength", low=0, optimizer=cls)
        self.beta = float(beta)

    def _slot_specs(self):
        return [("accumulator", self.initial_accumulator_value), ("linear", 0.0)]

    def _update_flat(self, params, grads, slots, work, lr):
        n, z = slots["accumulator"], slots["linear"]
        w, pw_new = work
        power = -self.learning_rate_power
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        l1 = self.l1_regularization_strength
        # z += g + 2*shrink*var - (n_new^power - n^power) / lr * var
        np.power(n, power, out=w)
        np.multiply(grads, grads, out=pw_new)
        n += pw_new
        np.power(n, power, out=pw_new)
        np.subtract(pw_new, w, out=w)
        w *= params
        w *= 1.0 / lr
        z -= w
        z += grads
        if self.l2_shrinkage_regularization_strength:
            np.multiply(params, 2.0 * self.l2_shrinkage_regularization_strength, out=w)
            z += w
        # var = (clip(z, -l1, l1) - z) / (n_new^power / lr + 2 * l2)
        pw_new *= 1.0 / lr
        pw_new += 2.0 * l2
        np.clip(z, -l1, l1, out=w)
        w -= z
        np.divide(w, pw_new, out=params)

    def get_config(self):
        config = super().get_config()
        config.update(learning_rate_power=self.learning_rate_power,
                      initial_accumulator_value=self.initial_accumulator_value,
                      l1_regularization_strength=self.l1_regularization_strength,
                      l2_regularization_strength=self.l2_regularization_strength,
                      l2_shrinkage_regularization_strength=self.l2_shrinkage_regularization_strength, beta=self.beta)
        return config
