"""Small tensor utilities: ``meshgrid``, ``sequence_mask``, ``unravel_index``, ``bitcast``, ``ensure_shape``,
the broadcast-shape helpers, ``shape_n``, ``identity_n`` and ``parallel_stack``.

>>> import featherflow as ff
>>> ff.sequence_mask([1, 3], 4).numpy()
array([[ True, False, False, False],
       [ True,  True,  True, False]])
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor, TensorShape
from featherflow.ops._convert import as_tensor


def meshgrid(*args, **kwargs) -> list:
    """Coordinate grids from 1-D tensors: with ``indexing="xy"`` (default) the first two output axes are
    swapped (Cartesian), with ``"ij"`` they follow the inputs (matrix). Differentiable.

    >>> x, y = meshgrid([1, 2, 3], [4, 5])
    >>> x.numpy()
    array([[1, 2, 3],
           [1, 2, 3]], dtype=int32)
    """
    from featherflow.ops.shape import broadcast_to, reshape

    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword arguments {sorted(kwargs)}. Expected `indexing` or `name`.")
    if indexing not in ("xy", "ij"):
        raise ValueError(f'meshgrid: indexing must be "xy" or "ij". Received: indexing={indexing!r}')
    tensors = [as_tensor(a, "meshgrid", f"args[{i}]") for i, a in enumerate(args)]
    flat = [reshape(t, [-1]) for t in tensors]
    sizes = [t.value.shape[0] for t in flat]
    n = len(flat)
    if indexing == "xy" and n >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(flat):
        shape = [1] * n
        axis = i
        if indexing == "xy" and n >= 2 and i < 2:
            axis = 1 - i
        shape[axis] = t.value.shape[0]
        out.append(broadcast_to(reshape(t, shape), sizes))
    return out


def sequence_mask(lengths, maxlen=None, dtype="bool", name=None) -> Tensor:
    """``mask[..., j] = j < lengths[...]``: one row of ``maxlen`` entries per length (``maxlen`` default
    ``max(lengths)``).

    >>> sequence_mask([2], 3, dtype="float32").numpy()
    array([[1., 1., 0.]], dtype=float32)
    """
    lens = as_tensor(lengths, "sequence_mask", "lengths").value
    if lens.dtype.kind not in "iu":
        raise TypeError(f"sequence_mask: `lengths` must be integers. Received dtype {lens.dtype}.")
    xp = array_module(lens)
    if maxlen is None:
        maxlen = int(lens.max()) if lens.size else 0
    maxlen = int(maxlen.value if isinstance(maxlen, Tensor) else maxlen)
    if maxlen < 0:
        raise InvalidArgumentError(None, None, f"sequence_mask: maxlen must be non-negative. Received: {maxlen}")
    mask = xp.arange(maxlen) < lens[..., None]
    return Tensor(mask.astype(np.dtype(dtype)))


def unravel_index(indices, dims, name=None) -> Tensor:
    """The coordinates of flat ``indices`` in an array of shape ``dims``: shape ``[len(dims)] + indices.shape``.

    >>> unravel_index([2, 5, 7], [3, 3]).numpy()
    array([[0, 1, 2],
           [2, 2, 1]], dtype=int32)
    """
    idx = as_tensor(indices, "unravel_index", "indices").value
    shape = as_tensor(dims, "unravel_index", "dims").value
    if idx.dtype.kind not in "iu" or shape.dtype.kind not in "iu":
        raise TypeError("unravel_index: `indices` and `dims` must be integer tensors.")
    total = int(np.prod(shape))
    if idx.size and (idx.min() < 0 or idx.max() >= total):
        raise InvalidArgumentError(None, None, f"unravel_index: index out of bounds for dims {shape.tolist()}. "
                                   f"Received: indices={idx.reshape(-1).tolist()}")
    xp = array_module(idx)
    coords = np.unravel_index(np.asarray(idx), tuple(int(d) for d in shape))
    return Tensor(xp.asarray(np.stack(coords).astype(idx.dtype)))


def bitcast(input, type, name=None) -> Tensor:  # noqa: A002 - TensorFlow's names
    """Reinterpret the bytes of ``input`` as dtype ``type`` (no copy of values, no gradient).

    Same item size: same shape. Smaller: a last axis of ``itemsize ratio`` is added. Larger: the last axis
    must equal the ratio and is removed.

    >>> int(bitcast(1.0, "int32"))
    1065353216
    """
    x = as_tensor(input, "bitcast", "input").value
    target = np.dtype(type)
    src = x.dtype
    if target.itemsize == src.itemsize:
        return Tensor(x.view(target))
    if target.itemsize < src.itemsize:
        ratio = src.itemsize // target.itemsize
        return Tensor(np.ascontiguousarray(x).view(target).reshape(x.shape + (ratio,)))
    ratio = target.itemsize // src.itemsize
    if x.ndim == 0 or x.shape[-1] != ratio:
        raise InvalidArgumentError(None, None, f"bitcast: cannot bitcast from {src.name} to {target.name}: the last "
                                   f"axis must have size {ratio}. Received: input.shape={x.shape}")
    return Tensor(np.ascontiguousarray(x).view(target).reshape(x.shape[:-1]))


def ensure_shape(x, shape, name=None) -> Tensor:
    """Return ``x`` after checking its shape is compatible with ``shape`` (``None`` entries match any size).

    >>> ensure_shape([1.0, 2.0], [None]).shape
    (2,)
    """
    t = as_tensor(x, "ensure_shape", "x")
    expected = None if shape is None else (TensorShape(shape) if not isinstance(shape, TensorShape) else shape)
    if expected is not None and not TensorShape(t.value.shape).is_compatible_with(expected):
        shown = "[" + ",".join("?" if d is None else str(d) for d in expected) + "]"
        raise InvalidArgumentError(None, None, f"Shape of tensor x {list(t.value.shape)} is not compatible with "
                                   f"expected shape {shown}.")
    return t


def _shape_of(value, op):
    if isinstance(value, Tensor):
        return tuple(int(d) for d in value.value.reshape(-1))
    return tuple(None if d is None else int(d) for d in value)


def broadcast_static_shape(shape_x, shape_y) -> TensorShape:
    """The broadcast of two shapes (``None`` for unknown sizes), raising ValueError if incompatible.

    >>> broadcast_static_shape([1, 3], [2, 1])
    (2, 3)
    """
    a, b = _shape_of(shape_x, "broadcast_static_shape"), _shape_of(shape_y, "broadcast_static_shape")
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da == 1:
            out.append(db)
        elif db == 1 or db == da:
            out.append(da)
        elif da is None or db is None:
            out.append(da if db is None else db)
        else:
            raise ValueError(f"Incompatible shapes for broadcasting. Two shapes are compatible if for each dimension "
                             f"pair they are either equal or one of them is 1. Received: {list(a)} and {list(b)}.")
    return TensorShape(out[::-1])


def broadcast_dynamic_shape(shape_x, shape_y) -> Tensor:
    """The broadcast of two shapes given as 1-D integer tensors, as an int32 tensor.

    >>> broadcast_dynamic_shape([1, 3], [2, 1]).numpy()
    array([2, 3], dtype=int32)
    """
    try:
        shape = broadcast_static_shape(shape_x, shape_y)
    except ValueError as exc:
        raise InvalidArgumentError(None, None, str(exc)) from None
    dtype = shape_x.dtype if isinstance(shape_x, Tensor) else np.int32
    return Tensor(np.asarray(shape, dtype=dtype))


def shape_n(input, out_type="int32", name=None) -> list:  # noqa: A002 - TensorFlow's name
    """The shapes of a list of tensors, each a 1-D integer tensor.

    >>> [s.numpy().tolist() for s in shape_n([[1.0, 2.0], [[1.0]]])]
    [[2], [1, 1]]
    """
    from featherflow.ops.shape import shape

    return [shape(t, out_type=out_type) for t in input]


def identity_n(input, name=None) -> list:  # noqa: A002 - TensorFlow's name
    """``identity`` of each tensor of a list (gradients pass through).

    >>> [t.numpy() for t in identity_n([[1.0], [2.0]])]
    [array([1.], dtype=float32), array([2.], dtype=float32)]
    """
    from featherflow.ops.math import identity

    return [identity(t) for t in input]


def parallel_stack(values, name="parallel_stack") -> Tensor:
    """``stack`` along a new first axis (TensorFlow's variant that copies the inputs in parallel).

    >>> parallel_stack([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
    """
    from featherflow.ops.shape import stack

    return stack(values, axis=0)
