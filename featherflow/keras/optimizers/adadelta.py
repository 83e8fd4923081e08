"""``Adadelta`` (Zeiler, 2012) with Keras 2.12's update.

::

    Eg = rho * Eg + (1 - rho) * g**2
    delta = -sqrt(Ed + eps) / sqrt(Eg + eps) * g
    Ed = rho * Ed + (1 - rho) * delta**2
    var += lr * delta

>>> import featherflow as ff
>>> v = ff.Variable([1.0])
>>> _ = Adadelta(learning_rate=1.0).apply_gradients([(ff.constant([1.0]), v)])
>>> round(float(v.numpy()[0]), 5)  # 1 - sqrt(1e-7) / sqrt(0.05 + 1e-7)
0.99859
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.optimizers.base import Optimizer, check_number


class Adadelta(Optimizer):
    """Adaptive learning rates from running averages of squared gradients and squared updates.

    Args:
        learning_rate: defaults to 0.001 (Keras's default; the paper uses 1.0).
        rho: decay rate, in ``[0, 1]``. Defaults to 0.95.
        epsilon: defaults to 1e-7.
        **kwargs: base arguments.
    """

    _num_work = 2

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, jit_compile=True, name="Adadelta",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         jit_compile=jit_compile, **kwargs)
        cls = type(self).__name__
        self.rho = check_number(rho, "rho", 0, 1, optimizer=cls)
        self.epsilon = check_number(epsilon, "epsilon", low=0, optimizer=cls)

    def _slot_specs(self):
        return [("accumulated_grad", 0.0), ("accumulated_delta_var", 0.0)]

    def _update_flat(self, params, grads, slots, work, lr):
        rho, eps = self.rho, self.epsilon
        eg, ed = slots["accumulated_grad"], slots["accumulated_delta_var"]
        w, delta = work
        eg *= rho
        np.multiply(grads, grads, out=w)
        w *= 1.0 - rho
        eg += w
        np.add(ed, eps, out=delta)
        np.sqrt(delta, out=delta)
        np.add(eg, eps, out=w)
        np.sqrt(w, out=w)
        np.divide(delta, w, out=delta)
        delta *= grads
        np.negative(delta, out=delta)
        ed *= rho
        np.multiply(delta, delta, out=w)
        w *= 1.0 - rho
        ed += w
        delta *= lr
        params += delta

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, epsilon=self.epsilon)
        return config
