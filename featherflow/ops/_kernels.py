"""Optional compiled kernels for ops (Numba): 2x2 max pooling; the im2col, col2im and ReLU-mask passes of
the convolution; the fused LSTM's per-timestep work; the embedding gradient; the optimizers' updates
(``featherflow.keras.optimizers._kernels`` asks for those here); the projective image transform behind
the augmentation layers (``_numba_image``: one pass per output pixel instead of ~40 NumPy passes); the row softmax
of dot-product attention and its backward (``_numba_attention``); layer normalization over the last axis and
batch normalization over all axes but the last (``_numba_norm``); inverted dropout's mask and output in one pass
from a counter-based hash (``_numba_dropout``); a classifier's row softmax and accuracy count (``_numba_softmax``).

Max pooling is bound by NumPy's per-call overhead and memory passes: the small CNN's two
``MaxPooling2D()`` layers (inputs ``(128, 26, 26, 32)`` and ``(128, 11, 11, 64)``) cost 11-14 ms of a
~65 ms training step with the NumPy path (a boolean mask per window position, tie passes, a masked
multiply), and about 3.5 ms as one compiled pass each way. The convolution's patch copy, scatter-add and
ReLU mask (``ops.conv``) each take one compiled pass instead of several NumPy ones (about 1 ms a step
each). Together: the small-CNN step from ~62 to ~51 ms of CPU (``benchmarks/pool_kernels.py --step``).
These kernels give bit-identical results to the NumPy paths (tested): the same maximum in the same order,
the gradient to the first maximum of each window, the same sums in the same order, the same products.

The LSTM of issue 10's text model runs 200 steps of a (32, 64) state; each step's elementwise work is ten
NumPy calls on 2,048-8,192 numbers (forward) and five plus a pre-pass over the sequence (backward), and
NumPy's ``tanh`` is not vectorized. One compiled call per step does the same work in one pass
(``_numba_lstm``; the forward's exp/tanh agree with NumPy's to float32 rounding, the backward is
operation for operation the NumPy path's). The embedding's gradient rows are added into the table in one
ordered loop (``_numba_embedding``: ``numpy.add.at``'s sums bit for bit).

When Numba is installed (``pip install "featherflow[fast]"``) the ops call these kernels, and otherwise
keep their NumPy paths. The first use in a process costs ``import numba`` plus loading the cached kernels
(0.5-2 s on a 2-core machine; the first use on a machine also compiles them, cached in ``__pycache__``),
so small inputs - most scripts and tests - do not pay it:

* ``get(name, size)`` (pooling, convolution: bit-identical kernels): the kernels load for an input of at
  least ``MIN_SIZE`` elements; once loaded, every size uses them.
* ``get_for_work(name, work)`` (LSTM steps, embedding gradient): from ``MIN_WORK`` elements of work, every
  time - so whether a small LSTM uses the kernel never depends on what ran before in the process.

``FEATHERFLOW_NUMBA=0`` in the environment (or ``use_kernels(False)``) keeps every NumPy path;
``use_kernels(True)`` uses the kernels for any size.

>>> from featherflow.ops import _kernels
>>> _kernels.use_kernels(False)
>>> _kernels.get("max_pool_2x2") is None
True
>>> _kernels.use_kernels(None)  # back to the default: the kernels when Numba is installed
"""

from __future__ import annotations

import os

from featherflow import compiler as _compiler

# input elements from which the default mode loads the kernels: the small CNN's first pool input
# (2.8M) saves ~8 ms a step, so the import is repaid within a few hundred steps
MIN_SIZE = 1 << 20
# elements of work (LSTM: steps * batch * units; embedding gradient: ids * dim) from which the sequence
# kernels are used in the default mode
MIN_WORK = 262_144

_state: dict = {"enabled": False if os.environ.get("FEATHERFLOW_NUMBA", "1") == "0" else None, "kernels": None}


def use_kernels(enabled: bool | None) -> None:
    """``False``: NumPy only; ``True``: kernels for every size (when Numba imports); ``None``: the default
    (kernels once an input of at least ``MIN_SIZE`` elements has loaded them)."""
    _state["enabled"] = None if enabled is None else bool(enabled)


def available() -> bool:
    """True when Numba imports (the kernels can be used)."""
    return _compiled() is not None


