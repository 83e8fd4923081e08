"""``TracedBuffer``: a plain array created by the traced code itself (``np.zeros``, ``np.empty``...).

Ops fill work buffers in place: ``buf = np.empty(n); np.dot(h, u, out=buf)``. When a traced value is
written into such a buffer (a recorded step), the buffer's contents are program values: plain NumPy code that
reads it afterwards (``buf * 1.0``, ``rows[s] = buf[:, :u]``, ``buf.copy()``) must be recorded too, or the
program would replay a value frozen at trace time. An ``ndarray`` cannot be watched, so while a function is
traced NumPy's creation functions hand the tracing thread a ``TracedBuffer``: an ``ndarray`` subclass that
behaves as a plain array until a recorded step writes into it (the buffer is then *written*), and whose every
later use is recorded as a step on the buffer (captured by reference, so replay reads its new contents).
The program itself only ever sees plain ndarray views of the buffers.

A recorded write into a plain array the trace did not create (and that is not bound state) cannot be watched
this way: the tracer reports it as an escape (``Tracer.finish``), so the function falls back to eager or the
trace fails, never a silently frozen value.

>>> import numpy as np
>>> from featherflow.compiler import Program, Tracer
>>> tracer = Tracer()
>>> with tracer:
...     x = tracer.input(np.array([1.0, 2.0, 3.0]))
...     buf = np.zeros(3)
...     np.add.at(buf, [0, 0, 2], x)
...     y = buf * 10.0  # plain NumPy on the written buffer: recorded
>>> program = Program(tracer, [y], ["x"])
>>> program(np.array([5.0, 1.0, 2.0]))[0]
array([60.,  0., 20.])
"""

from __future__ import annotations

import numpy as np

from featherflow.compiler._state import _local
from featherflow.compiler.traced import TracedArray

_CREATION = ("empty", "zeros", "ones", "full", "empty_like", "zeros_like", "ones_like", "full_like")


def root_of(array):
    """The array owning ``array``'s memory (following ``.base``)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def plain(value):
    """``value`` with every TracedBuffer (also inside lists and tuples) replaced by a plain ndarray view."""
    kind = type(value)
    if kind is TracedBuffer:
        return value.view(np.ndarray)
    if kind is tuple or kind is list:
        return kind(plain(v) for v in value)
    return value


def _walk(value):
    kind = type(value)
    if kind is tuple or kind is list:
        for v in value:
            yield from _walk(v)
    elif kind is dict:
        for v in value.values():
            yield from _walk(v)
    else:
        yield value


def _active():
    tracer = _local.tracer
    if tracer is None or _local.suspended or tracer.closed:
        return None
    return tracer


def _written(tracer, values) -> bool:
    for v in _walk(values):
        if type(v) is TracedBuffer and tracer.is_written(v):
            return True
    return False


def _has_traced(values) -> bool:
    for v in _walk(values):
        if isinstance(v, TracedArray):
            return True
    return False


def adopt(result, tracer):
    """Results of plain NumPy on buffers, during a trace: buffers too (a copy is a new buffer)."""
    if type(result) is np.ndarray:
        tracer.new_buffer(result)
        return result.view(TracedBuffer)
    if isinstance(result, tuple) and all(type(r) is np.ndarray for r in result):
        return type(result)(adopt(r, tracer) for r in result) if not hasattr(result, "_fields") else \
            type(result)(*(adopt(r, tracer) for r in result))
    return result


class TracedBuffer(np.ndarray):
    """An array made by the traced code: plain until a recorded step writes into it, recorded afterwards."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        tracer = _active()
        if tracer is not None and _written(tracer, (inputs, kwargs.get("out", ()))):
            return tracer.ufunc(ufunc, method, inputs, kwargs)
        if _has_traced((inputs, kwargs.get("out", ()))):
            return NotImplemented  # TracedArray's own handler records it (and notes the write into a buffer)
        out = kwargs.get("out")
        if out is not None:
            kwargs = {**kwargs, "out": plain(out)}
        result = getattr(ufunc, method)(*plain(inputs), **kwargs)
        if tracer is not None:
            targets = (out if isinstance(out, tuple) else (out,)) if out is not None else \
                inputs[:1] if method == "at" else ()
            for target in targets:
                tracer.buffer_plain_write(target)
        if out is not None:
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        return adopt(result, tracer) if tracer is not None else result

    def __array_function__(self, func, types, args, kwargs):
        tracer = _active()
        if tracer is not None and _written(tracer, (args, kwargs)):
            return tracer.function(func, args, kwargs)
        if _has_traced((args, kwargs)):
            return NotImplemented
        out = kwargs.get("out")
        result = func(*plain(args), **{k: plain(v) for k, v in kwargs.items()})
        if tracer is not None:
            if args and func in _WRITES_FIRST:
                tracer.buffer_plain_write(args[0])
            for target in (out if isinstance(out, tuple) else (out,)) if out is not None else ():
                tracer.buffer_plain_write(target)
            return out if out is not None else adopt(result, tracer)
        return out if out is not None else result

    # -- the rest of ndarray's surface, once written: the same operation on the captured traced value -------
    def _captured(self):
        tracer = _active()
        if tracer is not None and tracer.is_written(self):
            return tracer.capture(self)
        return None

    def __getitem__(self, key):
        traced = self._captured()
        if traced is not None:
            return traced[key]
        if _has_traced(key):
            return _active().capture(self)[key]
        return super().__getitem__(key)

    def __setitem__(self, key, value) -> None:
        tracer = _active()
        if tracer is not None and (tracer.is_written(self) or _has_traced((key, value)) or _written(tracer, value)):
            tracer.note_buffer_write(self)
            tracer.capture(self)[key] = value
            return
        if tracer is not None:
            tracer.buffer_plain_write(self)
        super().__setitem__(key, plain(value))

    def __reduce_ex__(self, protocol):
        return np.asarray(self.view(np.ndarray)).__reduce_ex__(protocol)


def _forward(name):
    base = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        traced = self._captured()
        if traced is not None:
            return getattr(traced, name)(*args, **kwargs)
        result = base(self.view(np.ndarray), *plain(args), **kwargs)
        tracer = _active()
        if tracer is None:
            return result
        if name in ("fill", "sort"):
            tracer.buffer_plain_write(self)
        return adopt(result, tracer)

    method.__name__ = name
    return method


def _forward_scalar(name):
    base = getattr(np.ndarray, name)

    def method(self, *args):
        traced = self._captured()
        if traced is not None:
            return getattr(traced, name)(*args)
        return base(self.view(np.ndarray), *args)

    method.__name__ = name
    return method


# methods that read the data without a ufunc (a copy, a Python value): recorded on a written buffer
for _name in ("copy", "astype", "flatten", "ravel", "reshape", "dot", "argmax", "argmin", "argsort", "take",
              "repeat", "nonzero", "cumsum", "cumprod", "diagonal", "compress", "choose", "searchsorted", "round",
              "trace", "transpose", "swapaxes", "squeeze", "fill", "sort", "item", "tolist", "tobytes"):
    setattr(TracedBuffer, _name, _forward(_name))
for _name in ("__float__", "__int__", "__bool__", "__index__", "__complex__", "__format__"):
    setattr(TracedBuffer, _name, _forward_scalar(_name))
del _name

_WRITES_FIRST = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis}
