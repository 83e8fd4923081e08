"""The GRU and SimpleRNN sequence ops and the per-step helpers of ``featherflow.ops.recurrent`` (re-exported
there; see that module for the layouts, masking and ``go_backwards`` rules shared with ``lstm``).

>>> import numpy as np
>>> out, h = gru(np.ones((2, 3, 4), "float32"), np.zeros((4, 6), "float32"), np.zeros((2, 6), "float32"))
>>> out.shape, h.shape
((2, 3, 2), (2, 2))
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.tape import record_multi
from featherflow.ops._convert import as_tensor
from featherflow.ops._host import on_host
from featherflow.ops._rnn_common import (
    _activate,
    _batch_major,
    _check_activation,
    _collect,
    _common_backward_setup,
    _derivative,
    _from_steps,
    _masked_outputs,
    _op_inputs,
    _output_grad_fn,
    _prepare,
    _prescale,
    _previous,
    _project,
    _steps_view,
)


# -- GRU (reset_after=True) ---------------------------------------------------------------------
def gru(inputs, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None, go_backwards=False,
        return_sequences=True, zero_output_for_mask=False, activation="tanh", recurrent_activation="sigmoid"):
    """A whole GRU sequence as one op, Keras's ``reset_after=True`` variant (Cho et al., 2014, v3).

    Per step, with gates ``[z, r, h]`` in Keras's column order and ``bias = [input_bias, recurrent_bias]``::

        xz, xr, xh = x_t @ kernel + input_bias
        rz, rr, rh = h_{t-1} @ recurrent_kernel + recurrent_bias
        z = recurrent_activation(xz + rz);  r = recurrent_activation(xr + rr)
        hh = activation(xh + r * rh);       h_t = z * h_{t-1} + (1 - z) * hh

    Args:
        inputs: ``(batch, timesteps, features)``.
        kernel: ``(features, 3 * units)``; recurrent_kernel: ``(units, 3 * units)``; bias: ``(2, 3 * units)`` or None.
        initial_state: ``[h0]`` or None. Other arguments as in ``lstm``.

    Returns:
        ``(outputs, h)``.

    >>> import numpy as np
    >>> out, h = gru(np.ones((1, 4, 2), "float32"), np.ones((2, 3), "float32"), np.zeros((1, 3), "float32"))
    >>> out.shape
    (1, 4, 1)
    """
    _check_activation(activation, "gru", "activation")
    _check_activation(recurrent_activation, "gru", "recurrent_activation")
    h0 = list(initial_state)[0] if initial_state is not None and len(initial_state) else None
    x, k, rk, b, (h0,), mask_array, units = _prepare(
        "gru", inputs, kernel, recurrent_kernel, bias, lambda u: (2, 3 * u), [h0], mask, 3)
    config = (go_backwards, return_sequences, zero_output_for_mask, activation, recurrent_activation)
    arrays = (x.value, k.value, rk.value, None if b is None else b.value, None if h0 is None else h0.value, mask_array)
    outputs, h_last, *saved = on_host(_gru_forward, arrays, config)
    names, tensors = _op_inputs(x, k, rk, (("bias", b), ("h0", h0)))

    def backward(grads, needs):
        return on_host(_gru_backward, tuple(grads), tuple(needs), tuple(names), arrays, tuple(saved), config)

    return tuple(record_multi("gru", tensors, [outputs, h_last], backward))


def _gru_forward(arrays, config):
    """The array work of ``gru`` (a run of ``on_host``): ``(outputs, h, h_seq, zr_seq, hh_seq, rh_seq, h_init,
    x2)``, the last ones saved for the backward rule."""
    xv, kv, rkv, bv, h0v, mask_array = arrays
    go_backwards, return_sequences, zero_output_for_mask, activation, recurrent_activation = config
    units = rkv.shape[0]
    xp = array_module(xv)
    dtype = xv.dtype
    batch, steps, features = xv.shape
    u = units
    scale = np.concatenate([np.full(2 * u, _prescale(recurrent_activation)), np.full(u, _prescale(activation))])
    scale = xp.asarray(scale, dtype=dtype)
    # recurrent_h is multiplied by r before the activation, so only the z and r columns of the
    # recurrent projection may be prescaled; the h columns of the input projection are.
    h_scale = _prescale(activation)
    rec_scale = scale.copy()
    rec_scale[2 * u:] = 1
    x_steps = _steps_view(xv, go_backwards)
    mask_b = None if mask_array is None else _steps_view(mask_array, go_backwards)[:, :, None]
    x2, proj = _project(xp, x_steps, kv * scale, None if bv is None else bv[0] * scale)
    u_scaled = rkv * rec_scale
    rec_bias = None if bv is None else bv[1] * rec_scale
    h_seq = xp.empty((steps, batch, u), dtype=dtype)
    zr_seq = xp.empty((steps, batch, 2 * u), dtype=dtype)
    hh_seq = xp.empty((steps, batch, u), dtype=dtype)
    rh_seq = xp.empty((steps, batch, u), dtype=dtype)
    h_prev = xp.zeros((batch, u), dtype=dtype) if h0v is None else h0v
    h_init = h_prev
    inner = xp.empty((batch, 3 * u), dtype=dtype)
    with np.errstate(over="ignore"):  # exp(-z) of a sigmoid may overflow: 1 / inf = 0
        for s in range(steps):
            xp.dot(h_prev, u_scaled, out=inner)
            if rec_bias is not None:
                inner += rec_bias
            zr = zr_seq[s]
            xp.add(proj[s, :, :2 * u], inner[:, :2 * u], out=zr)
            _activate(recurrent_activation, zr)
            rh_seq[s] = inner[:, 2 * u:]
            hh = hh_seq[s]
            xp.multiply(zr[:, u:], inner[:, 2 * u:], out=hh)
            if h_scale != 1:
                hh *= h_scale  # the h columns' prescale, applied after the reset gate
            hh += proj[s, :, 2 * u:]
            _activate(activation, hh)
            h = h_seq[s]
            xp.subtract(h_prev, hh, out=h)
            h *= zr[:, :u]
            h += hh
            if mask_b is not None:
                xp.copyto(h, h_prev, where=~mask_b[s])
            h_prev = h
    out_steps = h_seq if mask_b is None else _masked_outputs(xp, h_seq, mask_b, zero_output_for_mask)
    outputs = _batch_major(xp, out_steps) if return_sequences else out_steps[-1]
    return outputs, h_seq[-1], h_seq, zr_seq, hh_seq, rh_seq, h_init, x2


def _gru_backward(grads, needs, names, arrays, saved, config):
    """The gradients of ``gru`` (a run of ``on_host``) from the forward's saved arrays."""
    xv, kv, rkv, bv, h0v, mask_array = arrays
    go_backwards, return_sequences, zero_output_for_mask, activation, recurrent_activation = config
    xp = array_module(xv)
    dtype = xv.dtype
    batch, steps, features = xv.shape
    u = rkv.shape[0]
    mask_b = None if mask_array is None else _steps_view(mask_array, go_backwards)[:, :, None]
    h_seq, zr_seq, hh_seq, rh_seq, h_init, x2 = saved
    g_seq, g_last, dh = _common_backward_setup(xp, grads, return_sequences, mask_b is not None, go_backwards,
                                               (batch, u), dtype)
    add_output_grad = _output_grad_fn(xp, mask_b, zero_output_for_mask, g_seq, g_last, (batch, u), dtype)
    z_g, r_g = zr_seq[..., :u], zr_seq[..., u:]
    h_before = _previous(xp, h_init, h_seq)
    # Step-independent factors for all timesteps at once:
    # d(pre hh) = dh * p_hh;  d(pre z) = dh * p_z;  d(pre r) = d(pre hh) * p_r.
    p_hh = (1 - z_g) * _derivative(activation, hh_seq)
    p_z = (h_before - hh_seq) * _derivative(recurrent_activation, z_g)
    p_r = rh_seq * _derivative(recurrent_activation, r_g)
    d_inner = xp.empty((steps, batch, 3 * u), dtype=dtype)  # gradient of h_{t-1} @ U + b_rec
    d_xh = xp.empty((steps, batch, u), dtype=dtype)  # gradient of the input projection's h block
    rk_t = xp.ascontiguousarray(rkv.T)
    for s in range(steps - 1, -1, -1):
        add_output_grad(s, dh)
        dxh = d_xh[s]
        di = d_inner[s]
        xp.multiply(dh, p_hh[s], out=dxh)
        xp.multiply(dh, p_z[s], out=di[:, :u])
        xp.multiply(dxh, p_r[s], out=di[:, u:2 * u])
        xp.multiply(dxh, r_g[s], out=di[:, 2 * u:])
        if mask_b is not None:
            m = mask_b[s]
            dxh *= m
            di *= m
            dh = xp.where(m, dh * z_g[s] + di @ rk_t, dh)
        else:
            dh = dh * z_g[s] + di @ rk_t
    di2 = d_inner.reshape(steps * batch, 3 * u)
    dx_proj = xp.concatenate([d_inner[..., :2 * u], d_xh], axis=-1).reshape(steps * batch, 3 * u)
    values = {}
    if needs[0]:
        dx = (dx_proj @ kv.T).reshape(steps, batch, features)
        values["inputs"] = _from_steps(dx, go_backwards)
    if needs[1]:
        values["kernel"] = x2.T @ dx_proj
    if needs[2]:
        values["recurrent_kernel"] = h_before.reshape(steps * batch, u).T @ di2
    if "bias" in names and needs[names.index("bias")]:
        values["bias"] = xp.stack([dx_proj.sum(axis=0), di2.sum(axis=0)])
    values["h0"] = dh
    return _collect(needs, names, values)


