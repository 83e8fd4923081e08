"""``finite_outputs``: which outputs of a program are finite for every call, proven from its steps.

A ``Dataset.map`` function that normalises uint8 images (``tf.cast(x, tf.float32) / 255.0``) can only produce
finite floats: its input is bounded by its dtype and every step keeps a bounded value bounded. ``fit`` checks
each batch for NaN and infinity; for an output proven finite here that check (a pass over the batch) is not
needed.

The proof tracks a bound on the magnitude of every value (``|v| <= m``), from the inputs' bounds (an integer
input is bounded by its dtype's range) through a small set of steps: ``add``, ``subtract``, ``multiply``,
``negative``, ``absolute``, ``maximum``, ``minimum``, ``square``, ``tanh``, ``exp``, division by a finite
nonzero constant, ``astype`` and reshaping or indexing. A magnitude bound stays true when integer arithmetic
wraps around (a wrapped value lies in its dtype's range, inside the bound that overflowed it); steps whose
result depends on a lower bound or a sign (``sqrt``, ``log``, division by a computed value) are not followed.
Every value must stay below ``LIMIT`` (within float16's range, so the proof holds for any float dtype). Any
other step, and any program that writes into an array (an in-place update, a host call), proves nothing.
An array the program reads by reference (a NumPy array from outside the function) bounds nothing: it may
change after the proof. The one exception is a 0-d array, which is how ops hold the Python scalars they
convert (``x / 255.0``); a user's own 0-d array changed in place to infinity after tracing would not be seen.

>>> import numpy as np
>>> from featherflow.compiler import Program, Tracer
>>> tracer = Tracer()
>>> with tracer:
...     x = tracer.input(np.zeros(3, dtype=np.uint8))
...     y = x.astype(np.float32) / np.float32(255.0)
...     z = x * 1e30
>>> finite_outputs(Program(tracer, [y, z], ["x"]), [255.0])
[True, False]
"""

from __future__ import annotations

import math

import numpy as np

from featherflow.compiler.steps import Slot

LIMIT = 6.0e4  # below float16's largest finite value (65504), with room for rounding

_SUM = (np.add, np.subtract)
_EXTREME = (np.maximum, np.minimum, np.fmax, np.fmin)
_SAME = ("reshape", "ravel", "copy", "transpose", "__getitem__", "squeeze", "flatten", "swapaxes")


def dtype_bound(dtype) -> float | None:
    """The largest magnitude of a value of an integer or bool ``dtype`` (``None`` for others)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return 1.0
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return float(max(-int(info.min), int(info.max)))
    return None


def _constant_bound(value, arrays: bool = False) -> float | None:
    """The largest magnitude of a constant. An ndarray met in a step's arguments is read by reference at every
    call and may change, so it bounds nothing unless it is 0-d (the scalars ops convert, e.g. the ``255.0`` of
    ``x / 255.0``) or ``arrays`` is set (a folded constant the program owns)."""
    if isinstance(value, (bool, int, float, np.generic)) or (
            isinstance(value, np.ndarray) and (arrays or value.ndim == 0)):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf" and arr.size:
            bound = float(np.max(np.abs(arr.astype(np.float64))))
            return bound if math.isfinite(bound) else None
    return None


def _constant_floor(value, arrays: bool = False) -> float | None:
    """The smallest magnitude of a finite numeric constant (division by it is safe when positive); ndarrays as
    in ``_constant_bound``."""
    if isinstance(value, (bool, int, float, np.generic)) or (
            isinstance(value, np.ndarray) and (arrays or value.ndim == 0)):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf" and arr.size and np.isfinite(arr).all():
            return float(np.min(np.abs(arr.astype(np.float64))))
    return None


def _step_bound(step, bound_of, constant_of) -> float | None:
    args = step.args
    if step.kind == "method":
        target = bound_of(args[0])
        if step.attr == "astype":
            dtype = args[1] if len(args) > 1 else step.kwargs.get("dtype")
            try:
                integer = dtype_bound(dtype)
            except TypeError:
                return None
            if np.dtype(dtype).kind not in "biuf":
                return None
            return integer if integer is not None else target
        return target if step.attr in _SAME else None
    fn = step.fn
    if step.kind != "call" or step.attr is not None or not isinstance(fn, np.ufunc) or fn.nout != 1:
        return None
    bounds = [bound_of(a) for a in args]
    if len(args) != fn.nin or any(b is None for b in bounds):
        return None
    if fn in _SUM:
        return bounds[0] + bounds[1]
    if fn is np.multiply:
        return bounds[0] * bounds[1]
    if fn in _EXTREME:
        return max(bounds)
    if fn in (np.negative, np.absolute, np.positive):
        return bounds[0]
    if fn is np.square:
        return bounds[0] * bounds[0]
    if fn is np.tanh:
        return 1.0
    if fn is np.exp:
        return math.exp(bounds[0]) if bounds[0] < 30.0 else None
    if fn is np.true_divide:
        floor = constant_of(args[1])
        return bounds[0] / floor if floor else None
    return None


def finite_outputs(program, input_bounds: list) -> list:
    """For each output of ``program``, whether it is proven finite for any inputs within ``input_bounds``.

    Args:
        program: a ``featherflow.compiler.Program``.
        input_bounds: one per program input, the largest magnitude its values can have, or ``None`` (any value,
            NaN and infinity included); ``dtype_bound(array.dtype)`` gives it for an integer array.

    Returns:
        A list of bools, one per output (``False`` where nothing is proven).
    """
    templates = program._templates
    bounds: dict = dict(zip(program._input_slots, input_bounds))
    constants = program._constant_slots

    def bound_of(value):
        if type(value) is Slot:
            if value.index in constants:
                return _constant_bound(constants[value.index], arrays=True)
            return bounds.get(value.index)
        return _constant_bound(value)

    def constant_of(value):
        if type(value) is Slot:
            return _constant_floor(constants[value.index], arrays=True) if value.index in constants else None
        return _constant_floor(value)

    for step in program.steps:
        if step.effect or "out" in step.kwargs or "where" in step.kwargs:
            return [False] * len(templates)  # a write into an array: nothing is proven
        if type(step.outs) is not int:  # several results (or none): not followed
            for slot in step.outs or ():
                bounds[slot] = None
            continue
        bound = _step_bound(step, bound_of, constant_of)
        bounds[step.outs] = bound if bound is not None and bound <= LIMIT else None
    return [bound_of(t) is not None for t in templates]
