"""Program rewrites: the same values with fewer or cheaper NumPy calls, decided once at compile time.

``optimize(steps, templates, tracer)`` runs after dead steps are dropped (``program.live_steps``):

* **constant folding**: a step whose inputs are all known at compile time (constants, or the shape and
  dtype of a value: ``ones_like(loss)``) and whose result nothing writes is computed once, from the trace,
  and becomes a constant: the gradient seed of a mean, ``ones_like(loss) * (1 / n)`` broadcast to the
  batch, costs nothing per call;
* **cheaper equivalents** of NumPy calls that run Python code per call: ``x.sum(axis)`` / ``x.max(axis)`` /
  ``x.min(axis)`` as ``add.reduce`` / ``maximum.reduce`` / ``minimum.reduce`` (what the methods call),
  ``x.mean(axis)`` as ``add.reduce(x, axis) / n`` (NumPy's own arithmetic), ``np.expand_dims(x, axis)`` as
  ``x[:, None]`` (the same view), ``np.argmax(x, axis)`` as ``x.argmax(axis)`` - bit for bit the same results;
* **copy elision**: ``copyto(dst, t)`` where ``t`` is a fresh result read by nothing else (a gradient
  written into the optimizer's flat gradient buffer) makes the step that computed ``t`` write into ``dst``
  directly (``out=dst``), one memory pass less.

>>> import numpy as np
>>> from featherflow.compiler import Program, Tracer
>>> tracer = Tracer()
>>> with tracer:
...     x = tracer.input(np.ones((2, 3)))
...     seed = np.ones_like(x.sum()) * 0.5  # known at compile time
...     y = np.expand_dims(x.mean(axis=1), -1) * seed
>>> print(Program(tracer, [y], ["x"]).source.strip())  # doctest: +NORMALIZE_WHITESPACE
def program(x):
    t4 = mean_of(x, 3, axis=1, keepdims=False)  # <doctest ...>
    t5 = t4[(slice(None, None, None), None)]  # <doctest ...>
    t6 = multiply(t5, const, out=b6)  # <doctest ...>
    return (t6.copy(),)
"""

from __future__ import annotations

import numpy as np

from featherflow.compiler.steps import Slot, Step, reads
from featherflow.compiler.steps import slots as _slots
from featherflow.compiler.traced import _MUTATING_METHODS, _PURE_METHODS
from featherflow.compiler.tracer import _WRITING_FUNCS

_SHAPE_ONLY = {np.ones_like, np.zeros_like, np.full_like}  # the first argument's values are not read
_REDUCTIONS = {"sum": np.add, "max": np.maximum, "min": np.minimum}


def mean_of(x, count, axis=None, keepdims=False):
    """``x.mean(axis, keepdims)`` for a float array, as NumPy computes it: the sum divided by the count."""
    return np.true_divide(np.add.reduce(x, axis=axis, keepdims=keepdims), count)


def _arrays(value, out: list) -> list:
    """Plain arrays (captured by reference) inside a step's arguments."""
    kind = type(value)
    if isinstance(value, np.ndarray):
        out.append(value)
    elif kind is tuple or kind is list:
        for v in value:
            _arrays(v, out)
    elif kind is dict:
        for v in value.values():
            _arrays(v, out)
    return out


def _written(step) -> list:
    """Slots (and plain arrays) a step may write into."""
    targets = []
    out = step.kwargs.get("out")
    if out is not None:
        targets.append(out)
    if step.kind == "host":
        targets += [step.args, step.kwargs]
    elif step.kind == "setitem" or (step.kind == "method" and step.attr in _MUTATING_METHODS):
        targets.append(step.args[0])
    elif step.kind == "call" and step.args and (step.fn in _WRITING_FUNCS or step.attr == "at"):
        targets.append(step.args[0])
    return targets


def _is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype in (np.float32, np.float64)


def cheaper(step, real):
    """A cheaper step computing the same value as ``step``, or ``step`` itself."""
    if step.kind == "method" and step.attr in ("sum", "max", "min", "mean") and type(step.outs) is int:
        target, rest = step.args[0], step.args[1:]
        kwargs = dict(step.kwargs)
        if len(rest) == 1 and "axis" not in kwargs:
            kwargs["axis"] = rest[0]
        elif rest:
            return step
        if set(kwargs) - {"axis", "keepdims"} or type(target) is not Slot or not _is_float_array(real[target.index]) \
                or _slots(kwargs, []):
            return step
        kwargs.setdefault("axis", None)
        kwargs.setdefault("keepdims", False)
        if step.attr == "mean":
            size = np.size(real[step.outs])
            if not size:
                return step
            count = real[target.index].size // size
            new = Step("call", mean_of, None, (target, count), kwargs, False, step.where)
        else:
            new = Step("call", _REDUCTIONS[step.attr], "reduce", (target,), kwargs, False, step.where)
        new.outs = step.outs
        return new
    if step.kind == "call" and step.fn is np.mean and type(step.outs) is int and len(step.args) == 1 and \
            type(step.args[0]) is Slot:  # np.mean(x, axis=...): the method's form
        method = Step("method", None, "mean", step.args, step.kwargs, False, step.where)
        method.outs = step.outs
        new = cheaper(method, real)
        return new if new is not method else step
    if step.kind == "call" and step.fn in (np.argmax, np.argmin) and type(step.outs) is int and step.args and \
            type(step.args[0]) is Slot and len(step.args) <= 2 and set(step.kwargs) <= {"axis"} and \
            not _slots((step.args[1:], step.kwargs), []):
        kwargs = dict(step.kwargs)
        if len(step.args) == 2:
            kwargs["axis"] = step.args[1]
        new = Step("method", None, step.fn.__name__, (step.args[0],), kwargs, False, step.where)
        new.outs = step.outs
        return new
    if step.kind == "call" and step.fn is np.expand_dims and type(step.outs) is int and not step.dynamic:
        args = list(step.args)
        axis = step.kwargs.get("axis", args[1] if len(args) > 1 else None)
        if len(args) + len(step.kwargs) != 2 or type(args[0]) is not Slot or axis is None or _slots(axis, []):
            return step
        out_ndim = np.ndim(real[step.outs])
        axes = {a % out_ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,))}
        index = tuple(None if i in axes else slice(None) for i in range(out_ndim))
        new = Step("method", None, "__getitem__", (args[0], index), {}, False, step.where)
        new.outs = step.outs
        return new
    return step


