"""The compiler behind ``tf.function``: trace a Python function once, replay a compiled NumPy program.

Layer: between ``backend`` and ``core`` (it knows arrays only; ``core/function.py`` builds ``tf.function``
on it). The pieces:

* ``TracedArray`` (``traced.py``): the stand-in for an ndarray during a trace;
* ``Tracer`` (``tracer.py``): records every NumPy call on traced arrays as a program step;
* ``Program`` (``program.py``): the steps compiled into one Python function with planned buffers;
* ``host_call``: run a Python (or Numba) callable on real arrays now and at every replay: random draws,
  compiled kernels, ``tf.py_function``, ``tf.print``;
* ``state``: bind an array a program reads and writes in place (optimizer buffers) to the program;
* ``init_scope``: one-time setup during a trace, on real values, unrecorded;
* ``fresh_outputs`` (``handover.py``): a program's calls that hand their result buffers over uncopied;
* ``finite_outputs`` (``bounds.py``): which outputs of a program are proven finite from its inputs' bounds;
* ``tracing()`` / ``tracing_anywhere()``: whether this thread / any thread is tracing.

>>> import numpy as np
>>> tracer = Tracer()
>>> with tracer:
...     x = tracer.input(np.array([1.0, -2.0]))
...     y = np.maximum(x, 0.0) * 3.0
>>> program = Program(tracer, [y], ["x"])
>>> program(np.array([4.0, 5.0]))[0]
array([12., 15.])
"""

from __future__ import annotations

from featherflow.compiler._state import TraceError, current, init_scope, tracing, tracing_anywhere
from featherflow.compiler.bounds import dtype_bound, finite_outputs
from featherflow.compiler.buffers import TracedBuffer
from featherflow.compiler.errors import OperatorNotAllowedInGraphError
from featherflow.compiler.handover import fresh_outputs
from featherflow.compiler.program import Program
from featherflow.compiler.traced import TracedArray, concrete, is_traced
from featherflow.compiler.tracer import Tracer


def host_call(fn, *args, **kwargs):
    """Call ``fn(*args, **kwargs)`` on real arrays; inside a trace, also record it to run at every replay.

    Outside a trace this is just the call. Inside one, traced arguments are replaced by their real arrays
    (for the call now, and by that call's arrays at each replay), the result's arrays become traced values,
    and the call is never dropped from the program. Use it for code NumPy cannot trace: Numba kernels,
    random draws, ``tf.py_function`` bodies, printing at run time.

    >>> import numpy as np
    >>> float(host_call(np.sum, np.ones(3)))
    3.0
    """
    tracer = current()
    if tracer is None:
        return fn(*args, **kwargs)
    return tracer.host(fn, args, kwargs)


def state(array, name: str = "state"):
    """Inside a trace, ``array`` (an array the function reads and updates in place, such as an optimizer's
    flat buffer) as a traced value bound to that very array; outside a trace, ``array`` itself.

    >>> import numpy as np
    >>> a = np.zeros(2)
    >>> state(a) is a
    True
    """
    tracer = current()
    if tracer is None or array is None or is_traced(array):
        return array
    return tracer.state(array, name)


__all__ = [
    "OperatorNotAllowedInGraphError",
    "Program",
    "TraceError",
    "TracedArray",
    "TracedBuffer",
    "Tracer",
    "concrete",
    "current",
    "dtype_bound",
    "finite_outputs",
    "fresh_outputs",
    "host_call",
    "init_scope",
    "is_traced",
    "state",
    "tracing",
    "tracing_anywhere",
]
