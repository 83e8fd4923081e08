"""``AdamW`` (Loshchilov & Hutter, 2019): Adam with decoupled weight decay (default 0.004).

Each step first ``var -= var * weight_decay * lr``, then the Adam update (see ``adam.py``).

>>> import featherflow as ff
>>> v = ff.Variable([1.0])
>>> _ = AdamW(learning_rate=0.1, weight_decay=0.5).apply_gradients([(ff.constant([0.0]), v)])
>>> v.numpy()  # decayed by 1 - 0.5 * 0.1, no gradient step
array([0.95], dtype=float32)
"""

from __future__ import annotations

from featherflow.keras.optimizers.adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay.

    Args:
        learning_rate: defaults to 0.001.
        weight_decay: defaults to 0.004 (must be given; ``None`` is refused).
        beta_1, beta_2, epsilon, amsgrad: as ``Adam``.
        **kwargs: base arguments.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, jit_compile=True, name="AdamW", **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency, jit_compile=jit_compile, name=name,
                         **kwargs)
