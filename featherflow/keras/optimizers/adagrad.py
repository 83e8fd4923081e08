"""``Adagrad`` (Duchi et al., 2011) with Keras 2.12's update.

::

    acc += g**2
    var -= lr * g / sqrt(acc + epsilon)

>>> import featherflow as ff
>>> v = ff.Variable([1.0])
>>> _ = Adagrad(learning_rate=0.1, initial_accumulator_value=0.0).apply_gradients([(ff.constant([2.0]), v)])
>>> round(float(v.numpy()[0]), 5)
0.9
"""

from __future__ import annotations

import numpy as np

from featherflow.keras.optimizers.base import Optimizer, check_number


class Adagrad(Optimizer):
    """Adaptive per-parameter learning rates from the sum of squared gradients.

    Args:
        learning_rate: defaults to 0.001.
        initial_accumulator_value: starting value of the accumulators (>= 0). Defaults to 0.1.
        epsilon: added inside the square root. Defaults to 1e-7.
        **kwargs: base arguments.
    """

    _num_work = 1

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, jit_compile=True, name="Adagrad",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         jit_compile=jit_compile, **kwargs)
        cls = type(self).__name__
        self.initial_accumulator_value = check_number(initial_accumulator_value, "initial_accumulator_value", low=0,
                                                      optimizer=cls)
        self.epsilon = check_number(epsilon, "epsilon", low=0, optimizer=cls)

    def _slot_specs(self):
        return [("accumulator", self.initial_accumulator_value)]

    def _update_flat(self, params, grads, slots, work, lr):
        acc, w = slots["accumulator"], work[0]
        np.multiply(grads, grads, out=w)
        acc += w
        np.add(acc, self.epsilon, out=w)
        np.sqrt(w, out=w)
        np.divide(grads, w, out=w)
        w *= lr
        params -= w

    def get_config(self):
        config = super().get_config()
        config.update(initial_accumulator_value=self.initial_accumulator_value, epsilon=self.epsilon)
        return config
