"""``keras.backend`` math: elementwise functions, reductions, shapes, products, creation and random tensors.

Each takes tensors, arrays or Python numbers and returns a featherflow tensor (``zeros``, ``ones``,
``eye`` and the ``random_*_variable`` functions return variables, as in tf.keras 2). Gradients flow
through every differentiable one. Custom losses are written with them::

    def rmse(y_true, y_pred):
        return K.sqrt(K.mean(K.square(y_pred - y_true), axis=-1))

>>> from featherflow.keras import backend as K
>>> K.sum(K.square([[1.0, 2.0], [3.0, 4.0]]), axis=1).numpy()
array([ 5., 25.], dtype=float32)
"""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from featherflow import ops
from featherflow.backend import floatx
from featherflow.core import Tensor, Variable, convert_to_tensor
from featherflow.ops import control_flow, cumulative


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def _floaty(x) -> Tensor:
    """Bool tensors become ``floatx()`` before averaging (as tf.keras does)."""
    x = _t(x)
    return ops.cast(x, floatx()) if x.dtype == np.bool_ else x


# -- elementwise -------------------------------------------------------------------------------------------
# Thin aliases: the backend function is the op (tf.keras's are the same TensorFlow ops).
abs = ops.abs  # noqa: A001 - Keras's name
round = ops.round  # noqa: A001 - Keras's name
square, exp, log, sign, sin, cos = ops.square, ops.exp, ops.log, ops.sign, ops.sin, ops.cos
maximum, minimum, cast = ops.maximum, ops.minimum, ops.cast
equal, not_equal, greater, greater_equal, less, less_equal = (
    ops.equal, ops.not_equal, ops.greater, ops.greater_equal, ops.less, ops.less_equal)


def sqrt(x):
    """Elementwise square root, negative inputs clipped to 0 first (as tf.keras does).

    >>> sqrt([-1.0, 4.0]).numpy()
    array([0., 2.], dtype=float32)
    """
    x = _t(x)
    return ops.sqrt(ops.maximum(x, ops.constant(0.0, dtype=x.dtype)))


def pow(x, a):  # noqa: A001 - Keras's name
    """Elementwise ``x ** a``."""
    return ops.pow(x, a)


def clip(x, min_value, max_value):
    """Clip ``x`` to ``[min_value, max_value]``; ``None`` leaves that side open, and a ``max_value`` below
    ``min_value`` is raised to it.

    >>> clip([-2.0, 0.5, 3.0], 0.0, 1.0).numpy()
    array([0. , 0.5, 1. ], dtype=float32)
    """
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)) and max_value < min_value:
        max_value = min_value
    if min_value is None:
        min_value = -np.inf
    if max_value is None:
        max_value = np.inf
    return ops.clip_by_value(x, min_value, max_value)


def switch(condition, then_expression, else_expression):
    """``then_expression`` where ``condition`` holds, else ``else_expression``.

    A scalar condition picks one whole expression (a callable is called only when picked); a tensor
    condition of lower rank is broadcast over the trailing axes of the expressions.

    >>> switch(np.array([True, False]), [[1.0, 1.0], [1.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]).numpy()
    array([[1., 1.],
           [0., 0.]], dtype=float32)
    """
    condition = _t(condition)
    if condition.dtype != np.bool_:
        condition = ops.cast(condition, "bool")
    if condition.ndim == 0:
        chosen = then_expression if bool(condition.numpy()) else else_expression
        return chosen() if callable(chosen) else chosen
    then_expression = then_expression() if callable(then_expression) else then_expression
    else_expression = else_expression() if callable(else_expression) else else_expression
    then_t = _t(then_expression)
    if condition.ndim > then_t.ndim:
        raise ValueError("Rank of `condition` should be less than or equal to rank of `then_expression` and "
                         f"`else_expression`. ndim(condition)={condition.ndim}, ndim(then_expression)={then_t.ndim}")
    if condition.ndim < then_t.ndim:
        condition = ops.reshape(condition, tuple(condition.shape) + (1,) * (then_t.ndim - condition.ndim))
    return ops.where(condition, then_t, else_expression)


