"""Shared pieces of the fused recurrent ops (``featherflow.ops.recurrent``): activations on raw arrays,
argument checks, time-major views, masking, and the common start of the backward rules.

Layouts: sequences are ``(batch, steps, features)`` at the ops' boundary and time-major ``(steps, batch,
features)`` inside; see ``featherflow/ops/recurrent.py`` for the ops and their formulas.

>>> import numpy as np
>>> z = np.array([-1.0, 1.0], "float32")
>>> _activate("relu", z)  # in place
>>> z.tolist()
[0.0, 1.0]
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.backend.blas import use_threads_for
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor
from featherflow.ops._host import is_traced

# -- activations on raw arrays ------------------------------------------------------------------
# Every fused activation's derivative is a function of its OUTPUT, so the backward rule needs
# only the activated values it stored in the forward pass.
_FUSED = ("tanh", "sigmoid", "relu", "linear", "hard_sigmoid")


def _prescale(name: str) -> float:
    """Sigmoid columns get their pre-activations negated in the weights, so that
    ``sigmoid(z) = 1 / (1 + exp(-z))`` costs one exp and two in-place ops.

    Why not ``0.5 * tanh(z / 2) + 0.5`` (one tanh, two ops): NumPy's float32 ``exp`` is vectorized
    and ``tanh`` much less so on AVX2 (measured on the benchmark machine, a (384, 128) block:
    91 us vs 242 us), and the tanh form loses the relative precision of small sigmoids to
    cancellation (max relative error 3e-3 vs 2e-7 for the exp form, against float64).
    ``exp(-z)`` overflows to ``inf`` for ``z < -88`` and ``1 / inf = 0`` is the right limit: the
    loops run under ``errstate(over="ignore")``."""
    return -1.0 if name == "sigmoid" else 1.0


def _activate(name, z, prescaled=True):
    """Apply activation ``name`` to ``z`` in place (``z`` already negated for a prescaled sigmoid)."""
    xp = array_module(z)
    if name == "tanh":
        xp.tanh(z, out=z)
    elif name == "sigmoid":
        if not prescaled:
            xp.negative(z, out=z)
        xp.exp(z, out=z)
        z += 1
        xp.reciprocal(z, out=z)
    elif name == "relu":
        xp.maximum(z, 0, out=z)
    elif name == "hard_sigmoid":
        z *= 0.2
        z += 0.5
        xp.clip(z, 0, 1, out=z)
    # "linear": nothing to do


def _derivative(name, y):
    """``act'(z)`` written in terms of the output ``y = act(z)``."""
    if name == "tanh":
        return 1 - y * y
    if name == "sigmoid":
        return y * (1 - y)
    if name == "relu":
        return (y > 0).astype(y.dtype)
    if name == "hard_sigmoid":
        return ((y > 0) & (y < 1)).astype(y.dtype) * y.dtype.type(0.2)
    return np.ones((), dtype=y.dtype)


def _check_activation(name, op, arg):
    if name not in _FUSED:
        raise ValueError(f"{op}: `{arg}` must be one of {_FUSED} for the fused kernel (use the layer's per-step "
                         f"path for other activations). Received: {arg}={name!r}")


# -- argument handling ------------------------------------------------------------------------
def _float_input(value, op, arg, dtype=None, shape=None):
    t = as_tensor(value, op, arg)
    if dtype is None:
        if t.value.dtype.kind not in "f":
            raise TypeError(f"{op}: argument `{arg}` must be a floating-point tensor, received dtype "
                            f"{t.dtype.name}. Cast it first: featherflow.cast({arg}, 'float32').")
    elif t.value.dtype != dtype:
        if isinstance(value, Tensor):
            raise TypeError(f"{op}: argument `{arg}` must have dtype {np.dtype(dtype).name} like `inputs`, "
                            f"received {t.dtype.name}. Cast it with featherflow.cast.")
        t = Tensor(t.value.astype(dtype))
    if shape is not None and t.value.shape != shape:
        raise ValueError(f"{op}: argument `{arg}` must have shape {shape}. Received: {arg}.shape={t.value.shape}")
    return t


def _prepare(op, inputs, kernel, recurrent_kernel, bias, bias_shape, states, mask, gates):
    x = _float_input(inputs, op, "inputs")
    if x.value.ndim != 3:
        raise ValueError(f"{op}: `inputs` must be 3-D (batch, timesteps, features). Received: "
                         f"inputs.shape={x.value.shape}")
    dtype = x.value.dtype
    batch, steps, features = x.value.shape
    if steps == 0:
        raise ValueError(f"{op}: `inputs` must have at least one timestep. Received: inputs.shape={x.value.shape}")
    rk = _float_input(recurrent_kernel, op, "recurrent_kernel", dtype)
    if rk.value.ndim != 2 or rk.value.shape[1] != gates * rk.value.shape[0]:
        raise ValueError(f"{op}: `recurrent_kernel` must have shape (units, {gates} * units). Received: "
                         f"recurrent_kernel.shape={rk.value.shape}")
    units = rk.value.shape[0]
    k = _float_input(kernel, op, "kernel", dtype, (features, gates * units))
    b = None if bias is None else _float_input(bias, op, "bias", dtype, bias_shape(units))
    state_tensors = [None if s is None else _float_input(s, op, f"initial_state[{i}]", dtype, (batch, units))
                     for i, s in enumerate(states)]
    mask_array = None
    if mask is not None:
        mask_array = np.asarray(mask.value if isinstance(mask, Tensor) else mask)
        if mask_array.shape != (batch, steps):
            raise ValueError(f"{op}: `mask` must have shape (batch, timesteps) = {(batch, steps)}. Received: "
                             f"mask.shape={mask_array.shape}")
        mask_array = array_module(x.value).asarray(mask_array, dtype=bool)
        if not is_traced(mask_array) and mask_array.all():
            # nothing masked: take the faster unmasked path (a tf.function's trace keeps the masked path, whose
            # results are the same: the mask's values change from call to call)
            mask_array = None
    return x, k, rk, b, state_tensors, mask_array, units


