"""Straightforward per-timestep NumPy (float64) references for LSTM, GRU and SimpleRNN in Keras's
weight layout and masking rules, written independently of featherflow's fused kernels."""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def hard_sigmoid(z):
    return np.clip(0.2 * z + 0.5, 0.0, 1.0)


ACTIVATIONS = {"tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda z: np.maximum(z, 0),
               "linear": lambda z: z, "hard_sigmoid": hard_sigmoid}


def _run(step, x, states, mask=None, go_backwards=False, zero_output_for_mask=False):
    """Keras's ``backend.rnn`` loop: returns (last_output, outputs (batch, T, u), final states)."""
    x = np.asarray(x, dtype=np.float64)
    steps = x.shape[1]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    outputs = []
    prev_output = np.zeros_like(states[0])
    for t in order:
        out, new_states = step(x[:, t], states)
        if mask is not None:
            m = np.asarray(mask)[:, t][:, None].astype(bool)
            out = np.where(m, out, 0.0 if zero_output_for_mask else prev_output)
            new_states = [np.where(m, n, s) for n, s in zip(new_states, states)]
        outputs.append(out)
        prev_output = out
        states = new_states
    seq = np.stack(outputs, axis=1)
    return seq[:, -1], seq, states


def lstm_reference(x, kernel, recurrent_kernel, bias=None, h0=None, c0=None, mask=None, go_backwards=False,
                   zero_output_for_mask=False, activation="tanh", recurrent_activation="sigmoid"):
    act, rec = ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]
    units = recurrent_kernel.shape[0]
    batch = x.shape[0]
    h0 = np.zeros((batch, units)) if h0 is None else h0
    c0 = np.zeros((batch, units)) if c0 is None else c0

    def step(xt, states):
        h, c = states
        z = xt @ kernel + h @ recurrent_kernel + (0 if bias is None else bias)
        i = rec(z[:, :units])
        f = rec(z[:, units:2 * units])
        g = act(z[:, 2 * units:3 * units])
        o = rec(z[:, 3 * units:])
        c_new = f * c + i * g
        h_new = o * act(c_new)
        return h_new, [h_new, c_new]

    return _run(step, x, [h0, c0], mask, go_backwards, zero_output_for_mask)


def gru_reference(x, kernel, recurrent_kernel, bias=None, h0=None, mask=None, go_backwards=False,
                  zero_output_for_mask=False, activation="tanh", recurrent_activation="sigmoid"):
    act, rec = ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]
    units = recurrent_kernel.shape[0]
    h0 = np.zeros((x.shape[0], units)) if h0 is None else h0

    def step(xt, states):
        (h,) = states
        mx = xt @ kernel + (0 if bias is None else bias[0])
        mi = h @ recurrent_kernel + (0 if bias is None else bias[1])
        z = rec(mx[:, :units] + mi[:, :units])
        r = rec(mx[:, units:2 * units] + mi[:, units:2 * units])
        hh = act(mx[:, 2 * units:] + r * mi[:, 2 * units:])
        h_new = z * h + (1 - z) * hh
        return h_new, [h_new]

    return _run(step, x, [h0], mask, go_backwards, zero_output_for_mask)


def gru_reset_before_reference(x, kernel, recurrent_kernel, bias=None, h0=None, activation="tanh",
                               recurrent_activation="sigmoid"):
    """Keras's GRU with ``reset_after=False``: bias ``(3u,)``, reset gate applied before the matmul."""
    act, rec = ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]
    units = recurrent_kernel.shape[0]
    h0 = np.zeros((x.shape[0], units)) if h0 is None else h0

    def step(xt, states):
        (h,) = states
        mx = xt @ kernel + (0 if bias is None else bias)
        z = rec(mx[:, :units] + h @ recurrent_kernel[:, :units])
        r = rec(mx[:, units:2 * units] + h @ recurrent_kernel[:, units:2 * units])
        hh = act(mx[:, 2 * units:] + (r * h) @ recurrent_kernel[:, 2 * units:])
        h_new = z * h + (1 - z) * hh
        return h_new, [h_new]

    return _run(step, x, [h0])


def simple_rnn_reference(x, kernel, recurrent_kernel, bias=None, h0=None, mask=None, go_backwards=False,
                         zero_output_for_mask=False, activation="tanh"):
    act = ACTIVATIONS[activation]
    units = recurrent_kernel.shape[0]
    h0 = np.zeros((x.shape[0], units)) if h0 is None else h0

    def step(xt, states):
        h_new = act(xt @ kernel + states[0] @ recurrent_kernel + (0 if bias is None else bias))
        return h_new, [h_new]

    return _run(step, x, [h0], mask, go_backwards, zero_output_for_mask)
