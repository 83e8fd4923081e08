"""Shape manipulation: reshape, transpose, expand/squeeze, concat and slicing.

>>> import featherflow as ff
>>> ff.reshape([1.0, 2.0, 3.0, 4.0], (2, 2)).shape
(2, 2)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor


def _shape_arg(shape, op):
    if isinstance(shape, Tensor):
        shape = shape.value.tolist()
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        return tuple(-1 if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: `shape` must be a list of integers. Received: shape={shape!r}") from None


def reshape(tensor, shape, name=None) -> Tensor:
    """Give ``tensor`` a new shape with the same number of elements (one ``-1`` is inferred).

    >>> reshape([[1.0, 2.0], [3.0, 4.0]], [-1]).numpy()
    array([1., 2., 3., 4.], dtype=float32)
    """
    x = as_tensor(tensor, "reshape", "tensor")
    xv = x.value
    new_shape = _shape_arg(shape, "reshape")
    try:
        out = xv.reshape(new_shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor with {xv.size} elements to shape {list(new_shape)}. "
            f"Received: tensor.shape={xv.shape}, shape={list(new_shape)}"
        ) from None
    old = xv.shape
    return record("reshape", (x,), out, lambda g, needs: (g.reshape(old),))


def transpose(a, perm=None, conjugate=False, name=None) -> Tensor:
    """Permute the axes of ``a`` (reverse them when ``perm`` is None).

    >>> transpose([[1.0, 2.0]]).shape
    (2, 1)
    """
    x = as_tensor(a, "transpose", "a")
    xv = x.value
    if perm is None:
        perm = tuple(range(xv.ndim - 1, -1, -1))
    perm = _shape_arg(perm, "transpose")
    if sorted(p % max(xv.ndim, 1) for p in perm) != list(range(xv.ndim)):
        raise ValueError(
            f"transpose: `perm` must be a permutation of 0..{xv.ndim - 1}. Received: perm={list(perm)}"
        )
    inverse = tuple(np.argsort([p % xv.ndim for p in perm]))
    return record("transpose", (x,), xv.transpose(perm), lambda g, needs: (g.transpose(inverse),))


def expand_dims(input, axis, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Insert a size-1 axis at ``axis``.

    >>> expand_dims([1.0, 2.0], 0).shape
    (1, 2)
    """
    x = as_tensor(input, "expand_dims", "input")
    xv = x.value
    axis = int(axis)
    if not -xv.ndim - 1 <= axis <= xv.ndim:
        raise ValueError(f"expand_dims: axis {axis} is out of range for a tensor of rank {xv.ndim}.")
    out = array_module(xv).expand_dims(xv, axis)
    old = xv.shape
    return record("expand_dims", (x,), out, lambda g, needs: (g.reshape(old),))


def squeeze(input, axis=None, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Remove size-1 axes (all of them, or those listed in ``axis``).

    >>> squeeze([[1.0], [2.0]]).shape
    (2,)
    """
    x = as_tensor(input, "squeeze", "input")
    xv = x.value
    if axis is not None:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        for a in axes:
            if not -xv.ndim <= a < xv.ndim or xv.shape[a] != 1:
                raise ValueError(
                    f"squeeze: can not squeeze axis {a}: expected a size-1 axis. Received: "
                    f"input.shape={xv.shape}, axis={axis}"
                )
        out = xv.squeeze(axis=axes)
    else:
        out = xv.squeeze()
    old = xv.shape
    return record("squeeze", (x,), out, lambda g, needs: (g.reshape(old),))


def concat(values, axis, name=None) -> Tensor:
    """Join tensors along an existing axis.

    >>> concat([[[1.0]], [[2.0]]], axis=0).shape
    (2, 1)
    """
    tensors = [as_tensor(v, "concat", f"values[{i}]") for i, v in enumerate(values)]
    if not tensors:
        raise ValueError("concat: expected a non-empty list of tensors. Received: values=[]")
    dtypes = {t.value.dtype for t in tensors}
    if len(dtypes) > 1:
        raise TypeError(f"concat: all values must have one dtype. Received dtypes: {sorted(map(str, dtypes))}")
    arrays = [t.value for t in tensors]
    ndim = arrays[0].ndim
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"concat: axis {axis} is out of range for tensors of rank {ndim}.")
    axis %= ndim
    for i, a in enumerate(arrays):
        if a.ndim != ndim or a.shape[:axis] + a.shape[axis + 1:] != arrays[0].shape[:axis] + arrays[0].shape[axis + 1:]:
            raise ValueError(
                f"concat: all dimensions except the concat axis must match. values[0].shape="
                f"{arrays[0].shape}, values[{i}].shape={a.shape}, axis={axis}"
            )
    out = array_module(arrays[0]).concatenate(arrays, axis=axis)
    splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]

    def backward(g, needs):
        return tuple(array_module(g).split(g, splits, axis=axis))

    return record("concat", tuple(tensors), out, backward)


def _index_key(key):
    if isinstance(key, Tensor):
        return key.value
    if isinstance(key, tuple):
        return tuple(k.value if isinstance(k, Tensor) else k for k in key)
    return key


def _is_basic(key) -> bool:
    items = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice)) for k in items)


def getitem(tensor, key) -> Tensor:
    """``tensor[key]``: NumPy indexing (ints, slices, None, Ellipsis, integer or boolean arrays).

    >>> import featherflow as ff
    >>> ff.constant([[1.0, 2.0], [3.0, 4.0]])[:, 1].numpy()
    array([2., 4.], dtype=float32)
    """
    x = as_tensor(tensor, "getitem", "tensor")
    xv = x.value
    key = _index_key(key)
    try:
        out = xv[key]
    except IndexError as exc:
        raise IndexError(f"Index out of range for a tensor of shape {xv.shape}: {exc}. Received: key={key!r}") from None
    basic = _is_basic(key)

    def backward(g, needs):
        xp = array_module(g)
        full = xp.zeros(xv.shape, dtype=g.dtype)
        if basic:
            full[key] = g
        else:
            xp.add.at(full, key, g)
        return (full,)

    return record("getitem", (x,), array_module(xv).asarray(out), backward)
