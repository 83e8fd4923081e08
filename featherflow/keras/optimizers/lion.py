"""``Lion`` (Chen et al., 2023): sign of an interpolated momentum.

::

    var -= lr * sign(beta_1 * m + (1 - beta_1) * g)
    m = beta_2 * m + (1 - beta_2) * g

>>> import featherflow as ff
>>> v = ff.Variable([1.0])
>>> _ = Lion(learning_rate=0.1).apply_gradients([(ff.constant([3.0]), v)])
>>> v.numpy()
array([0.9], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.optimizers.base import Optimizer, check_number


class Lion(Optimizer):
    """EvoLved Sign Momentum.

    Args:
        learning_rate: defaults to 0.0001.
        beta_1: interpolation for the update direction, in ``(0, 1]``. Defaults to 0.9.
        beta_2: momentum decay, in ``[0, 1]``. Defaults to 0.99.
        **kwargs: base arguments.
    """

    _num_work = 1

    def __init__(self, learning_rate=0.0001, beta_1=0.9, beta_2=0.99, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, jit_compile=True, name="Lion",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         jit_compile=jit_compile, **kwargs)
        cls = type(self).__name__
        self.beta_1 = check_number(beta_1, "beta_1", 0, 1, low_open=True, optimizer=cls)
        self.beta_2 = check_number(beta_2, "beta_2", 0, 1, optimizer=cls)

    def _slot_specs(self):
        return [("m", 0.0)]

    def _update_flat(self, params, grads, slots, work, lr):
        m, w = slots["m"], work[0]
        # beta_1 * m + (1 - beta_1) * g == beta_1 * (m - g) + g
        np.subtract(m, grads, out=w)
        w *= self.beta_1
        w += grads
        np.sign(w, out=w)
        w *= lr
        params -= w
        # m = beta_2 * m + (1 - beta_2) * g == m + (1 - beta_2) * (g - m)
        np.subtract(grads, m, out=w)
        w *= 1.0 - self.beta_2
        m += w

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2)
        return config
