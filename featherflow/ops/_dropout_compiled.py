"""Inverted dropout's compiled path: the ``Dropout`` layer and ``tf.nn.dropout`` make the scaled keep mask and
the output in one Numba pass (``_numba_dropout``: a counter-based hash of one 64-bit seed drawn from the
generator per call) instead of drawing a uniform float per element from the PCG64 generator and comparing,
scaling and multiplying in NumPy. The mask follows the same rule (keep where a uniform in ``[0, 1)`` of 24 bits
for float32 data, 53 for float64, is at least the rate; kept entries ``1 / (1 - rate)``) from other random bits,
so the kernel and the NumPy path give different masks for one seed; each is reproducible under ``set_seed``.

Which path runs depends on the input's size only, never on what else the process ran (a worker process and
the parent draw the same masks): in the default mode the kernel for inputs of at least ``MIN_SIZE`` elements
(the seed MLP's 32 x 128; Numba is imported for it if nothing else needed it yet), ``use_kernels(True)`` for
every size, ``use_kernels(False)`` / ``FEATHERFLOW_NUMBA=0`` or a missing Numba never (see
``featherflow.ops._kernels``).

In a ``tf.function`` the draw and the kernel run as one host call (the generator read at every replay: the
global one that ``set_seed`` last made, or the layer's own), so eager and compiled steps draw the same masks and
compute the same values bit for bit. A program traced with the kernels that replays after ``use_kernels(False)``
computes the NumPy path's mask, as eager code then would.

Seed MLP (32 x 128 activations): the step ~8 us faster (one-thread A/B in one process); alone, ~5 us a call
instead of ~13 (the float32 draws ~11 us, then the mask and the product).

>>> import numpy as np
>>> from featherflow.ops import _kernels
>>> _kernels.use_kernels(True)  # every size (the default mode loads them for large inputs only)
>>> run = compiled_dropout(np.ones((2, 3), np.float32))
>>> out, mask = run(np.ones((2, 3), np.float32), 0.5, None) if run else (np.ones(1), np.ones(1))  # None: no Numba
>>> bool(np.array_equal(out, mask)) and set(np.unique(mask).tolist()) <= {0.0, 2.0}
True
>>> _kernels.use_kernels(None)
"""

from __future__ import annotations

import math

import numpy as np

from featherflow import compiler
from featherflow.backend import random as _random
from featherflow.ops import _kernels, array_kernels

# data dtype -> (kernel name, random bits per uniform)
_KERNELS = {np.dtype("float32"): ("dropout_bits24", 24), np.dtype("float64"): ("dropout_bits53", 53)}


MIN_SIZE = 4096  # elements from which the default mode uses the kernel (by size alone: see the module)


def compiled_dropout(x):
    """``run(x, rate, generator) -> (out, mask)`` for data shaped like ``x`` (NumPy or traced, float32/64, at
    least one element; a mask of ``x``'s own shape), recorded as one host call while tracing; ``None`` for the
    NumPy path. ``generator``: a NumPy Generator, or ``None`` for the global one (read at every call)."""
    entry = _KERNELS.get(x.dtype)
    if entry is None or x.size == 0:
        return None
    if type(x) is not np.ndarray and not compiler.is_traced(x):
        return None
    if _kernels.raw(entry[0], x.size, MIN_SIZE) is None:
        return None
    if compiler.tracing():
        # the step as the host call itself (not ``on_host_fixed``'s wrapper: ~1 us a step less); fixed shapes
        return lambda value, rate, generator: compiler.current().host(DropoutStep(rate, generator, value.dtype),
                                                                      (value,), {}, static=True)
    return apply_dropout


def apply_dropout(x, rate: float, generator=None):
    """``(x * mask, mask)`` with a fresh inverted-dropout ``mask`` (``0 <= rate < 1``) of ``x``'s shape and dtype
    (float32/64): the kernel's, or the NumPy path's when the kernels are switched off (see the module)."""
    return DropoutStep(rate, generator, x.dtype)(x)


class DropoutStep:
    """One dropout's work on real arrays, its constants worked out once (a traced step's host call keeps the
    object): ``step(x) -> (x * mask, mask)``, the mask drawn anew at every call."""

    __slots__ = ("rate", "generator", "dtype", "name", "threshold", "scale")

    def __init__(self, rate: float, generator, dtype) -> None:
        self.rate, self.generator, self.dtype = rate, generator, np.dtype(dtype)
        self.name, bits = _KERNELS[self.dtype]
        # the NumPy path compares draws of the data's precision with the rate converted to it (float32: NEP 50)
        self.threshold = math.ceil(float(self.dtype.type(rate)) * 2.0 ** bits)
        self.scale = 1.0 / (1.0 - rate)  # (the kernel rounds it to the data's dtype, as the NumPy path does)

    def __call__(self, x):
        rng = self.generator if self.generator is not None else _random.generator()
        enabled = _kernels._state["enabled"] is not False
        kernels = (_kernels._state["kernels"] or _kernels._compiled()) if enabled else None  # (a direct call loads)
        if not kernels:
            mask = array_kernels.dropout_mask(array_kernels.dropout_uniform(rng, x.shape, self.dtype), self.rate,
                                              self.dtype)
            return x * mask, mask
        seed = rng.bit_generator.random_raw()  # one 64-bit draw from the generator's stream per call
        if seed >= _SIGN:
            seed -= _WRAP  # the same bits as an int64: one compiled signature
        if not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)
        out = np.empty(x.shape, self.dtype)
        mask = np.empty(x.shape, self.dtype)
        kernels[self.name](x, seed, self.threshold, self.scale, out, mask)
        return out, mask

    __name__ = "dropout"  # the program's listing names the host call after the op


_SIGN, _WRAP = 1 << 63, 1 << 64
