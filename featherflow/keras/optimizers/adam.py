"""``Adam`` (Kingma & Ba, 2015, Algorithm 1) with Keras's placement of epsilon.

Update at step ``t`` (1-based)::

    m = m + (g - m) * (1 - beta_1)
    v = v + (g**2 - v) * (1 - beta_2)
    v_hat = max(v_hat, v)                              (amsgrad only; then v := v_hat)
    lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    var -= lr_t * m / (sqrt(v) + epsilon)

>>> import featherflow as ff
>>> v = ff.Variable([1.0])
>>> _ = Adam(learning_rate=0.1).apply_gradients([(ff.constant([5.0]), v)])
>>> v.numpy()  # the first Adam step moves by about lr
array([0.9], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from featherflow import compiler as _compiler
from featherflow.keras.optimizers import _kernels
from featherflow.keras.optimizers.base import Optimizer, check_number
from featherflow.ops.conv_utils import PARALLEL_MIN_WORK, split_batch

_KERNEL_DTYPES = (np.dtype("float32"), np.dtype("float64"))


class Adam(Optimizer):
    """Adaptive moment estimation.

    Args:
        learning_rate: float, schedule or callable. Defaults to 0.001.
        beta_1: decay of the first moment, in ``[0, 1)``. Defaults to 0.9.
        beta_2: decay of the second moment, in ``[0, 1)``. Defaults to 0.999.
        epsilon: added to ``sqrt(v)`` (the "epsilon hat" of the paper). Defaults to 1e-7.
        amsgrad: use the AMSGrad variant (Reddi et al., 2018).
        **kwargs: base arguments (``clipnorm``, ``weight_decay``, ``name``, legacy ``lr``...).
    """

    _num_work = 1

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, jit_compile=True, name="Adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         jit_compile=jit_compile, **kwargs)
        cls = type(self).__name__
        self.beta_1 = check_number(beta_1, "beta_1", 0, 1, high_open=True, optimizer=cls)
        self.beta_2 = check_number(beta_2, "beta_2", 0, 1, high_open=True, optimizer=cls)
        self.epsilon = check_number(epsilon, "epsilon", low=0, optimizer=cls)
        self.amsgrad = bool(amsgrad)

    def _slot_specs(self):
        return [("m", 0.0), ("v", 0.0)] + ([("vhat", 0.0)] if self.amsgrad else [])

    def _slot_blocks(self):
        return [["m", "v"], ["vhat"]]  # Keras: every variable's m and v, then the vhat of each

    def _step_scalars(self, lr, step):
        return lr * math.sqrt(1.0 - self.beta_2 ** step) / (1.0 - self.beta_1 ** step)

    def _kernel_for(self, params):
        """The compiled update for ``params`` (a flat buffer, real or traced), or ``None`` (the NumPy update)."""
        if self.amsgrad or params.dtype not in _KERNEL_DTYPES:
            return None
        if type(params) is not np.ndarray and not _compiler.is_traced(params):
            return None
        return _kernels.get_raw("adam", params.size)

    def _host_update(self, plan) -> bool:
        """In a trace: one host call per flat buffer that computes the step's ``alpha`` (as ``_scalars_now``
        does) and runs the compiled update, when every buffer of a full update has the kernel."""
        if any(runs is not None for _, runs, _ in plan):
            return False
        kernels = [self._kernel_for(group.params) for group, _, _ in plan]
        if not plan or any(k is None for k in kernels):
            return False
        state = _compiler.state
        for (group, _, _), kernel in zip(plan, kernels):
            params, grads = state(group.params, "params"), state(group.grads, "grads")
            m, v = state(group.slots["m"], "m"), state(group.slots["v"], "v")
            _compiler.host_call(_KernelStep(self, kernel, group.params.dtype), params, grads, m, v)
        return True

    def _update_flat(self, params, grads, slots, work, alpha):
        m, v, w = slots["m"], slots["v"], work[0]
        kernel = self._kernel_for(params)
        if kernel is not None:
            # one compiled pass when Numba is installed (large buffers): the same arithmetic; in a tf.function the
            # kernel runs as a host call on the flat buffers at every call (alpha is that call's step scalar)
            args = (kernel, params, grads, m, v, 1.0 - self.beta_1, 1.0 - self.beta_2, self.epsilon, alpha)
            if _compiler.is_traced(params):
                _compiler.host_call(_run_kernel, *args)
            else:
                _run_kernel(*args)
            return
        np.subtract(grads, m, out=w)
        w *= 1.0 - self.beta_1
        m += w
        np.multiply(grads, grads, out=w)
        w -= v
        w *= 1.0 - self.beta_2
        v += w
        if self.amsgrad:
            v = np.maximum(slots["vhat"], v, out=slots["vhat"])
        np.sqrt(v, out=w)
        w += self.epsilon
        np.divide(m, w, out=w)
        w *= alpha
        params -= w

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon, amsgrad=self.amsgrad)
        return config


def _run_kernel(kernel, params, grads, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha) -> None:
    """The compiled Adam update on real flat buffers, its scalars in the buffers' dtype."""
    scalar = params.dtype.type
    b1, b2, eps, a = scalar(one_minus_beta_1), scalar(one_minus_beta_2), scalar(epsilon), scalar(alpha)
    _apply_kernel(kernel, params, grads, m, v, b1, b2, eps, a)


def _apply_kernel(kernel, params, grads, m, v, b1, b2, eps, a) -> None:
    """``kernel`` over the flat buffers, its scalars already in their dtype."""
    size = params.shape[0]
    if size < PARALLEL_MIN_WORK:  # one slice: no thread hand-off to ask about
        kernel(params, grads, m, v, b1, b2, eps, a)
        return
    # elementwise: slices of the buffers in threads (the kernel releases the GIL) give the same values; the
    # text classifier's 656k parameters take ~0.7 ms on one core
    split_batch(lambda lo, hi: kernel(params[lo:hi], grads[lo:hi], m[lo:hi], v[lo:hi], b1, b2, eps, a), size, size)


class _KernelStep:
    """The host call of a traced Adam step on one flat buffer: this call's ``alpha`` from the optimizer's
    learning rate and ``iterations`` (the Python float eager code computes), then the compiled update.

    One host call instead of two (the scalars, then the update) and the constant scalars converted once:
    the seed MLP's step loses ~10 us of Python around a ~40 us kernel."""

    __slots__ = ("optimizer", "kernel", "scalar", "constants")

    def __init__(self, optimizer, kernel, dtype):
        self.optimizer = optimizer
        self.kernel = kernel
        self.scalar = dtype.type
        self.constants = None  # (1 - beta_1, 1 - beta_2, epsilon) in the buffer's dtype, read at the first call

    def __call__(self, params, grads, m, v) -> None:
        opt = self.optimizer
        constants = self.constants
        if constants is None:
            scalar = self.scalar
            constants = self.constants = (scalar(1.0 - opt.beta_1), scalar(1.0 - opt.beta_2), scalar(opt.epsilon))
        alpha = self.scalar(opt._step_scalars(opt._compute_current_learning_rate(), int(opt._iterations.value) + 1))
        _apply_kernel(self.kernel, params, grads, m, v, *constants, alpha)

    __name__ = "_run_kernel"  # the program's listing names the host call as the eager update's
