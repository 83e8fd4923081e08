"""``Adamax`` (Kingma & Ba, 2015, Section 7.1): Adam with the infinity norm, Keras's epsilon placement.

::

    m = m + (g - m) * (1 - beta_1)
    u = max(beta_2 * u, |g|)
    var -= lr * m / ((1 - beta_1**t) * (u + epsilon))

>>> import featherflow as ff
>>> v = ff.Variable([1.0])
>>> _ = Adamax(learning_rate=0.1).apply_gradients([(ff.constant([2.0]), v)])
>>> v.numpy()
array([0.9], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.optimizers.base import Optimizer, check_number


class Adamax(Optimizer):
    """Adam variant based on the infinity norm.

    Args:
        learning_rate: defaults to 0.001.
        beta_1: in ``[0, 1)``. Defaults to 0.9.
        beta_2: in ``[0, 1)``. Defaults to 0.999.
        epsilon: added to ``u``. Defaults to 1e-7.
        **kwargs: base arguments.
    """

    _num_work = 1

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, jit_compile=True, name="Adamax",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         jit_compile=jit_compile, **kwargs)
        cls = type(self).__name__
        self.beta_1 = check_number(beta_1, "beta_1", 0, 1, high_open=True, optimizer=cls)
        self.beta_2 = check_number(beta_2, "beta_2", 0, 1, high_open=True, optimizer=cls)
        self.epsilon = check_number(epsilon, "epsilon", low=0, optimizer=cls)

    def _slot_specs(self):
        return [("m", 0.0), ("u", 0.0)]

    def _step_scalars(self, lr, step):
        return lr / (1.0 - self.beta_1 ** step)

    def _update_flat(self, params, grads, slots, work, scale):
        m, u, w = slots["m"], slots["u"], work[0]
        np.subtract(grads, m, out=w)
        w *= 1.0 - self.beta_1
        m += w
        u *= self.beta_2
        np.abs(grads, out=w)
        np.maximum(u, w, out=u)
        np.add(u, self.epsilon, out=w)
        np.divide(m, w, out=w)
        w *= scale
        params -= w

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config
