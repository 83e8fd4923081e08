"""``tf.py_function`` and ``tf.numpy_function``: run Python code inside a TensorFlow program.

featherflow executes eagerly, so both simply call ``func``:

- ``py_function`` passes tensors and returns tensors; the featherflow ops inside ``func`` are recorded, so
  it is differentiable like any other code (as TensorFlow's eager ``py_function`` is);
- ``numpy_function`` passes NumPy arrays and converts the results; no gradient flows through it.

Results are checked against ``Tout`` (a dtype, a list of dtypes, or TensorSpecs; ``None`` for no output).

>>> import featherflow as ff
>>> ff.numpy_function(lambda a: a * 2, [ff.constant([1, 2])], Tout=ff.int32).numpy()
array([2, 4], dtype=int32)
"""

from __future__ import annotations

import numpy as np

from featherflow import compiler as _compiler
from featherflow.core import nest
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.runtime import state as _runtime
from featherflow.core.tensor import Tensor, convert_to_tensor


class StandInValuesError(RuntimeError):
    """Raised by ``py_function`` / ``numpy_function`` while ``tf.data`` runs a function on stand-in elements:
    the user's Python code is not called with made-up values (the dataset looks at a real element instead)."""


def _refuse_stand_ins(op: str) -> None:
    if _runtime.stand_ins:
        raise StandInValuesError(f"{op} is not run on tf.data's stand-in elements.")


def _dtype_of(spec):
    return np.dtype(getattr(spec, "dtype", spec))


def _finish(result, Tout, op):  # noqa: N803 - TensorFlow's name
    """``func``'s results as tensors of ``Tout``: tensors must already have that dtype, Python values are converted
    to it, NumPy arrays keep their dtype (TensorFlow's eager behaviour)."""
    if Tout is None:
        return None
    single = not isinstance(Tout, (list, tuple))
    specs = [Tout] if single else list(Tout)
    values = [result] if single else (list(result) if isinstance(result, (list, tuple)) else [result])
    if len(values) != len(specs):
        raise ValueError(f"{op}: func returned {len(values)} values but Tout lists {len(specs)}.")
    out = []
    for i, (value, spec) in enumerate(zip(values, specs)):
        dtype = _dtype_of(spec)
        try:
            if isinstance(value, (np.ndarray, np.generic)):
                out.append(convert_to_tensor(np.asarray(value)))
            else:
                out.append(convert_to_tensor(value, dtype=dtype))
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(None, None, f"{op}: result {i} does not match Tout ({dtype.name}): {exc}") \
                from None
    return out[0] if single else out


def py_function(func=None, inp=None, Tout=None, name=None):  # noqa: N803 - TensorFlow's name
    """Call ``func(*inp)`` on tensors; differentiable through the ops ``func`` runs.

    Also usable as a decorator: ``@py_function(Tout=tf.float32)``.

    >>> import featherflow as ff
    >>> x = ff.constant(3.0)
    >>> with ff.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = ff.py_function(lambda t: t * t, [x], Tout=ff.float32)
    >>> float(tape.gradient(y, x))
    6.0
    """
    if func is None:
        return lambda f: (lambda *args: py_function(f, list(args), Tout, name))
    if not callable(func):
        raise TypeError(f"py_function: func must be callable. Received: {func!r}")
    _refuse_stand_ins("py_function")
    inputs = [v if isinstance(v, Tensor) else convert_to_tensor(v) for v in nest.flatten(inp or [])]
    return _finish(func(*inputs), Tout, "py_function")


def numpy_function(func=None, inp=None, Tout=None, stateful=True, name=None):  # noqa: N803 - TensorFlow's name
    """Call ``func(*arrays)`` on NumPy arrays and convert its results to tensors of ``Tout`` (no gradient).

    >>> import featherflow as ff
    >>> ff.numpy_function(lambda a: np.sort(a), [ff.constant([3.0, 1.0])], Tout=ff.float32).numpy()
    array([1., 3.], dtype=float32)
    """
    if func is None:
        return lambda f: (lambda *args: numpy_function(f, list(args), Tout, stateful, name))
    if not callable(func):
        raise TypeError(f"numpy_function: func must be callable. Received: {func!r}")
    _refuse_stand_ins("numpy_function")
    if _compiler.tracing():  # in a tf.function: func runs at every call of the compiled program
        values = [v.value if isinstance(v, Tensor) else v for v in nest.flatten(inp or [])]
        single = not isinstance(Tout, (list, tuple))

        def run(*arrays):
            out = numpy_function(func, [np.array(a) for a in arrays], Tout, stateful, name)
            return None if out is None else [t.value for t in ([out] if single else out)]

        result = _compiler.host_call(run, *values)
        if result is None:
            return None
        tensors = [Tensor(r) for r in result]
        return tensors[0] if single else tensors
    arrays = [v.numpy() if isinstance(v, Tensor) else np.asarray(v) for v in nest.flatten(inp or [])]
    result = func(*arrays)
    if isinstance(result, Tensor):
        result = result.numpy()
    elif isinstance(result, (list, tuple)):
        result = [r.numpy() if isinstance(r, Tensor) else r for r in result]
    return _finish(result, Tout, "numpy_function")
