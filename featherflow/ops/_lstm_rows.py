"""The LSTM's compiled path in the batch-major layout: ``ops.recurrent.lstm`` when its Numba step kernels run,
nothing is masked and the inputs are stacked with the state (``features <= units``, ``_stack_inputs``).
Every per-step array is ``(batch, columns)``, one row per sample.

Why a second layout: the rows layout of the NumPy path (``(columns, batch)`` per step, each gate one contiguous
block for NumPy's ufuncs) needs a transposed copy of every step's gate gradients for the weight GEMMs (the
``(steps * batch, 4u)`` matrix), and on the 2-core benchmark machine that copy cost more than the rest of the
backward kernel: ~80 us of the ~96 us the step's kernel took for issue 22's LSTM(128) ((512, 128) blocks, one
thread). The compiled kernels can loop over rows as well as over blocks (``_numba_lstm.lstm_forward_rows`` /
``lstm_backward_rows``), so here every step writes straight into the layout its GEMMs read:

- forward: ``xh`` ``(steps + 1, batch, features + 1 + units)`` holds ``[x_s, 1, h_{s-1}]`` in row block ``s``;
  each step is ``z = xh[s] @ W`` (``W`` the stacked, permuted, scaled weights) and the kernel writes ``h_s``
  into ``xh[s + 1]``;
- backward: ``dz`` of step ``s`` is row block ``s`` of the ``(steps * batch, 4u)`` gradient matrix, and
  ``dh_{s-1} = dz_s @ U^T`` reads it in place; the three weight gradients are ONE GEMM ``xh[:steps]^T @ dz``.

The GEMMs are the same products as the rows layout's (measured equal, one thread: (64, 157) @ (157, 512) 234-237
vs 239 us). Interleaved A/B in one process, one BLAS thread, median thread CPU of forward + backward: LSTM(128)
over 28 steps of (128, 28) 26.0 -> 24.5 ms, LSTM(64) over (64, 28) 4.96 -> 4.70 ms; a half-epoch ``fit`` of
issue 22's models 1.29 -> 1.22 s (LSTM(128)) and 0.49 -> 0.48 s (LSTM(64)). With inputs wider than the state
(the text model's 200 steps of (32, 128), LSTM(64): no stacking, a separate input projection) this layout was
~2% slower, so that case keeps the rows layout.

Gate columns are ``[i, f, o, c]`` forward (the three sigmoid blocks together, pre-negated: see
``_rnn_common._prescale``) and Keras's ``[i, f, c, o]`` in ``dz``. Results agree with the NumPy path to float32
rounding; eager and compiled ``fit`` steps run these same functions (bit-identical).
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.blas import parallel_workers, use_threads_for
from featherflow.ops._rnn_common import _collect, _common_backward_setup, _from_steps, _steps_view
from featherflow.ops._workspace import workspace
from featherflow.ops.conv_utils import split_batch


def _setup(arrays, config):
    xv, kv, rkv, bv = arrays[:4]
    batch, steps, features = xv.shape
    u = rkv.shape[0]
    hr = features + (bv is not None)  # the first column of h in a row of xh
    return batch, steps, features, u, hr, _steps_view(xv, config[0])


# Batch split of the recurrences (``split_parts``): the samples of an LSTM are independent, so each slice of them
# runs its own time loop - products AND step kernels - on its own core with no synchronisation until the end,
# where OpenBLAS's own threads split each small per-step product (1-10 M multiply-adds, see backend/blas.py) and
# leave the step kernels on one core. Measured, issue 22's LSTM(128) (batch 128: two slices of 64), half-epoch
# ``fit`` alternated in one process at load 1.7-2.3 (two threads pinned): 0.92 s (min 0.83) split, 7.46 s (min
# 0.96) with OpenBLAS's two threads (which collapse while another process holds a core), 1.46 s (min 1.24) on
# one thread. With slices of 32 rows (LSTM(64), batch 64) the split was no better than OpenBLAS's threads (min
# 0.43 vs 0.35 s; the per-step Python work of two threads contends for the GIL), hence ``MIN_SPLIT_ROWS``.
MIN_SPLIT_ROWS = 64
MAX_SPLIT = 4

# The forward's last two outputs: they give it as many outputs, none None, as ``ops.recurrent``'s other stacked
# forward, because a compiled step's host call must return the same structure at every replay while the path may
# change between calls (a last, smaller batch below ``LSTM_MIN_WORK``; kernels switched off); ``is_rows`` tells
# the backward rule which forward ran.
ROWS_MARK = np.zeros(0, np.bool_)


def is_rows(saved) -> bool:
    """Whether the saved arrays of an LSTM forward pass come from ``forward`` (not the rows-layout paths)."""
    return saved[-1] is not None and saved[-1].dtype == np.bool_


def _forward_columns(weights, out, u):
    """``out[..., :]`` = ``weights``' Keras columns ``[i, f, c, o]`` as the forward's ``[i, f, o, c]``, the three
    sigmoid blocks negated (``_rnn_common._prescale``): three block copies, no gather."""
    np.negative(weights[..., :2 * u], out=out[..., :2 * u])
    np.negative(weights[..., 3 * u:], out=out[..., 2 * u:3 * u])
    np.copyto(out[..., 3 * u:], weights[..., 2 * u:3 * u])


def split_parts(batch: int) -> int:
    """Into how many slices of samples the recurrences run, each slice's whole time loop on its own thread:
    the cores a large product would use now (``backend.blas.parallel_workers``: fewer while other processes keep
    cores busy; fixed under op determinism), at most one slice per ``MIN_SPLIT_ROWS`` samples.

    >>> split_parts(MIN_SPLIT_ROWS - 1)  # too few samples for two slices
    1
    """
    return max(1, min(parallel_workers(MAX_SPLIT), batch // MIN_SPLIT_ROWS))


def _run_split(recurrence, batch: int, product: int) -> None:
    """``recurrence(r0, r1)`` over all samples: on ``split_parts`` threads with one BLAS thread each, else on
    this thread with BLAS's threads chosen for a step's ``product`` multiply-adds."""
    parts = split_parts(batch)
    use_threads_for(0 if parts > 1 else product)
    split_batch(recurrence, batch, 0, parts=parts)


def forward(arrays, config, kernels):
    """The forward array work: ``(outputs, h, c, gates, c_seq, tanh(c)_seq, xh, c_init, ROWS_MARK, ROWS_MARK)``,
    the last seven saved for ``backward``.

    Args:
        arrays: ``(inputs, kernel, recurrent_kernel, bias or None, h0 or None, c0 or None, None)`` (float32).
        config: ``ops.recurrent.lstm``'s ``(go_backwards, return_sequences, ...)``.
        kernels: ``(lstm_forward_rows, lstm_backward_rows)``.
    """
    xv, kv, rkv, bv, h0v, c0v, _ = arrays
    return_sequences = config[1]
    batch, steps, features, u, hr, x_steps = _setup(arrays, config)
    dtype = xv.dtype
    step_kernel = kernels[0]
    gates = workspace("lstm_rows_gates", (steps, batch, 4 * u), dtype)
    c_seq = workspace("lstm_rows_c", (steps, batch, u), dtype)
    tc_seq = workspace("lstm_rows_tanh_c", (steps, batch, u), dtype)
    c_init = np.zeros((batch, u), dtype) if c0v is None else np.ascontiguousarray(c0v)
    xh = workspace("lstm_rows_xh", (steps + 1, batch, hr + u), dtype)
    xh[:steps, :, :features] = x_steps
    if bv is not None:
        xh[:steps, :, features] = 1
    xh[0, :, hr:] = 0 if h0v is None else h0v
    w_all = np.empty((hr + u, 4 * u), dtype)  # [kernel; bias; recurrent_kernel] in the forward's columns
    _forward_columns(kv, w_all[:features], u)
    if bv is not None:
        _forward_columns(bv, w_all[features], u)
    _forward_columns(rkv, w_all[hr:], u)
    h_seq = xh[1:, :, hr:]  # (steps, batch, u): row-strided views
    skip_h0 = h0v is None and hr > 0

    def recurrence(r0, r1):  # the whole time loop for the samples r0:r1
        for s in range(steps):
            z = gates[s, r0:r1]
            if s == 0 and skip_h0:
                np.dot(xh[0, r0:r1, :hr], w_all[:hr], out=z)  # h_{-1} = 0: skip its u x 4u block
            else:
                np.dot(xh[s, r0:r1], w_all, out=z)
            step_kernel(z, c_seq[s - 1, r0:r1] if s else c_init[r0:r1], c_seq[s, r0:r1], tc_seq[s, r0:r1],
                        h_seq[s, r0:r1])

    _run_split(recurrence, batch, batch * (hr + u) * 4 * u)
    # (steps, batch, u) -> (batch, steps, u): rows of u stay contiguous
    outputs = h_seq.transpose(1, 0, 2).copy() if return_sequences else h_seq[-1].copy()
    return outputs, h_seq[-1].copy(), c_seq[-1].copy(), gates, c_seq, tc_seq, xh, c_init, ROWS_MARK, ROWS_MARK


def backward(grads, needs, names, arrays, saved, config, kernels):
    """The gradients (``ops.recurrent.lstm``'s backward rule) from ``forward``'s saved arrays."""
    xv, kv, rkv, bv = arrays[:4]
    go_backwards, return_sequences = config[:2]
    batch, steps, features, u, hr, _ = _setup(arrays, config)
    dtype = xv.dtype
    gates, c_seq, tc_seq, xh, c_init = saved[:5]
    back_kernel = kernels[1]
    g_seq, _, dh = _common_backward_setup(np, grads, return_sequences, False, go_backwards, (batch, u), dtype)
    dc = np.zeros((batch, u), dtype)
    if grads[2] is not None:
        dc += grads[2]
    need_h0 = "h0" in names and needs[names.index("h0")]  # else the last recurrent product is skipped
    u_back = rkv.T  # (4u, u), a view (BLAS reads it transposed): dz's columns are Keras's, dh = dz @ U^T
    dz = workspace("lstm_rows_dz", (steps, batch, 4 * u), dtype)
    buffers = (dh, np.empty_like(dh))  # dh of the step and of the step before, swapped every step

    def recurrence(r0, r1):  # the whole time loop for the samples r0:r1
        dh_s, dh_prev = buffers[0][r0:r1], buffers[1][r0:r1]
        dc_s = dc[r0:r1]
        for s in range(steps - 1, -1, -1):
            if g_seq is not None:
                dh_s += g_seq[s, r0:r1]
            back_kernel(gates[s, r0:r1], c_seq[s - 1, r0:r1] if s else c_init[r0:r1], tc_seq[s, r0:r1], dh_s, dc_s,
                        dz[s, r0:r1])
            if s or need_h0:
                np.dot(dz[s, r0:r1], u_back, out=dh_prev)
            dh_s, dh_prev = dh_prev, dh_s

    _run_split(recurrence, batch, batch * 4 * u * u)
    dh = buffers[steps % 2]  # where the last swap left the gradient of h_{-1}
    dz2 = dz.reshape(steps * batch, 4 * u)  # rows (step, sample), columns Keras's [i, f, c, o]
    values = {}
    use_threads_for(steps * batch * 4 * u * min(u, features))
    if needs[0]:
        values["inputs"] = _from_steps((dz2 @ kv.T).reshape(steps, batch, features), go_backwards)
    if needs[1] or needs[2] or ("bias" in names and needs[names.index("bias")]):
        # columns [x, 1, h_prev] of every (step, sample) row: all weight gradients in one GEMM
        w_grads = xh[:steps].reshape(steps * batch, hr + u).T @ dz2  # (features + 1 + u, 4u)
        values["kernel"] = w_grads[:features]
        values["recurrent_kernel"] = w_grads[hr:]
        if bv is not None:
            values["bias"] = w_grads[features]
    values["h0"], values["c0"] = dh, dc
    return _collect(needs, names, values)
