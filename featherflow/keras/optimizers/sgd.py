"""``SGD``: gradient descent with optional (Nesterov) momentum, Keras 2.12 formulas.

Update (``g`` the gradient, ``lr`` the learning rate, ``mu`` the momentum)::

    m = mu * m - lr * g
    var += m                         (plain momentum)
    var += mu * m - lr * g           (nesterov=True)
    var -= lr * g                    (momentum=0)

>>> import featherflow as ff
>>> v = ff.Variable([1.0])
>>> _ = SGD(learning_rate=0.5, momentum=0.9).apply_gradients([(ff.constant([1.0]), v)])
>>> v.numpy()
array([0.5], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.optimizers.base import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent.

    Args:
        learning_rate: float, schedule or callable. Defaults to 0.01.
        momentum: in ``[0, 1]``; 0 is plain gradient descent.
        nesterov: use Nesterov momentum.
        **kwargs: base arguments (``clipnorm``, ``weight_decay``, ``name``, legacy ``lr``...).
    """

    _num_work = 1

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, jit_compile=True, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         jit_compile=jit_compile, **kwargs)
        if not isinstance(momentum, (int, float)) or isinstance(momentum, bool) or not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _slot_specs(self):
        return [("m", 0.0)] if self.momentum else []

    def _update_flat(self, params, grads, slots, work, lr):
        w = work[0]
        np.multiply(grads, lr, out=w)
        if not self.momentum:
            params -= w
            return
        m, mu = slots["m"], self.momentum
        m *= mu
        m -= w
        if self.nesterov:
            params -= w
            np.multiply(m, mu, out=w)
            params += w
        else:
            params += m

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config