# -- SimpleRNN ------------------------------------------------------------------------------------
def simple_rnn(inputs, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None, go_backwards=False,
               return_sequences=True, zero_output_for_mask=False, activation="tanh"):
    """A whole Elman RNN sequence as one op: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Args:
        inputs: ``(batch, timesteps, features)``; kernel ``(features, units)``; recurrent_kernel
            ``(units, units)``; bias ``(units,)`` or None; initial_state ``[h0]`` or None.
        Other arguments as in ``lstm``.

    Returns:
        ``(outputs, h)``.

    >>> import numpy as np
    >>> out, h = simple_rnn(np.ones((1, 2, 1), "float32"), np.ones((1, 1), "float32"), np.ones((1, 1), "float32"))
    >>> np.round(out.numpy().ravel(), 4)
    array([0.7616, 0.9427], dtype=float32)
    """
    _check_activation(activation, "simple_rnn", "activation")
    h0 = list(initial_state)[0] if initial_state is not None and len(initial_state) else None
    x, k, rk, b, (h0,), mask_array, units = _prepare(
        "simple_rnn", inputs, kernel, recurrent_kernel, bias, lambda u: (u,), [h0], mask, 1)
    config = (go_backwards, return_sequences, zero_output_for_mask, activation)
    arrays = (x.value, k.value, rk.value, None if b is None else b.value, None if h0 is None else h0.value, mask_array)
    outputs, h_last, *saved = on_host(_simple_rnn_forward, arrays, config)
    names, tensors = _op_inputs(x, k, rk, (("bias", b), ("h0", h0)))

    def backward(grads, needs):
        return on_host(_simple_rnn_backward, tuple(grads), tuple(needs), tuple(names), arrays, tuple(saved), config)

    return tuple(record_multi("simple_rnn", tensors, [outputs, h_last], backward))


