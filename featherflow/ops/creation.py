"""Tensor constructors: constant, zeros, ones, fill, range, eye and the *_like forms.

>>> import featherflow as ff
>>> ff.zeros((2, 3)).shape
(2, 3)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import floatx, xp
from featherflow.core.tensor import Tensor, convert_to_tensor
from featherflow.ops._convert import as_tensor


def constant(value, dtype=None, shape=None, name=None) -> Tensor:
    """A tensor from Python data or an array (floats -> float32, ints -> int32).

    Args:
        value: number, nested list or array.
        dtype: optional dtype (a NumPy dtype or name such as ``"float32"``).
        shape: optional shape; a scalar ``value`` is broadcast to it.

    >>> constant([[1, 2]], dtype="float32").numpy()
    array([[1., 2.]], dtype=float32)
    """
    if isinstance(value, Tensor):
        t = value
        if dtype is not None and t.value.dtype != np.dtype(dtype):
            t = Tensor(t.value.astype(dtype))
    else:
        t = convert_to_tensor(value, dtype=dtype)
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        if t.value.size == 1:
            return Tensor(xp().broadcast_to(t.value.reshape(()), shape).copy())
        if t.value.size != int(np.prod(shape)):
            raise TypeError(
                f"constant: expected {int(np.prod(shape))} elements for shape {shape}, received "
                f"{t.value.size}. Received: value.shape={t.shape}"
            )
        return Tensor(t.value.reshape(shape))
    return t


def _dtype(dtype):
    return np.dtype(floatx() if dtype is None else dtype)


def zeros(shape, dtype=None, name=None) -> Tensor:
    """A tensor of zeros (``float32`` by default).

    >>> zeros((2,)).numpy()
    array([0., 0.], dtype=float32)
    """
    return Tensor(xp().zeros(_shape(shape), dtype=_dtype(dtype)))


def ones(shape, dtype=None, name=None) -> Tensor:
    """A tensor of ones (``float32`` by default).

    >>> ones((2,), dtype="int32").numpy()
    array([1, 1], dtype=int32)
    """
    return Tensor(xp().ones(_shape(shape), dtype=_dtype(dtype)))


def zeros_like(input, dtype=None, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Zeros with the shape (and dtype, unless given) of ``input``.

    >>> zeros_like([[1, 2]]).numpy()
    array([[0, 0]], dtype=int32)
    """
    t = as_tensor(input, "zeros_like", "input")
    return Tensor(xp().zeros(t.shape, dtype=t.dtype if dtype is None else np.dtype(dtype)))


def ones_like(input, dtype=None, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Ones with the shape (and dtype, unless given) of ``input``.

    >>> ones_like([1.0, 2.0]).numpy()
    array([1., 1.], dtype=float32)
    """
    t = as_tensor(input, "ones_like", "input")
    return Tensor(xp().ones(t.shape, dtype=t.dtype if dtype is None else np.dtype(dtype)))


def fill(dims, value, name=None) -> Tensor:
    """A tensor of shape ``dims`` filled with ``value`` (dtype inferred from ``value``).

    >>> fill([2], 7).numpy()
    array([7, 7], dtype=int32)
    """
    v = convert_to_tensor(value).value
    return Tensor(xp().full(_shape(dims), v, dtype=v.dtype))


def range(start, limit=None, delta=1, dtype=None, name="range") -> Tensor:  # noqa: A001
    """Numbers from ``start`` to ``limit`` (exclusive) by ``delta``, like Python's range.

    >>> range(3).numpy()
    array([0, 1, 2], dtype=int32)
    """
    if limit is None:
        start, limit = 0, start
    if delta == 0:
        raise ValueError("range: `delta` must not be zero. Received: delta=0")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, limit, delta))
        dtype = floatx() if is_float else "int32"
    return Tensor(xp().arange(start, limit, delta).astype(dtype))


def eye(num_rows, num_columns=None, batch_shape=None, dtype=None, name=None) -> Tensor:
    """An identity matrix (optionally batched).

    >>> eye(2).numpy()
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    m = xp().eye(num_rows, num_columns, dtype=_dtype(dtype))
    if batch_shape:
        m = xp().broadcast_to(m, tuple(batch_shape) + m.shape).copy()
    return Tensor(m)


def _shape(shape):
    if isinstance(shape, Tensor):
        shape = shape.value.tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"Expected a shape as a list of non-negative integers. Received: shape={shape!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"Dimensions must be non-negative. Received: shape={dims}")
    return dims


def linspace(start, stop, num, name=None, axis=0) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (float32 for Python numbers).

    >>> linspace(0.0, 1.0, 5).numpy()
    array([0.  , 0.25, 0.5 , 0.75, 1.  ], dtype=float32)
    """
    start_t = as_tensor(start, "linspace", "start")
    stop_t = as_tensor(stop, "linspace", "stop")
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative. Received: num={num}")
    dtype = start_t.dtype if start_t.dtype.kind == "f" else np.dtype(floatx())
    return Tensor(xp().linspace(start_t.value, stop_t.value, num, axis=axis).astype(dtype))