# -- reductions ---------------------------------------------------------------------------------------------
def sum(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """Sum over ``axis`` (all axes by default)."""
    return ops.reduce_sum(x, axis=axis, keepdims=keepdims)


def prod(x, axis=None, keepdims=False):
    """Product over ``axis``."""
    return ops.reduce_prod(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (bool inputs count as 0/1)."""
    return ops.reduce_mean(_floaty(x), axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """Population variance over ``axis``."""
    return ops.reduce_variance(_floaty(x), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation over ``axis``."""
    return ops.reduce_std(_floaty(x), axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """Maximum over ``axis``."""
    return ops.reduce_max(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """Minimum over ``axis``."""
    return ops.reduce_min(x, axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """Logical or over ``axis`` (nonzero counts as true)."""
    return ops.reduce_any(ops.cast(x, "bool"), axis=axis, keepdims=keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """Logical and over ``axis`` (nonzero counts as true)."""
    return ops.reduce_all(ops.cast(x, "bool"), axis=axis, keepdims=keepdims)


def argmax(x, axis=-1):
    """Index of the maximum along ``axis`` (int64)."""
    return ops.argmax(x, axis=axis)


def argmin(x, axis=-1):
    """Index of the minimum along ``axis`` (int64)."""
    return ops.argmin(x, axis=axis)


def cumsum(x, axis=0):
    """Cumulative sum along ``axis``."""
    return ops.cumsum(x, axis=axis)


def cumprod(x, axis=0):
    """Cumulative product along ``axis`` (exact gradient with zeros).

    >>> cumprod([1.0, 2.0, 3.0]).numpy()
    array([1., 2., 6.], dtype=float32)
    """
    return cumulative.cumprod(x, axis=axis)


# -- shapes -------------------------------------------------------------------------------------------------
def reshape(x, shape):
    """``x`` with a new shape (one ``-1`` is inferred)."""
    return ops.reshape(x, shape)


def flatten(x):
    """``x`` as a 1-D tensor."""
    return ops.reshape(x, (-1,))


def batch_flatten(x):
    """``(batch, ...)`` to ``(batch, prod(...))``.

    >>> batch_flatten(np.zeros((2, 3, 4))).shape
    (2, 12)
    """
    x = _t(x)
    return ops.reshape(x, (-1, int(np.prod(x.shape[1:]))))


def expand_dims(x, axis=-1):
    """``x`` with a new axis of size 1 at ``axis``."""
    return ops.expand_dims(x, axis)


def squeeze(x, axis):
    """``x`` without its size-1 axis ``axis``."""
    return ops.squeeze(x, axis=axis)


def permute_dimensions(x, pattern):
    """``x`` with its axes reordered, e.g. ``(0, 2, 1)``."""
    return ops.transpose(x, perm=list(pattern))


def transpose(x):
    """``x`` with all its axes reversed."""
    return ops.transpose(x)


def concatenate(tensors, axis=-1):
    """Join ``tensors`` along ``axis``."""
    tensors = [_t(t) for t in tensors]
    if axis < 0:
        rank = tensors[0].ndim
        axis = axis % rank if rank else 0
    return ops.concat(tensors, axis=axis)


def stack(x, axis=0):
    """Stack a list of same-shape tensors along a new axis."""
    return ops.stack(list(x), axis=axis)


def tile(x, n):
    """Repeat ``x`` ``n[i]`` times along each axis ``i`` (an int tiles a 1-D tensor)."""
    if isinstance(n, int):
        n = [n]
    return ops.tile(x, n)


def repeat(x, n):
    """``(batch, dim)`` to ``(batch, n, dim)`` by repeating each row ``n`` times.

    >>> repeat([[1.0, 2.0]], 2).numpy()
    array([[[1., 2.],
            [1., 2.]]], dtype=float32)
    """
    x = _t(x)
    if x.ndim != 2:
        raise ValueError(f"`repeat` expects a 2-D tensor (batch, dim). Received: x.shape={tuple(x.shape)}")
    return ops.tile(ops.expand_dims(x, 1), [1, n, 1])


def repeat_elements(x, rep, axis):
    """Repeat each element ``rep`` times along ``axis`` (like ``np.repeat``).

    >>> repeat_elements([[1.0, 2.0]], 2, axis=1).numpy()
    array([[1., 1., 2., 2.]], dtype=float32)
    """
    return ops.repeat(x, rep, axis=axis)


def reverse(x, axes):
    """``x`` reversed along ``axes`` (an int or a list)."""
    if isinstance(axes, int):
        axes = [axes]
    return ops.reverse(x, axes)


def gather(reference, indices):
    """Rows ``indices`` of ``reference`` (axis 0)."""
    return ops.gather(reference, indices)


def one_hot(indices, num_classes):
    """One-hot encoding of integer ``indices`` on a new last axis (float32)."""
    return ops.one_hot(indices, depth=num_classes, axis=-1)


# -- products -----------------------------------------------------------------------------------------------
def dot(x, y):
    """Matrix product; for rank > 2 the last axis of ``x`` meets the second-to-last of ``y`` (Theano's rule):
    ``(2, 3, 4) . (4, 5) -> (2, 3, 5)`` and ``(2, 3) . (4, 3, 5) -> (2, 4, 5)``.

    >>> dot(np.ones((2, 3, 4)), np.ones((4, 5))).shape
    (2, 3, 5)
    """
    x, y = _t(x), _t(y)
    if x.ndim > 2 or y.ndim > 2:
        x_shape, y_shape = tuple(x.shape), tuple(y.shape)
        perm = list(range(y.ndim))
        perm = [perm.pop(-2)] + perm
        xt = ops.reshape(x, (-1, x_shape[-1]))
        yt = ops.reshape(ops.transpose(y, perm), (y_shape[-2], -1))
        return ops.reshape(ops.matmul(xt, yt), x_shape[:-1] + y_shape[:-2] + y_shape[-1:])
    return ops.matmul(x, y)


def batch_dot(x, y, axes=None):
    """Per-sample dot product: for each batch entry, ``x[i]`` and ``y[i]`` contracted along ``axes``.

    ``axes`` is ``(axis_of_x, axis_of_y)`` or one int for both (default: the last axis of ``x`` and the
    last of ``y`` for a 2-D ``y``, else its second-to-last). Two 2-D inputs give shape ``(batch, 1)``.

    >>> batch_dot(np.ones((32, 20)), np.ones((32, 30, 20)), axes=(1, 2)).shape
    (32, 30)
    """
    x, y = _t(x), _t(y)
    x_shape, y_shape = tuple(x.shape), tuple(y.shape)
    x_ndim, y_ndim = len(x_shape), len(y_shape)
    if x_ndim < 2 or y_ndim < 2:
        raise ValueError(f"Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes {x_shape} and "
                         f"{y_shape}.")
    if x_shape[0] != y_shape[0]:
        raise ValueError(f"Cannot do batch_dot on inputs with different batch sizes. Received inputs with shapes "
                         f"{x_shape} and {y_shape}.")
    if isinstance(axes, int):
        axes = [axes, axes]
    if axes is None:
        axes = [x_ndim - 1, y_ndim - 1] if y_ndim == 2 else [x_ndim - 1, y_ndim - 2]
    if builtins.any(isinstance(a, (list, tuple)) for a in axes):
        raise ValueError(f"Multiple target dimensions are not supported. Expected: None, int, (int, int), "
                         f"Provided: {axes}")
    a0, a1 = (int(a) for a in axes)
    a0 = a0 + x_ndim if a0 < 0 else a0
    a1 = a1 + y_ndim if a1 < 0 else a1
    if 0 in (a0, a1):
        raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy batch "
                         "dimension to your inputs using K.expand_dims(x, 0)")
    if x_shape[a0] != y_shape[a1]:
        raise ValueError(f"Cannot do batch_dot on inputs with shapes {x_shape} and {y_shape} with axes={[a0, a1]}. "
                         f"x.shape[{a0}] != y.shape[{a1}] ({x_shape[a0]} != {y_shape[a1]}).")
    batch, depth = x_shape[0], x_shape[a0]
    x_rest = [i for i in range(1, x_ndim) if i != a0]
    y_rest = [i for i in range(1, y_ndim) if i != a1]
    xm = ops.reshape(ops.transpose(x, [0] + x_rest + [a0]), (batch, -1, depth))
    ym = ops.reshape(ops.transpose(y, [0, a1] + y_rest), (batch, depth, -1))
    out_shape = (batch,) + tuple(x_shape[i] for i in x_rest) + tuple(y_shape[i] for i in y_rest)
    if x_ndim == 2 and y_ndim == 2:
        out_shape = (batch, 1)
    return ops.reshape(ops.matmul(xm, ym), out_shape)


# -- creation -------------------------------------------------------------------------------------------------
def _dtype(dtype):
    return np.dtype(dtype or floatx())


def zeros(shape, dtype=None, name=None) -> Variable:
    """A variable of zeros (``dtype`` default ``floatx()``)."""
    return Variable(np.zeros(tuple(shape) if not isinstance(shape, int) else (shape,), _dtype(dtype)), name=name)


def ones(shape, dtype=None, name=None) -> Variable:
    """A variable of ones (``dtype`` default ``floatx()``)."""
    return Variable(np.ones(tuple(shape) if not isinstance(shape, int) else (shape,), _dtype(dtype)), name=name)


def eye(size, dtype=None, name=None) -> Variable:
    """An identity-matrix variable; ``size`` is ``n`` or ``(rows, columns)``."""
    rows, cols = (size, size) if isinstance(size, int) else tuple(size)
    return Variable(np.eye(rows, cols, dtype=_dtype(dtype)), name=name)


def zeros_like(x, dtype=None, name=None):
    """A tensor of zeros shaped like ``x``."""
    return ops.zeros_like(x, dtype=dtype)


def ones_like(x, dtype=None, name=None):
    """A tensor of ones shaped like ``x``."""
    return ops.ones_like(x, dtype=dtype)


def arange(start, stop=None, step=1, dtype="int32"):
    """``start, start + step, ...`` below ``stop`` (``arange(n)`` counts from 0; a negative lone start gives
    an empty tensor)."""
    if stop is None and start < 0:
        start = 0
    result = ops.range(start, stop, step)
    return ops.cast(result, dtype) if np.dtype(dtype) != result.dtype else result


# -- random -------------------------------------------------------------------------------------------------
def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of ``N(mean, stddev**2)`` (seeded by ``seed`` or featherflow's global seed)."""
    return ops.random.normal(shape, mean=mean, stddev=stddev, dtype=_dtype(dtype), seed=seed)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples uniform in ``[minval, maxval)``."""
    return ops.random.uniform(shape, minval=minval, maxval=maxval, dtype=_dtype(dtype), seed=seed)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples redrawn until within two standard deviations of ``mean``."""
    return ops.random.truncated_normal(shape, mean=mean, stddev=stddev, dtype=_dtype(dtype), seed=seed)


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    """1 with probability ``p``, else 0."""
    dtype = _dtype(dtype)
    draws = ops.random.uniform(shape, dtype=dtype, seed=seed)
    return ops.cast(ops.less_equal(draws, ops.constant(p, dtype=dtype)), dtype)


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """Deprecated alias of ``random_bernoulli``."""
    warnings.warn("`tf.keras.backend.random_binomial` is deprecated, and will be removed in a future version. "
                  "Please use `tf.keras.backend.random_bernoulli` instead.", stacklevel=2)
    return random_bernoulli(shape, p, dtype, seed)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None) -> Variable:
    """A variable of ``N(mean, scale**2)`` samples."""
    return Variable(random_normal(shape, mean, scale, dtype, seed), name=name)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None) -> Variable:
    """A variable of samples uniform in ``[low, high)``."""
    return Variable(random_uniform(shape, low, high, dtype, seed), name=name)


# -- higher-order ---------------------------------------------------------------------------------------------
def map_fn(fn, elems, name=None, dtype=None):
    """``fn`` applied to each slice ``elems[i]``, results stacked (``tf.map_fn``).

    >>> map_fn(lambda row: row * 2.0, np.ones((2, 3), "float32")).numpy()
    array([[2., 2., 2.],
           [2., 2., 2.]], dtype=float32)
    """
    return control_flow.map_fn(fn, elems, dtype=dtype, name=name)


def foldl(fn, elems, initializer=None, name=None):
    """Reduce ``elems`` from the first slice: ``acc = fn(acc, elems[i])`` (``tf.foldl``; ``acc`` starts at
    ``initializer`` or ``elems[0]``).

    >>> float(foldl(lambda acc, x: acc + x, np.array([1.0, 2.0, 3.0])))
    6.0
    """
    return control_flow.foldl(fn, elems, initializer=initializer, name=name)


def foldr(fn, elems, initializer=None, name=None):
    """Reduce ``elems`` from the last slice: ``acc = fn(acc, elems[i])`` for ``i`` descending (``tf.foldr``)."""
    return control_flow.foldr(fn, elems, initializer=initializer, name=name)