def _simple_rnn_forward(arrays, config):
    """The array work of ``simple_rnn`` (a run of ``on_host``): ``(outputs, h, h_seq, h_init, x2)``, the
    last ones saved for the backward rule."""
    xv, kv, rkv, bv, h0v, mask_array = arrays
    go_backwards, return_sequences, zero_output_for_mask, activation = config
    units = rkv.shape[0]
    xp = array_module(xv)
    dtype = xv.dtype
    batch, steps, features = xv.shape
    u = units
    x_steps = _steps_view(xv, go_backwards)
    mask_b = None if mask_array is None else _steps_view(mask_array, go_backwards)[:, :, None]
    x2, h_seq = _project(xp, x_steps, kv, None if bv is None else bv)
    h_prev = xp.zeros((batch, u), dtype=dtype) if h0v is None else h0v
    h_init = h_prev
    recurrent = xp.empty((batch, u), dtype=dtype)
    with np.errstate(over="ignore"):  # exp(-z) of a sigmoid may overflow: 1 / inf = 0
        for s in range(steps):
            h = h_seq[s]
            xp.dot(h_prev, rkv, out=recurrent)
            h += recurrent
            _activate(activation, h, prescaled=False)
            if mask_b is not None:
                xp.copyto(h, h_prev, where=~mask_b[s])
            h_prev = h
    out_steps = h_seq if mask_b is None else _masked_outputs(xp, h_seq, mask_b, zero_output_for_mask)
    outputs = _batch_major(xp, out_steps) if return_sequences else out_steps[-1]
    return outputs, h_seq[-1], h_seq, h_init, x2