def get(name: str, size: int | None = None):
    """The compiled kernel ``name`` for an input of ``size`` elements, or ``None`` (Numba missing, kernels
    switched off, or not loaded yet and ``size`` below ``MIN_SIZE`` in the default mode)."""
    kernel = raw(name, size)
    return _traced(kernel) if kernel is not None and _compiler.tracing() else kernel


def raw(name: str, size: int | None = None, min_size: int | None = None):
    """The compiled kernel ``name`` itself (never wrapped as a host call: for code that records its own), by
    ``get``'s rule, or ``None``. With ``min_size`` the default mode decides by ``size`` alone: the kernel from
    ``min_size`` elements, loaded or not (so that two processes with the same inputs take the same path)."""
    enabled = _state["enabled"]
    if enabled is False:
        return None
    kernels = _state["kernels"] if min_size is None else None
    if kernels is None:
        if enabled is None and size is not None and size < (MIN_SIZE if min_size is None else min_size):
            return None
        kernels = _compiled()
    return kernels.get(name) if kernels else None


def _traced(kernel):
    """Inside a ``tf.function`` trace: the kernel as a host call (Numba takes real arrays; replays call it again)."""
    return lambda *args, **kwargs: _compiler.host_call(kernel, *args, **kwargs)


def get_for_work(name: str, work: int | None = None, min_work: int = MIN_WORK):
    """The compiled kernel ``name`` for ``work`` elements, or ``None`` (Numba missing, kernels switched off, or
    less than ``min_work`` in the default mode)."""
    enabled = _state["enabled"]
    if enabled is False or (enabled is None and work is not None and work < min_work):
        return None
    kernel = _compiled() and _state["kernels"].get(name)
    return _traced(kernel) if kernel and _compiler.tracing() else kernel


def _compiled():
    kernels = _state["kernels"]
    if kernels is None:
        try:
            kernels = _build()
        except ImportError:
            kernels = {}
        _state["kernels"] = kernels
    return kernels or None


def _build() -> dict:
    # import numba (ImportError without it); the kernels compile, or load from the cache, at their first call
    from featherflow.ops import (
        _numba_attention,
        _numba_conv,
        _numba_dropout,
        _numba_embedding,
        _numba_image,
        _numba_lstm,
        _numba_norm,
        _numba_optim,
        _numba_pool,
        _numba_softmax,
        _numba_xent,
    )

    return {"max_pool_2x2": _numba_pool.max_pool_2x2, "max_pool_2x2_argmax": _numba_pool.max_pool_2x2_argmax,
            "max_pool_2x2_grad": _numba_pool.max_pool_2x2_grad, "relu_grad": _numba_conv.relu_grad,
            "scatter_blocks": _numba_conv.scatter_blocks, "scatter_cols": _numba_conv.scatter_cols,
            "scatter_blocks_1ch": _numba_conv.scatter_blocks_1ch,
            "im2col_rows": _numba_conv.im2col_rows, "im2col_rows_padded": _numba_conv.im2col_rows_padded,
            "lstm_forward_step": _numba_lstm.lstm_forward_step, "lstm_backward_step": _numba_lstm.lstm_backward_step,
            "lstm_forward_rows": _numba_lstm.lstm_forward_rows, "lstm_backward_rows": _numba_lstm.lstm_backward_rows,
            "embedding_row_sums": _numba_embedding.embedding_row_sums, "adam": _numba_optim.adam,
            "projective_sample": _numba_image.projective_sample, "softmax_rows": _numba_attention.softmax_rows,
            "softmax_grad_rows": _numba_attention.softmax_grad_rows, "layer_norm_rows": _numba_norm.layer_norm_rows,
            "layer_norm_grad_rows": _numba_norm.layer_norm_grad_rows, "sparse_xent_rows": _numba_xent.sparse_xent_rows,
            "sparse_xent_grad": _numba_xent.sparse_xent_grad, "batch_norm_channels": _numba_norm.batch_norm_channels,
            "batch_norm_grad_channels": _numba_norm.batch_norm_grad_channels,
            "dropout_bits24": _numba_dropout.dropout_bits24, "dropout_bits53": _numba_dropout.dropout_bits53,
            "softmax_shift": _numba_softmax.softmax_shift, "softmax_normalize": _numba_softmax.softmax_normalize,
            "add_argmax_matches": _numba_softmax.add_argmax_matches}
