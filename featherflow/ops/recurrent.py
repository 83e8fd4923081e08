"""Fused recurrent sequence ops: ``lstm``, ``gru`` and ``simple_rnn`` over a whole sequence.

Each op runs the full time loop inside ONE op with ONE backward rule (backpropagation through
time on raw arrays). The input projection ``x @ kernel + bias`` of every timestep is one GEMM
(LSTM: one batched matmul) up front; the backward rule does one GEMM each for the kernel,
recurrent-kernel and input gradients after its time loop, so the per-step Python work is a
recurrent matmul plus a few in-place elementwise ufuncs on preallocated buffers.

Measured on the 2-core benchmark machine, one BLAS thread, forward + backward (issue 10's shapes):
the LSTM over 200 steps of (32, 128) with 64 units and over 28 steps of (128, 28) with 128 units
spend most of their time in the GEMMs (about 945M and 807M multiply-adds); the rest is ``exp`` /
``tanh`` and the per-step ufuncs. What made the difference (see ``lstm``): no transposed copies of
the inputs, the projection or the per-step gate gradients; sigmoid by ``exp`` instead of ``tanh``;
BPTT rows ordered so each step is five ufunc calls and one ``dot(out=)``; and, when Numba is installed,
each float32 step's elementwise work as ONE compiled call forward and one backward (``_kernels``,
``_numba_lstm``; interleaved A/B, one BLAS thread: forward + backward 0.67x the NumPy path's time for the
text model's LSTM, 0.81x for the MNIST-rows LSTM). What remains is mostly the GEMMs, at OpenBLAS's
one-thread rate (about 49 GFLOP/s here).

``gru``, ``simple_rnn`` and the per-step helpers live in ``_gru_rnn`` and are re-exported here.

Weight layouts are Keras's: LSTM kernel ``(in, 4u)``, recurrent kernel ``(u, 4u)``, bias
``(4u,)`` with gates ``i, f, c, o``; GRU (``reset_after=True``) kernel ``(in, 3u)``, recurrent
``(u, 3u)``, bias ``(2, 3u)`` (input bias, recurrent bias) with gates ``z, r, h``; SimpleRNN
kernel ``(in, u)``, recurrent ``(u, u)``, bias ``(u,)``.

Masking follows ``tf.keras``: at a masked step the states are carried through unchanged and the
output is the previous step's output (zeros before the first unmasked step), or zeros with
``zero_output_for_mask=True``. With ``go_backwards=True`` the sequence is processed from the last
step and the output sequence is returned in processing (reversed) order, as Keras does.

>>> import numpy as np, featherflow as ff
>>> x = np.ones((2, 5, 3), "float32")
>>> out, h, c = lstm(x, np.full((3, 8), 0.1, "float32"), np.zeros((2, 8), "float32"))
>>> out.shape, h.shape, c.shape
((2, 5, 2), (2, 2), (2, 2))
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.backend.blas import use_threads_for
from featherflow.core.tape import record_multi
from featherflow.ops import _kernels, _lstm_rows
from featherflow.ops._gru_rnn import gru, simple_rnn, stack_time, unstack_time  # noqa: F401 - re-exported
from featherflow.ops._host import on_host
from featherflow.ops._rnn_common import (  # noqa: F401 - _FUSED is re-exported for the recurrent layers
    _FUSED,
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
from featherflow.ops._workspace import workspace

# -- LSTM ---------------------------------------------------------------------------------------
# steps * batch * units from which the default mode runs the LSTM's compiled step kernels: lower than
# ``_kernels.MIN_WORK`` because an LSTM is trained for many steps of the same shape. Measured (one BLAS
# thread, forward + backward of issue 22's LSTM(64): 28 steps of (64, 28), work 114,688): 6.6 ms with NumPy,
# 4.7 ms with the kernels, so loading them (about 0.6 s of CPU, once per process) is repaid within ~300
# training steps (1.6 epochs of the 12,000-sample MNIST set). Shape-only, like ``MIN_WORK``: eager and
# compiled steps of the same shape take the same path.
LSTM_MIN_WORK = 1 << 16


def _stack_inputs(features: int, units: int) -> bool:
    """Whether ``lstm`` stacks ``[x_t; 1; h_{t-1}]`` per step (one GEMM per step, one for all weight
    gradients) instead of projecting all inputs up front with a separate recurrent GEMM per step.

    Stacking costs an element-by-element transposed copy of the inputs (``features`` rows) and saves
    the bias pass, one add per step and the copies of ``h`` and ``x`` for the weight gradients (about
    ``units`` rows each). Measured (forward + backward, one BLAS thread): 28 steps of (128, 28) with
    128 units 9% faster stacked; 200 steps of (32, 128) with 64 units 2-5% slower.
    """
    return features <= units


def lstm(inputs, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None, go_backwards=False,
         return_sequences=True, zero_output_for_mask=False, activation="tanh", recurrent_activation="sigmoid"):
    """A whole LSTM sequence as one op (Hochreiter & Schmidhuber, 1997; Keras's formulation).

    Per step, with gates ``[i, f, c, o]`` in Keras's column order::

        z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias
        i, f, o = recurrent_activation(z_i, z_f, z_o);  g = activation(z_c)
        c_t = f * c_{t-1} + i * g;   h_t = o * activation(c_t)

    Args:
        inputs: ``(batch, timesteps, features)``.
        kernel: ``(features, 4 * units)``; recurrent_kernel: ``(units, 4 * units)``; bias: ``(4 * units,)`` or None.
        initial_state: ``[h0, c0]`` (each ``(batch, units)``, or None for zeros).
        mask: optional boolean ``(batch, timesteps)``; False steps are skipped (states carried).
        go_backwards: process the sequence in reverse (outputs come back in processing order).
        return_sequences: return every step's output ``(batch, timesteps, units)`` or only the last.
        zero_output_for_mask: masked steps output zeros instead of repeating the previous output.
        activation / recurrent_activation: one of ``tanh, sigmoid, relu, linear, hard_sigmoid``.

    Returns:
        ``(outputs, h, c)``: the outputs and the final states, all differentiable.

    Layout (why it is fast): every per-step array is kept transposed, ``(rows, batch)``, so each gate's
    block of a step is one contiguous array and every per-step ufunc runs on contiguous memory. The
    forward pass keeps the gates in the order ``[i, f, o, c]`` (the three recurrent-activation gates are
    one block: one ``exp``-based sigmoid over it, one ``tanh`` for ``c``), and the pre-activations are
    written straight into that layout: either the input projection of every step as one batched matmul
    (no transposed copy of the inputs or of the projection) plus one recurrent GEMM per step, or, when
    ``features <= units`` (``_stack_inputs``), one GEMM per step over the stacked ``[x_t; 1; h_{t-1}]``
    whose columns the backward pass reuses for all weight gradients in one GEMM. BPTT works on rows
    ``[i, f, c, o, cell]``: the three gates whose gradient is ``factor * dc`` are one block (one
    broadcast multiply), and ``o`` with the cell term ``dh * o * activation'(c)`` is another (one
    multiply by ``dh``): five ufunc calls, one matmul and one copy into the ``(4u, steps * batch)``
    gradient matrix per step; the weight gradients are large GEMMs after the loop. For float32 with
    ``tanh``/``sigmoid`` and Numba installed, each step's elementwise work (bias and recurrent term added,
    activations, cell, output; backward: the factors computed on the fly, ``dz`` and ``dc``) is one
    compiled call instead (``_kernels``; unmasked backward only): same layout, same GEMMs. Unmasked with stacked
    inputs, the compiled path runs batch-major instead (``_lstm_rows``: no transposed copies at all).

    >>> import numpy as np
    >>> out, h, c = lstm(np.zeros((1, 3, 2), "float32"), np.zeros((2, 4), "float32"), np.zeros((1, 4), "float32"),
    ...                  np.ones(4, "float32"))
    >>> round(float(h.numpy()[0, 0]), 4)
    0.6225
    """
    _check_activation(activation, "lstm", "activation")
    _check_activation(recurrent_activation, "lstm", "recurrent_activation")
    h0, c0 = (list(initial_state) + [None, None])[:2] if initial_state is not None else (None, None)
    x, k, rk, b, (h0, c0), mask_array, units = _prepare(
        "lstm", inputs, kernel, recurrent_kernel, bias, lambda u: (4 * u,), [h0, c0], mask, 4)
    config = (go_backwards, return_sequences, zero_output_for_mask, activation, recurrent_activation)
    arrays = (x.value, k.value, rk.value, None if b is None else b.value, None if h0 is None else h0.value,
              None if c0 is None else c0.value, mask_array)
    outputs, h_last, c_last, *saved = on_host(_lstm_forward, arrays, config)
    names, tensors = _op_inputs(x, k, rk, (("bias", b), ("h0", h0), ("c0", c0)))

    def backward(grads, needs):
        return on_host(_lstm_backward, tuple(grads), tuple(needs), tuple(names), arrays, tuple(saved), config)

    # the pooled sequence buffers are free again once no tape holds the backward rule (every output is a copy)
    return tuple(record_multi("lstm", tensors, [outputs, h_last, c_last], backward))


def _rows_kernels(eligible: bool, work):
    """``(lstm_forward_rows, lstm_backward_rows)`` when the batch-major compiled path (``_lstm_rows``) runs:
    float32 NumPy, tanh / sigmoid, stacked inputs, nothing masked (``eligible``) and the kernels on for ``work``
    elements."""
    if not eligible:
        return None
    fwd = _kernels.get_for_work("lstm_forward_rows", work, LSTM_MIN_WORK)
    back = _kernels.get_for_work("lstm_backward_rows", work, LSTM_MIN_WORK)
    return None if fwd is None or back is None else (fwd, back)


def _numba_lstm_rows(backward=False):
    """A rows kernel when the kernels were switched off between a forward pass that ran them and its backward."""
    from featherflow.ops import _numba_lstm

    return _numba_lstm.lstm_backward_rows if backward else _numba_lstm.lstm_forward_rows


def _lstm_setup(arrays, config):
    """What the forward and backward array work share: shapes, the gate permutation, time-major views."""
    xv, kv, rkv, bv, h0v, c0v, mask_array = arrays
    go_backwards, return_sequences, zero_output_for_mask, activation, recurrent_activation = config
    xp = array_module(xv)
    dtype = xv.dtype
    batch, steps, features = xv.shape
    u = rkv.shape[0]
    # forward rows [i, f, o, c]; Keras's columns are [i, f, c, o]
    perm = np.concatenate([np.arange(0, 2 * u), np.arange(3 * u, 4 * u), np.arange(2 * u, 3 * u)])
    x_steps = _steps_view(xv, go_backwards)  # (steps, batch, features), a view
    mask_b = None if mask_array is None else _steps_view(mask_array, go_backwards)[:, None, :]
    stacked = _stack_inputs(features, u)
    fast = activation == "tanh" and recurrent_activation == "sigmoid"
    compiled = fast and xp is np and dtype == np.float32  # the kernels' case (_kernels: float32 on NumPy)
    hr = features + (bv is not None)  # (stacked) the first row of h in xh; with zero initial states step 0 uses [:hr]
    return xp, dtype, batch, steps, features, u, perm, x_steps, mask_b, stacked, fast, compiled, hr


def _lstm_forward(arrays, config):
    """The LSTM's forward array work (a run of ``on_host``): ``(outputs, h, c, gates, c_seq, tanh(c)_seq,
    h_seq, h_init, c_init, xh)`` (``xh`` None unless stacked), the last seven saved for the backward rule."""
    xv, kv, rkv, bv, h0v, c0v, mask_array = arrays
    go_backwards, return_sequences, zero_output_for_mask, activation, recurrent_activation = config
    xp, dtype, batch, steps, features, u, perm, x_steps, mask_b, stacked, fast, compiled, hr = \
        _lstm_setup(arrays, config)
    rows_kernels = _rows_kernels(compiled and mask_b is None and stacked, steps * batch * u)
    if rows_kernels is not None:  # the batch-major compiled path (its backward tells by _lstm_rows.is_rows)
        return _lstm_rows.forward(arrays, config, rows_kernels)
    scale = np.concatenate([np.full(3 * u, _prescale(recurrent_activation)), np.full(u, _prescale(activation))])
    scale = xp.asarray(scale, dtype=dtype)
    gates = workspace("lstm_gates", (steps, 4 * u, batch), dtype, xp)  # pooled memory (ops._workspace: no page faults)
    step_kernel = _kernels.get_for_work("lstm_forward_step", steps * batch * u, LSTM_MIN_WORK) if compiled else None
    no_rows = xp.empty((0, 0), dtype=dtype)
    if stacked:
        # Every step's pre-activations as ONE product written into the per-step layout:
        # gates[s] = [kernel; bias; recurrent_kernel]^T (scaled) @ xh[:, s], where xh (rows, steps + 1,
        # batch) stacks x_s^T, a row of ones and h_{s-1}. The loop writes h_s into xh[:, s + 1], so the
        # backward pass gets all three weight gradients from one GEMM over xh (no copies, no bias pass).
        n_in = hr + u
        xh = workspace("lstm_xh", (n_in, steps + 1, batch), dtype, xp)
        xh[:features, :steps] = x_steps.transpose(2, 0, 1)
        xh[hr:, 0] = 0 if h0v is None else h0v.T
        if bv is not None:
            xh[features] = 1
        weights = [kv[:, perm]] + ([] if bv is None else [bv[perm][None]]) + [rkv[:, perm]]
        w_all_t = xp.ascontiguousarray((xp.concatenate(weights) * scale).T)  # (4u, n_in)
        h_seq = xh[hr:, 1:].transpose(1, 0, 2)  # (steps, u, batch), a view
        h_prev = xh[hr:, 0]
        use_threads_for(4 * u * n_in * batch)
    else:
        # The input projection of every step as one batched matmul written in the per-step layout:
        # gates[s] = (kernel * scale).T @ x_s.T (no transposed copy of x or of the projection).
        w_scaled_t = xp.ascontiguousarray((kv[:, perm] * scale).T)  # (4u, features)
        use_threads_for(steps * batch * features * 4 * u)
        xp.matmul(w_scaled_t, x_steps.transpose(0, 2, 1), out=gates)
        if bv is not None and step_kernel is None:  # the kernel adds the bias in its pass over each step
            gates += (bv[perm] * scale)[:, None]
        u_scaled_t = xp.ascontiguousarray((rkv[:, perm] * scale).T)  # (4u, u)
        h_seq = workspace("lstm_h", (steps, u, batch), dtype, xp)
        h_prev = xp.zeros((u, batch), dtype=dtype) if h0v is None else xp.ascontiguousarray(h0v.T)
        recurrent = xp.empty((4 * u, batch), dtype=dtype)
        use_threads_for(4 * u * u * batch)
    h_init = h_prev
    c_seq = workspace("lstm_c", (steps, u, batch), dtype, xp)
    tc_seq = workspace("lstm_tanh_c", (steps, u, batch), dtype, xp)
    c_prev = xp.zeros((u, batch), dtype=dtype) if c0v is None else xp.ascontiguousarray(c0v.T)
    c_init = c_prev
    tmp = xp.empty((u, batch), dtype=dtype)
    one = dtype.type(1)
    step_bias = no_rows  # the kernel's bias block: (4u, batch), each row the (scaled) bias
    if step_kernel is not None and bv is not None and not stacked:
        step_bias = xp.repeat((bv[perm] * scale)[:, None], batch, axis=1)
    with np.errstate(over="ignore"):  # exp(-z) of a sigmoid may overflow: 1 / inf = 0
        for s in range(steps):
            z = gates[s]
            if stacked and s == 0 and h0v is None and hr:
                xp.dot(w_all_t[:, :hr], xh[:hr, 0], out=z)  # h_{-1} = 0: skip its 4u x u block
            elif stacked:
                xp.dot(w_all_t, xh[:, s], out=z)
            else:
                xp.dot(u_scaled_t, h_prev, out=recurrent)
                if step_kernel is None:
                    z += recurrent
            if step_kernel is not None:
                # one pass: (z + bias) + recurrent, the activations, c, tanh(c) and h (_numba_lstm)
                step_kernel(z, no_rows if stacked else recurrent, step_bias, c_prev, c_seq[s], tc_seq[s], h_seq[s])
            elif fast:
                ifo = z[:3 * u]  # holds -z: sigmoid = 1 / (1 + exp(-z))
                xp.exp(ifo, out=ifo)
                ifo += one
                xp.reciprocal(ifo, out=ifo)
                xp.tanh(z[3 * u:], out=z[3 * u:])
            else:
                _activate(recurrent_activation, z[:3 * u])
                _activate(activation, z[3 * u:])
            c, tc, h = c_seq[s], tc_seq[s], h_seq[s]
            if step_kernel is None:
                xp.multiply(z[u:2 * u], c_prev, out=c)
                xp.multiply(z[:u], z[3 * u:], out=tmp)
                c += tmp
                if fast or activation == "tanh":
                    xp.tanh(c, out=tc)
                else:
                    xp.copyto(tc, c)
                    _activate(activation, tc, prescaled=False)
                xp.multiply(z[2 * u:3 * u], tc, out=h)
            if mask_b is not None:
                keep = ~mask_b[s]
                xp.copyto(h, h_prev, where=keep)
                xp.copyto(c, c_prev, where=keep)
            h_prev, c_prev = h, c
    out_steps = h_seq if mask_b is None else _masked_outputs(xp, h_seq, mask_b, zero_output_for_mask)
    # (steps, u, batch) -> (batch, steps, u)
    outputs = out_steps.transpose(2, 0, 1).copy() if return_sequences else out_steps[-1].T.copy()
    return (outputs, h_seq[-1].T.copy(), c_seq[-1].T.copy(), gates, c_seq, tc_seq, h_seq, h_init, c_init,
            xh if stacked else None)


def _lstm_backward(grads, needs, names, arrays, saved, config):
    """The LSTM's gradients (a run of ``on_host``) from the forward's saved arrays."""
    xv, kv, rkv, bv, h0v, c0v, mask_array = arrays
    go_backwards, return_sequences, zero_output_for_mask, activation, recurrent_activation = config
    if _lstm_rows.is_rows(saved):  # the forward took the batch-major compiled path
        kernels = _rows_kernels(True, None) or (_numba_lstm_rows(), _numba_lstm_rows(backward=True))
        return _lstm_rows.backward(grads, needs, names, arrays, saved, config, kernels)
    xp, dtype, batch, steps, features, u, perm, x_steps, mask_b, stacked, fast, compiled, hr = \
        _lstm_setup(arrays, config)
    gates, c_seq, tc_seq, h_seq, h_init, c_init, xh = saved
    n_in = hr + u

    def _weight_gradients(dz_t, dh, dc, needs):
        # dz_t: (steps * batch, 4u), rows (step, batch), columns Keras's [i, f, c, o] (C- or F-ordered)
        values = {}
        use_threads_for(steps * batch * 4 * u * min(u, features))
        if needs[0]:
            dx = (dz_t @ kv.T).reshape(steps, batch, features)
            values["inputs"] = _from_steps(dx, go_backwards)
        if stacked and (needs[1] or needs[2] or ("bias" in names and needs[names.index("bias")])):
            # rows [x; 1; h_prev] of every (step, batch) column: all weight gradients in one GEMM
            w_grads = xh[:, :steps].reshape(n_in, steps * batch) @ dz_t  # (n_in, 4u)
            values["kernel"] = w_grads[:features]
            values["recurrent_kernel"] = w_grads[hr:]
            if bv is not None:
                values["bias"] = w_grads[features]
        elif not stacked:
            if needs[1]:
                x2 = xp.ascontiguousarray(x_steps).reshape(steps * batch, features)
                values["kernel"] = x2.T @ dz_t
            if needs[2]:
                h_before = xp.empty((u, steps, batch), dtype=dtype)
                h_before[:, 0] = h_init
                h_before[:, 1:] = h_seq[:-1].transpose(1, 0, 2)
                values["recurrent_kernel"] = h_before.reshape(u, steps * batch) @ dz_t
            if "bias" in names and needs[names.index("bias")]:
                values["bias"] = dz_t.sum(axis=0)
        values["h0"], values["c0"] = dh.T, dc.T
        return _collect(needs, names, values)

    g_seq, g_last, dh = _common_backward_setup(xp, grads, return_sequences, mask_b is not None, go_backwards,
                                               (u, batch), dtype, transposed=True)
    dc = xp.zeros((u, batch), dtype=dtype)
    if grads[2] is not None:
        dc += grads[2].T
    add_output_grad = None
    if g_seq is not None or mask_b is not None:
        add_output_grad = _output_grad_fn(xp, mask_b, zero_output_for_mask, g_seq, g_last, (u, batch), dtype)
    i_g, f_g, o_g, c_g = (gates[:, j * u:(j + 1) * u] for j in range(4))
    need_h0 = "h0" in names and needs[names.index("h0")]  # else the last recurrent product is skipped
    u_back = xp.ascontiguousarray(rkv)  # rows [i, f, c, o] are Keras's columns: dh = U @ dz
    back_kernel = None if mask_b is not None or not compiled else _kernels.get_for_work(
        "lstm_backward_step", steps * batch * u, LSTM_MIN_WORK)
    if back_kernel is not None:
        # one compiled pass per step computes the factors below on the fly (same operations, same order)
        # and writes dz transposed into the (steps * batch, 4u) matrix of the weight GEMMs
        dz_t = workspace("lstm_dz_t", (steps, batch, 4 * u), dtype, xp)
        dz, dh_next = xp.empty((4 * u, batch), dtype=dtype), xp.empty_like(dh)
        use_threads_for(4 * u * u * batch)
        for s in range(steps - 1, -1, -1):
            if add_output_grad is not None:
                add_output_grad(s, dh)
            back_kernel(gates[s], c_seq[s - 1] if s else c_init, tc_seq[s], dh, dc, dz, dz_t[s])
            if s or need_h0:
                xp.dot(u_back, dz, out=dh_next)
            dh, dh_next = dh_next, dh
        return _weight_gradients(dz_t.reshape(steps * batch, 4 * u), dh, dc, needs)
    # Step-independent factors for all timesteps at once, rows [i, f, c, o, cell] (see the docstring):
    # dz_{i,f,c} = factor * dc;  dz_o = factor * dh;  dc += dh * cell_factor (row block "cell").
    factors = workspace("lstm_factors", (steps, 5 * u, batch), dtype, xp)
    fi, ff_, fc, fo, fcell = (factors[:, j * u:(j + 1) * u] for j in range(5))
    if fast:
        # sigmoid' = y (1 - y), tanh' = 1 - y^2, written in place (no full-size temporaries)
        one = dtype.type(1)
        if_part = factors[:, :2 * u]
        xp.subtract(one, gates[:, :2 * u], out=if_part)
        if_part *= gates[:, :2 * u]
        fi *= c_g
        ff_[1:] *= c_seq[:-1]
        ff_[0] *= c_init
        xp.subtract(one, o_g, out=fo)
        fo *= o_g
        fo *= tc_seq
        xp.multiply(c_g, c_g, out=fc)
        xp.subtract(one, fc, out=fc)
        fc *= i_g
        xp.multiply(tc_seq, tc_seq, out=fcell)
        xp.subtract(one, fcell, out=fcell)
        fcell *= o_g
    else:
        xp.multiply(c_g, _derivative(recurrent_activation, i_g), out=fi)
        xp.multiply(_previous(xp, c_init, c_seq), _derivative(recurrent_activation, f_g), out=ff_)
        xp.multiply(i_g, _derivative(activation, c_g), out=fc)
        xp.multiply(tc_seq, _derivative(recurrent_activation, o_g), out=fo)
        xp.multiply(o_g, _derivative(activation, tc_seq), out=fcell)
    # dz of every step, stored as (4u, steps, batch): one (4u, steps * batch) matrix for the weight
    # GEMMs below without a transposed copy; each step is computed in a contiguous scratch block
    # (5 rows of (u, batch): [i, f, c, o, cell]) and copied in while it is in cache.
    dz_big = workspace("lstm_dz", (4 * u, steps, batch), dtype, xp)
    dz = xp.empty((5 * u, batch), dtype=dtype)
    ub = u * batch
    fac_rows = factors.reshape(steps, 5, ub)  # per step: 5 rows of one (u, batch) block
    dz_rows = dz.reshape(5, ub)
    dz_ifc, dz_ox, dz_cell, dz_gates = dz_rows[:3], dz_rows[3:], dz[4 * u:], dz[:4 * u]
    use_threads_for(4 * u * u * batch)
    if mask_b is None:
        dh_next = xp.empty_like(dh)
        dh_row, dc_row, dh_next_row = dh.reshape(1, ub), dc.reshape(1, ub), dh_next.reshape(1, ub)
        for s in range(steps - 1, -1, -1):
            if add_output_grad is not None:
                add_output_grad(s, dh)
            xp.multiply(fac_rows[s, 3:], dh_row, out=dz_ox)  # dz_o and dh * cell_factor
            dc += dz_cell
            xp.multiply(fac_rows[s, :3], dc_row, out=dz_ifc)
            dc *= f_g[s]
            if s or need_h0:
                xp.dot(u_back, dz_gates, out=dh_next)
            dz_big[:, s] = dz_gates
            dh, dh_next, dh_row, dh_next_row = dh_next, dh, dh_next_row, dh_row
    else:
        for s in range(steps - 1, -1, -1):
            add_output_grad(s, dh)
            dc_carried = dc.copy()  # masked columns pass dc through untouched
            xp.multiply(fac_rows[s, 3:], dh.reshape(1, ub), out=dz_ox)
            dc += dz_cell
            xp.multiply(fac_rows[s, :3], dc.reshape(1, ub), out=dz_ifc)
            m = mask_b[s]
            dz *= m
            dc = xp.where(m, dc * f_g[s], dc_carried)
            dh = xp.where(m, u_back @ dz_gates, dh)
            dz_big[:, s] = dz_gates
    return _weight_gradients(dz_big.reshape(4 * u, steps * batch).T, dh, dc, needs)