def _foldable(step, folded: dict, blocked: set) -> bool:
    if step.guard is not None:  # runs only in its branch: its trace-time value is not the value of every call
        return False
    if step.effect or step.dynamic or type(step.outs) is not int or step.outs in blocked or "out" in step.kwargs:
        return False
    if step.kind == "method":
        if step.attr not in _PURE_METHODS and step.attr != "__getitem__":
            return False
        args = step.args
    elif step.kind == "call":
        if step.attr is not None and step.attr not in ("reduce",):
            return False
        args = step.args[1:] if step.fn in _SHAPE_ONLY else step.args
    else:
        return False
    if _arrays((args, step.kwargs), []):
        return False  # a plain array is read by reference at every call: never a constant
    return all(s in folded for s in _slots((args, step.kwargs), []))


def optimize(steps: list, templates, real: list):
    """``(steps, constants)``: the rewritten steps and ``{slot: value}`` of the folded ones (see the module
    docstring)."""
    steps = [_guarded_like(cheaper(step, real), step) for step in steps]
    written = []
    for step in steps:
        for target in _written(step):
            written += _slots(target, [])
            written += _arrays(target, [])
    blocked: set = set()
    while True:
        folded: dict = {}
        for step in steps:
            if _foldable(step, folded, blocked):
                folded[step.outs] = real[step.outs]
        clash = set()
        for slot, value in folded.items():
            if not isinstance(value, np.ndarray):
                continue
            for w in written:
                other = real[w] if type(w) is int else w
                if (type(w) is int and w == slot) or (isinstance(other, np.ndarray) and
                                                      np.may_share_memory(other, value)):
                    clash.add(slot)
                    break
        if not clash:
            break
        blocked |= clash
    steps = [step for step in steps if not (type(step.outs) is int and step.outs in folded)]
    steps = _elide_copies(steps, templates, real)
    constants = {}
    for slot, value in folded.items():
        if isinstance(value, np.ndarray):
            value = np.array(value.view(np.ndarray))
            value.flags.writeable = False
        constants[slot] = value
    return steps, constants


def _guarded_like(new, step):
    new.guard = step.guard
    return new


def _elide_copies(steps: list, templates, real: list) -> list:
    readers: dict = {}
    for position, step in enumerate(steps):
        for slot in _slots(reads(step), []):
            readers.setdefault(slot, []).append(position)
    outputs = set(_slots(templates, []))
    producer = {step.outs: position for position, step in enumerate(steps) if type(step.outs) is int}
    drop, replaced = set(), {}
    for position, step in enumerate(steps):
        if step.kind != "call" or step.fn is not np.copyto or len(step.args) != 2 or \
                set(step.kwargs) - {"casting"}:
            continue
        dst, src = step.args
        if not isinstance(dst, np.ndarray) or type(src) is not Slot or src.index in outputs or \
                readers.get(src.index) != [position] or src.index not in producer:
            continue
        value = real[src.index]
        if not isinstance(value, np.ndarray) or value.shape != dst.shape or value.dtype != dst.dtype:
            continue
        start = producer[src.index]
        made = steps[start]
        if made.guard != step.guard:
            continue
        ufunc = isinstance(made.fn, np.ufunc) and made.kind == "call"
        if not ufunc or made.fn.nout != 1 or "out" in made.kwargs or made.dynamic or made.attr not in (None, "reduce"):
            continue
        if any(_touches(steps[k], dst, real) for k in range(start, position)):
            continue
        new = Step(made.kind, made.fn, made.attr, made.args, {**made.kwargs, "out": dst}, True, made.where)
        new.outs = made.outs
        new.guard = made.guard
        replaced[start] = new
        drop.add(position)
    return [replaced.get(k, step) for k, step in enumerate(steps) if k not in drop]


def _touches(step, array, real) -> bool:
    """Whether ``step`` reads or writes memory shared with ``array``."""
    for value in _arrays((step.args, step.kwargs), []):
        if np.may_share_memory(value, array):
            return True
    for slot in _slots((step.args, step.kwargs), []):
        value = real[slot]
        if isinstance(value, np.ndarray) and np.may_share_memory(value, array):
            return True
    return False