def _steps_view(xv, go_backwards):
    """``(batch, timesteps, ...)`` -> time-major ``(timesteps, batch, ...)`` in processing order (a view):
    every per-step slice is then one contiguous block."""
    tm = xv.swapaxes(0, 1)
    return tm[::-1] if go_backwards else tm


def _from_steps(tm, go_backwards):
    """Inverse of ``_steps_view``: a time-major array in processing order back to ``(batch, timesteps, ...)``."""
    return (tm[::-1] if go_backwards else tm).swapaxes(0, 1)


def _batch_major(xp, tm):
    return xp.ascontiguousarray(tm.swapaxes(0, 1))


def _project(xp, x_steps, weight, bias):
    """One GEMM for every timestep: ``(steps * batch, in) @ (in, k) + bias`` -> ``(steps, batch, k)``."""
    steps, batch, features = x_steps.shape
    x2 = xp.ascontiguousarray(x_steps).reshape(steps * batch, features)
    use_threads_for(steps * batch * features * weight.shape[1])
    proj = x2 @ weight
    if bias is not None:
        proj += bias
    return x2, proj.reshape(steps, batch, weight.shape[1])


def _previous(xp, first, seq):
    """``[first, seq[0], ..., seq[-2]]`` (time-major): the state entering each step."""
    out = xp.empty_like(seq)
    out[0] = first
    out[1:] = seq[:-1]
    return out


def _masked_outputs(xp, states_seq, mask_b, zero_output):
    """Keras's output sequence under a mask: a masked step repeats the previous output (zeros at
    first), or is zero with ``zero_output``. Time-major; ``mask_b[s]`` broadcasts against a step."""
    out = xp.empty_like(states_seq)
    prev = xp.zeros_like(states_seq[0])
    for s in range(states_seq.shape[0]):
        m = mask_b[s]
        cur = out[s]
        if zero_output:
            xp.multiply(states_seq[s], m, out=cur)
        else:
            xp.copyto(cur, prev)
            xp.copyto(cur, states_seq[s], where=m)
            prev = cur
    return out


def _output_grad_fn(xp, mask_b, zero_output, g_seq, g_last, shape, dtype):
    """Returns ``step(s, dh)``: adds the gradient of step ``s``'s output to ``dh`` (the gradient of
    the state ``h_s``), following Keras's masked-output rule backwards in time. ``g_seq`` is
    time-major in processing order, in the layout of the states."""
    if mask_b is None:
        def step(s, dh):
            if g_seq is not None:
                dh += g_seq[s]
        return step
    carry = xp.zeros(shape, dtype=dtype)
    if g_last is not None:
        carry += g_last

    def masked_step(s, dh):
        m = mask_b[s]
        if g_seq is not None:
            carry[...] += g_seq[s]
        dh += carry * m  # unmasked rows: the output is h_s
        if zero_output:
            carry[...] = 0
        else:
            carry[...] *= ~m  # masked rows: the output was the previous output
    return masked_step


def _common_backward_setup(xp, grads, return_sequences, masked, go_backwards, shape, dtype, transposed=False):
    """The output gradients in the kernel's layout: ``(g_seq (time-major, processing order) or None,
    g_last or None, dh = gradient of the final state + (unmasked) the last output)``."""
    g_out = grads[0]
    g_seq = g_last = None
    if g_out is not None and return_sequences:
        g_seq = g_out.swapaxes(0, 1)  # outputs are in processing order already
        if transposed:
            g_seq = xp.ascontiguousarray(g_seq.transpose(0, 2, 1))
    elif g_out is not None:
        g_last = g_out.T if transposed else g_out
    dh = xp.zeros(shape, dtype=dtype)
    if grads[1] is not None:
        dh += grads[1].T if transposed else grads[1]
    if g_last is not None and not masked:
        dh += g_last  # unmasked: the last output is the final state
    return g_seq, g_last, dh


def _op_inputs(x, kernel, recurrent_kernel, optional):
    """``(names, tensors)`` recorded by a recurrent op: inputs, kernel, recurrent kernel, then those of the
    ``(name, tensor)`` pairs in ``optional`` whose tensor is given."""
    names = ["inputs", "kernel", "recurrent_kernel"]
    tensors = [x, kernel, recurrent_kernel]
    for name, t in optional:
        if t is not None:
            names.append(name)
            tensors.append(t)
    return names, tensors


def _collect(needs, index_of, values):
    out = []
    for name, need in zip(index_of, needs):
        out.append(values.get(name) if need else None)
    return tuple(out)
