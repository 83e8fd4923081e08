"""``Nadam`` (Dozat, 2016): Adam with Nesterov momentum, Keras 2.12's momentum schedule.

With ``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` and ``P_t = u_1 * ... * u_t``::

    m = m + (g - m) * (1 - beta_1)
    v = v + (g**2 - v) * (1 - beta_2)
    m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)
    v_hat = v / (1 - beta_2**t)
    var -= lr * m_hat / (sqrt(v_hat) + epsilon)

>>> import featherflow as ff
>>> v = ff.Variable([1.0])
>>> _ = Nadam(learning_rate=0.1).apply_gradients([(ff.constant([1.0]), v)])
>>> round(float(v.numpy()[0]), 4)
0.8937
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.optimizers.base import Optimizer, check_number


class Nadam(Optimizer):
    """Nesterov-accelerated Adam.

    Args:
        learning_rate: defaults to 0.001.
        beta_1: in ``[0, 1)``. Defaults to 0.9.
        beta_2: in ``[0, 1)``. Defaults to 0.999.
        epsilon: defaults to 1e-7.
        **kwargs: base arguments.
    """

    _num_work = 2

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, jit_compile=True, name="Nadam",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         jit_compile=jit_compile, **kwargs)
        cls = type(self).__name__
        self.beta_1 = check_number(beta_1, "beta_1", 0, 1, high_open=True, optimizer=cls)
        self.beta_2 = check_number(beta_2, "beta_2", 0, 1, high_open=True, optimizer=cls)
        self.epsilon = check_number(epsilon, "epsilon", low=0, optimizer=cls)
        self._u_product = (0, 1.0)  # (step, u_1 * ... * u_step), derived from iterations

    def _slot_specs(self):
        return [("m", 0.0), ("v", 0.0)]

    def _u(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** t)

    def _step_scalars(self, lr, step):
        last, product = self._u_product
        if last != step - 1:  # restored state or a new run: recompute the product from scratch
            product = 1.0
            for t in range(1, step):
                product *= self._u(t)
        u_t, u_next = self._u(step), self._u(step + 1)
        product *= u_t
        self._u_product = (step, product)
        coef_m = u_next / (1.0 - product * u_next)
        coef_g = (1.0 - u_t) / (1.0 - product)
        return lr, coef_m, coef_g, 1.0 / (1.0 - self.beta_2 ** step)

    def _update_flat(self, params, grads, slots, work, scalars):
        lr, coef_m, coef_g, v_scale = scalars
        m, v = slots["m"], slots["v"]
        w, m_hat = work
        np.subtract(grads, m, out=w)
        w *= 1.0 - self.beta_1
        m += w
        np.multiply(grads, grads, out=w)
        w -= v
        w *= 1.0 - self.beta_2
        v += w
        np.multiply(m, coef_m, out=m_hat)
        np.multiply(grads, coef_g, out=w)
        m_hat += w
        np.multiply(v, v_scale, out=w)
        np.sqrt(w, out=w)
        w += self.epsilon
        np.divide(m_hat, w, out=w)
        w *= lr
        params -= w

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config