def _simple_rnn_backward(grads, needs, names, arrays, saved, config):
    """The gradients of ``simple_rnn`` (a run of ``on_host``) from the forward's saved arrays."""
    xv, kv, rkv, bv, h0v, mask_array = arrays
    go_backwards, return_sequences, zero_output_for_mask, activation = config
    xp = array_module(xv)
    dtype = xv.dtype
    batch, steps, features = xv.shape
    u = rkv.shape[0]
    mask_b = None if mask_array is None else _steps_view(mask_array, go_backwards)[:, :, None]
    h_seq, h_init, x2 = saved
    g_seq, g_last, dh = _common_backward_setup(xp, grads, return_sequences, mask_b is not None, go_backwards,
                                               (batch, u), dtype)
    add_output_grad = _output_grad_fn(xp, mask_b, zero_output_for_mask, g_seq, g_last, (batch, u), dtype)
    deriv = _derivative(activation, h_seq)
    if deriv.ndim == 0:
        deriv = xp.broadcast_to(deriv, h_seq.shape)
    da_all = xp.empty_like(h_seq)
    rk_t = xp.ascontiguousarray(rkv.T)
    for s in range(steps - 1, -1, -1):
        add_output_grad(s, dh)
        da = da_all[s]
        xp.multiply(dh, deriv[s], out=da)
        if mask_b is not None:
            m = mask_b[s]
            da *= m
            dh = xp.where(m, da @ rk_t, dh)
        else:
            dh = da @ rk_t
    da2 = da_all.reshape(steps * batch, u)
    values = {}
    if needs[0]:
        values["inputs"] = _from_steps((da2 @ kv.T).reshape(steps, batch, features), go_backwards)
    if needs[1]:
        values["kernel"] = x2.T @ da2
    if needs[2]:
        values["recurrent_kernel"] = _previous(xp, h_init, h_seq).reshape(steps * batch, u).T @ da2
    if "bias" in names and needs[names.index("bias")]:
        values["bias"] = da2.sum(axis=0)
    values["h0"] = dh
    return _collect(needs, names, values)


# -- helpers for per-step recurrent loops -------------------------------------------------------------
def unstack_time(inputs):
    """Split ``(batch, timesteps, ...)`` into ``timesteps`` tensors ``(batch, ...)`` as ONE recorded op
    (a per-step ``x[:, t]`` would allocate a full-size gradient for every step).

    >>> import numpy as np
    >>> [t.shape for t in unstack_time(np.zeros((2, 3, 4), "float32"))]
    [(2, 4), (2, 4), (2, 4)]
    """
    x = as_tensor(inputs, "unstack_time", "inputs")
    xv = x.value
    if xv.ndim < 2:
        raise ValueError(f"unstack_time: `inputs` must have a time axis (rank >= 2). Received: shape={xv.shape}")
    xp = array_module(xv)

    def backward(grads, needs):
        full = xp.zeros(xv.shape, dtype=xv.dtype)
        for t, g in enumerate(grads):
            if g is not None:
                full[:, t] = g
        return (full,)

    return record_multi("unstack_time", (x,), [xv[:, t] for t in range(xv.shape[1])], backward)


def stack_time(steps):
    """Stack a list of ``(batch, ...)`` tensors into ``(batch, timesteps, ...)`` as ONE recorded op.

    >>> import numpy as np
    >>> stack_time([np.zeros((2, 4), "float32")] * 3).shape
    (2, 3, 4)
    """
    from featherflow.core.tape import record

    tensors = [as_tensor(s, "stack_time", f"steps[{i}]") for i, s in enumerate(steps)]
    if not tensors:
        raise ValueError("stack_time: expected a non-empty list of tensors. Received: steps=[]")
    xp = array_module(tensors[0].value)
    out = xp.stack([t.value for t in tensors], axis=1)
    return record("stack_time", tuple(tensors), out,
                  lambda g, needs: tuple(g[:, t] if need else None for t, need in enumerate(needs)))
