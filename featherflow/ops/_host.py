"""``on_host``: an op's array work run as one compiler host call while ``tf.function`` traces.

The fast kernels of the convolutions, pooling and fused recurrent ops work on real ndarrays: pooled work
buffers (``_workspace``), ``as_strided`` windows, in-place writes of one buffer into another, threads and
optional Numba kernels. A trace cannot see inside such code (a strided view of a traced value reads it out),
so the op runs that work as ``on_host(fn, ...)``: outside a trace it is the plain call; inside one,
``featherflow.compiler.host_call`` runs ``fn`` on the real arrays now and again at every replay of the
compiled program, on that call's arrays. The op keeps its one kernel (eager and compiled steps run the same
code, so their results are bit-identical) and the tape records its backward rule as usual; the rule calls
its own array work through ``on_host`` too, with the forward's saved arrays as arguments (never captured
trace-time values, which a replay would not update).

``fn`` returns an array or a tuple of arrays in which some entries may be ``None`` (a gradient not asked
for); the ``None`` entries are the same at every call with the same non-array arguments.

>>> import numpy as np
>>> on_host(lambda a, b: (a + b, None), np.ones(2), np.ones(2))
(array([2., 2.]), None)
"""

from __future__ import annotations

from featherflow import compiler as _compiler


def is_traced(value) -> bool:
    """Whether ``value`` is a traced array (a value inside a ``tf.function`` trace).

    >>> import numpy as np
    >>> is_traced(np.zeros(1))
    False
    """
    return _compiler.is_traced(value)


def on_host(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; inside a ``tf.function`` trace, recorded as a host call (see the module)."""
    if _compiler.current() is None:
        return fn(*args, **kwargs)
    return _traced_call(fn, args, kwargs, False)


def on_host_fixed(fn, *args, **kwargs):
    """``on_host`` for array work whose output shapes depend only on its arguments' shapes and non-array
    arguments (a convolution, not a ``unique``): the compiled program may then give the steps that use its
    outputs fixed result buffers and fuse them, as it does after any NumPy call (a host call's outputs are
    otherwise taken as data-dependent in shape).

    >>> import numpy as np
    >>> on_host_fixed(np.add, np.ones(2), np.ones(2))
    array([2., 2.])
    """
    if _compiler.current() is None:
        return fn(*args, **kwargs)
    return _traced_call(fn, args, kwargs, True)


def _traced_call(fn, args, kwargs, static: bool):
    layout: list = []

    def packed(*a, **k):
        result = fn(*a, **k)
        if not isinstance(result, tuple):
            return result
        nones = tuple(r is None for r in result)
        if not layout:
            layout.append(nones)
        elif nones != layout[0]:
            raise RuntimeError(f"{getattr(fn, '__name__', fn)} returned None in other places at a replay than "
                               f"when it was traced: {nones} vs {layout[0]}")
        arrays = tuple(r for r in result if r is not None)
        return arrays or None  # all None: nothing to hand back

    result = _compiler.current().host(packed, args, kwargs, static=static)
    if not layout:
        return result
    arrays = iter(result if isinstance(result, tuple) else (result,))
    return tuple(None if none else next(arrays) for none in layout[0])


def untraceable(value, what: str):
    """Inside a ``tf.function`` trace, mark the trace as not compilable when ``value`` is traced (``what``: the
    op, for the compiler's one warning); the op then runs on the real arrays and the function falls back to
    eager. For ops whose array work is not yet split into ``on_host`` forward and backward functions: a partly
    recorded trace of their in-place work on plain buffers would replay stale values.

    >>> import numpy as np
    >>> untraceable(np.zeros(1), "an op")
    array([0.])
    """
    tracer = _compiler.current()
    if tracer is None or not _compiler.is_traced(value):
        return value
    return tracer.escape(value, f"{what} (its kernel is not traceable yet)")
