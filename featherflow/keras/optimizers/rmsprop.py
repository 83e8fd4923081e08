"""``RMSprop`` (Hinton, lecture 6e) with Keras 2.12's update (epsilon inside the square root).

::

    v = rho * v + (1 - rho) * g**2
    a = rho * a + (1 - rho) * g                  (centered only)
    denom = v - a**2 + eps   (centered)   |   v + eps
    inc = lr * g / sqrt(denom)
    mom = momentum * mom + inc; var -= mom       (momentum > 0)   |   var -= inc

>>> import featherflow as ff
>>> v = ff.Variable([1.0])
>>> _ = RMSprop(learning_rate=0.01).apply_gradients([(ff.constant([1.0]), v)])
>>> round(float(v.numpy()[0]), 5)  # 1 - 0.01 / sqrt(0.1)
0.96838
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.optimizers.base import Optimizer, check_number


class RMSprop(Optimizer):
    """Root-mean-square propagation.

    Args:
        learning_rate: defaults to 0.001.
        rho: decay of the squared-gradient average, in ``[0, 1]``. Defaults to 0.9.
        momentum: in ``[0, 1]``. Defaults to 0.
        epsilon: added inside the square root. Defaults to 1e-7.
        centered: normalize by the estimated variance instead of the second moment.
        **kwargs: base arguments (``clipnorm``, ``weight_decay``, ``name``, legacy ``lr``...).
    """

    _num_work = 1

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, jit_compile=True, name="RMSprop",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         jit_compile=jit_compile, **kwargs)
        cls = type(self).__name__
        self.rho = check_number(rho, "rho", 0, 1, optimizer=cls)
        self.momentum = check_number(momentum, "momentum", 0, 1, optimizer=cls)
        self.epsilon = check_number(epsilon, "epsilon", low=0, optimizer=cls)
        self.centered = bool(centered)

    def _slot_specs(self):
        specs = [("velocity", 0.0)]
        if self.momentum > 0:
            specs.append(("momentum", 0.0))
        if self.centered:
            specs.append(("average_gradient", 0.0))
        return specs

    def _slot_blocks(self):
        return [["velocity"], ["momentum"], ["average_gradient"]]  # Keras keeps each kind in its own block

    def _update_flat(self, params, grads, slots, work, lr):
        rho, w = self.rho, work[0]
        v = slots["velocity"]
        v *= rho
        np.multiply(grads, grads, out=w)
        w *= 1.0 - rho
        v += w
        if self.centered:
            a = slots["average_gradient"]
            a *= rho
            np.multiply(grads, 1.0 - rho, out=w)
            a += w
            np.multiply(a, a, out=w)
            np.subtract(v, w, out=w)
            w += self.epsilon
        else:
            np.add(v, self.epsilon, out=w)
        np.sqrt(w, out=w)
        np.divide(grads, w, out=w)
        w *= lr
        if self.momentum > 0:
            mom = slots["momentum"]
            mom *= self.momentum
            mom += w
            params -= mom
        else:
            params -= w

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon, centered=self.centered)
        return config
