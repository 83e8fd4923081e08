"""NumPy patched for tracing: while any thread traces a ``tf.function``, NumPy's conversion functions
(``np.asarray``, ``np.array``...) and creation functions (``np.zeros``, ``np.empty``...) are wrapped, and
featherflow's random draws are hooked, for the tracing thread only (other threads get NumPy's own).

* a conversion of a traced value records a step instead of reading the value out (``Tracer.function``);
* a creation hands out a ``TracedBuffer`` (``buffers.py``) whose uses after a recorded write are recorded;
* a draw from one of featherflow's generators is a host call, so every replay draws fresh values.

``install`` / ``uninstall`` are counted (nested and concurrent traces); ``original(name)`` is NumPy's own
function whatever the state.

>>> import numpy as np
>>> original("zeros") is np.zeros  # nothing is tracing
True
"""

from __future__ import annotations

import sys
import threading

import numpy as np

from featherflow.backend import random as _backend_random
from featherflow.compiler import _state
from featherflow.compiler import buffers as _buffers
from featherflow.compiler._state import _local
from featherflow.compiler.buffers import TracedBuffer
from featherflow.compiler.traced import TracedArray

_CONVERSION = ("asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "array")
# modules whose calls to NumPy's creation functions are never traced (NumPy's own Python code, and the
# backend's, which makes real arrays only: random generators' seeding, for instance)
_UNTRACED_CALLERS = ("numpy", "featherflow.backend")
_patch_lock = threading.Lock()
_originals: dict = {}


def _contains_traced(value) -> bool:
    if isinstance(value, TracedArray):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_traced(v) for v in value)
    return False


def _conversion(original):
    def convert(a, *args, **kwargs):
        tracer = _local.tracer
        if type(a) is TracedBuffer and tracer is not None and not _local.suspended and not tracer.closed:
            if tracer.is_written(a):
                return tracer.function(original, (a,) + args, kwargs, forced=True)
            result = original(a.view(np.ndarray), *args, **kwargs)
            return _buffers.adopt(result, tracer)  # a view stays a view of the buffer; a copy is a new buffer
        if tracer is None or _local.suspended or not _contains_traced(a) or \
                sys._getframe(1).f_globals.get("__name__", "").startswith(_UNTRACED_CALLERS):
            return original(a, *args, **kwargs)
        if (isinstance(a, TracedArray) and original.__name__ in ("asarray", "asanyarray") and not args
                and kwargs.get("copy") is not True and kwargs.get("order") in (None, "K", "A")
                and (kwargs.get("dtype") is None or np.dtype(kwargs["dtype"]) == a.dtype)):
            return a
        return tracer.function(original, (a,) + args, kwargs, forced=True)

    convert.__name__ = original.__name__
    convert.__doc__ = original.__doc__
    convert.__wrapped__ = original
    return convert


def _creation(original):
    def create(*args, **kwargs):
        tracer = _local.tracer
        if tracer is None or _local.suspended or tracer.closed or (args and _contains_traced(args[0])) or \
                sys._getframe(1).f_globals.get("__name__", "").startswith(_UNTRACED_CALLERS):
            return original(*args, **kwargs)
        result = original(*_buffers.plain(args), **kwargs)
        if type(result) is not np.ndarray:
            return result
        tracer.new_buffer(result, fresh=original.__name__.startswith("empty"))
        return result.view(TracedBuffer)

    create.__name__ = original.__name__
    create.__doc__ = original.__doc__
    create.__wrapped__ = original
    return create


def install() -> None:
    """Wrap NumPy's functions (the first of nested or concurrent traces does it)."""
    with _patch_lock:
        _state.ACTIVE[0] += 1
        if _state.ACTIVE[0] > 1:
            return
        for name in _CONVERSION:
            _originals[name] = getattr(np, name)
            setattr(np, name, _conversion(_originals[name]))
        for name in _buffers._CREATION:
            _originals[name] = getattr(np, name)
            setattr(np, name, _creation(_originals[name]))
        _backend_random._DRAW_HOOK[0] = _draw


def uninstall() -> None:
    """Put NumPy's functions back (the last trace to end does it)."""
    with _patch_lock:
        _state.ACTIVE[0] -= 1
        if _state.ACTIVE[0] > 0:
            return
        for name, original in _originals.items():
            setattr(np, name, original)
        _originals.clear()
        _backend_random._DRAW_HOOK[0] = None


def _draw(method, generator, args, kwargs):
    """A draw from one of featherflow's generators: recorded as a host call while tracing, so every replay
    draws fresh values (in the order eager code would)."""
    tracer = _local.tracer
    if tracer is None or _local.suspended:
        return method(generator, *args, **kwargs)
    if generator is _backend_random._state["generator"]:  # the global one: whichever it is at each replay
        return tracer.host(_global_draw, (method,) + tuple(args), kwargs, static=True,
                           name=f"random.{method.__name__}")  # (set_seed makes a new generator)
    return tracer.host(method, (generator,) + tuple(args), kwargs, static=True, name=f"random.{method.__name__}")


def _global_draw(method, *args, **kwargs):
    return method(_backend_random.generator(), *args, **kwargs)


def original(name: str):
    """NumPy's own ``name`` function, unwrapped (for code that must create a real array during a trace)."""
    return _originals.get(name) or getattr(np, name)
