"""Shape manipulation: reshape, transpose, expand/squeeze, concat/stack, split/unstack,
tile, broadcast_to, reverse, and the shape/size/rank helpers.

Ops that NumPy answers with a view (reshape, transpose, ...) copy when the input is a
``Variable``: a tensor read from a variable is a snapshot, unaffected by later ``assign``.

>>> import featherflow as ff
>>> ff.reshape([1.0, 2.0, 3.0, 4.0], (2, 2)).shape
(2, 2)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record, record_multi
from featherflow.core.tensor import Tensor
from featherflow.core.variable import Variable
from featherflow.ops._convert import as_tensor


def snapshot(x: Tensor, out):
    """``out`` (a view of ``x.value``) copied when ``x`` is a Variable, so it cannot change later."""
    return out.copy() if isinstance(x, Variable) else out


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
    return record("reshape", (x,), snapshot(x, out), lambda g, needs: (g.reshape(old),))


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
    return record("transpose", (x,), snapshot(x, xv.transpose(perm)), lambda g, needs: (g.transpose(inverse),))


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
    return record("expand_dims", (x,), snapshot(x, out), lambda g, needs: (g.reshape(old),))


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
    return record("squeeze", (x,), snapshot(x, out), lambda g, needs: (g.reshape(old),))


def tensor_list(values, op: str) -> list:
    """A non-empty list of tensors of one dtype; Python data adopts the dtype of the first tensor."""
    if isinstance(values, Tensor):
        values = list(values)
    values = list(values)
    if not values:
        raise ValueError(f"{op}: expected a non-empty list of tensors. Received: values=[]")
    reference = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = reference.value.dtype if reference is not None else None
    tensors = []
    for i, v in enumerate(values):
        if isinstance(v, Tensor):
            tensors.append(v)
        elif dtype is not None and not hasattr(v, "dtype"):
            tensors.append(as_tensor(v, op, f"values[{i}]", dtype=dtype))
        else:
            tensors.append(as_tensor(v, op, f"values[{i}]"))
    dtypes = {t.value.dtype for t in tensors}
    if len(dtypes) > 1:
        raise TypeError(
            f"{op}: all values must have one dtype. Received dtypes: {sorted(map(str, dtypes))}. "
            "Cast them to one dtype with featherflow.cast."
        )
    return tensors


def concat(values, axis, name=None) -> Tensor:
    """Join tensors along an existing axis.

    >>> concat([[[1.0]], [[2.0]]], axis=0).shape
    (2, 1)
    """
    tensors = tensor_list(values, "concat")
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


def stack(values, axis=0, name="stack") -> Tensor:
    """Join same-shaped tensors along a new axis.

    >>> stack([[1.0, 2.0], [3.0, 4.0]], axis=1).numpy()
    array([[1., 3.],
           [2., 4.]], dtype=float32)
    """
    tensors = tensor_list(values, "stack")
    arrays = [t.value for t in tensors]
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise ValueError(
                f"stack: all values must have the same shape. Received: values[0].shape={first}, "
                f"values[{i}].shape={a.shape}"
            )
    ndim = len(first) + 1
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"stack: axis {axis} is out of range for a result of rank {ndim}. Received: axis={axis}")
    axis %= ndim
    xp = array_module(arrays[0])
    out = xp.stack(arrays, axis=axis)

    def backward(g, needs):
        moved = xp.moveaxis(g, axis, 0)
        return tuple(moved[i] if need else None for i, need in enumerate(needs))

    return record("stack", tuple(tensors), out, backward)


def _zeros_for_missing(grads, shapes, dtype, xp):
    return [xp.zeros(s, dtype=dtype) if g is None else g for g, s in zip(grads, shapes)]


def unstack(value, num=None, axis=0, name="unstack") -> list:
    """Split ``value`` along ``axis`` into a list of tensors of one rank less.

    >>> [t.numpy() for t in unstack([[1.0, 2.0], [3.0, 4.0]], axis=1)]
    [array([1., 3.], dtype=float32), array([2., 4.], dtype=float32)]
    """
    x = as_tensor(value, "unstack", "value")
    xv = x.value
    if xv.ndim == 0:
        raise ValueError("unstack: expected a tensor of rank >= 1. Received: a scalar.")
    axis = int(axis)
    if not -xv.ndim <= axis < xv.ndim:
        raise ValueError(f"unstack: axis {axis} is out of range for a tensor of rank {xv.ndim}.")
    axis %= xv.ndim
    count = xv.shape[axis]
    if num is not None and int(num) != count:
        raise ValueError(
            f"unstack: `num` must equal the size of axis {axis}. Received: num={num}, value.shape={xv.shape}"
        )
    xp = array_module(xv)
    moved = xp.moveaxis(xv, axis, 0)
    pieces = [snapshot(x, moved[i]) for i in range(count)]
    piece_shape = moved.shape[1:]

    def backward(grads, needs):
        full = _zeros_for_missing(grads, [piece_shape] * count, xv.dtype, xp)
        return (xp.stack(full, axis=axis),)

    return record_multi("unstack", (x,), pieces, backward)


def split(value, num_or_size_splits, axis=0, num=None, name="split") -> list:
    """Split ``value`` along ``axis`` into ``num`` equal parts or parts of the given sizes
    (one size may be ``-1``: the rest).

    >>> [t.shape for t in split([[0.0] * 5] * 2, [1, -1, 2], axis=1)]
    [(2, 1), (2, 2), (2, 2)]
    """
    x = as_tensor(value, "split", "value")
    xv = x.value
    if xv.ndim == 0:
        raise ValueError("split: expected a tensor of rank >= 1. Received: a scalar.")
    axis = int(axis.value) if isinstance(axis, Tensor) else int(axis)
    if not -xv.ndim <= axis < xv.ndim:
        raise ValueError(f"split: axis {axis} is out of range for a tensor of rank {xv.ndim}.")
    axis %= xv.ndim
    length = xv.shape[axis]
    if isinstance(num_or_size_splits, Tensor):
        num_or_size_splits = num_or_size_splits.value.tolist()
    if isinstance(num_or_size_splits, (int, np.integer)):
        parts = int(num_or_size_splits)
        if parts <= 0 or length % parts:
            raise ValueError(
                f"split: the size of axis {axis} ({length}) must be divisible by num_or_size_splits. "
                f"Received: num_or_size_splits={parts}, value.shape={xv.shape}"
            )
        sizes = [length // parts] * parts
    else:
        sizes = [int(s) for s in num_or_size_splits]
        if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
            raise ValueError(f"split: at most one size may be -1 and none may be negative. Received: {sizes}")
        if -1 in sizes:
            sizes[sizes.index(-1)] = length - (sum(sizes) + 1)
        if sum(sizes) != length or any(s < 0 for s in sizes):
            raise ValueError(
                f"split: the sizes must add up to the size of axis {axis} ({length}). "
                f"Received: num_or_size_splits={list(num_or_size_splits)}, value.shape={xv.shape}"
            )
    xp = array_module(xv)
    bounds = np.cumsum(sizes)[:-1].tolist()
    pieces = [snapshot(x, p) for p in xp.split(xv, bounds, axis=axis)]
    shapes = [p.shape for p in pieces]

    def backward(grads, needs):
        return (xp.concatenate(_zeros_for_missing(grads, shapes, xv.dtype, xp), axis=axis),)

    return record_multi("split", (x,), pieces, backward)


def tile(input, multiples, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Repeat ``input`` ``multiples[i]`` times along axis ``i``; the gradient sums the copies.

    >>> tile([[1.0, 2.0]], [2, 1]).numpy()
    array([[1., 2.],
           [1., 2.]], dtype=float32)
    """
    x = as_tensor(input, "tile", "input")
    xv = x.value
    reps = _shape_arg(multiples, "tile")
    if len(reps) != xv.ndim or any(r < 0 for r in reps):
        raise ValueError(
            f"tile: `multiples` must have one non-negative entry per axis of `input` (rank {xv.ndim}). "
            f"Received: multiples={list(reps)}, input.shape={xv.shape}"
        )
    xp = array_module(xv)
    out = xp.tile(xv, reps)

    def backward(g, needs):
        interleaved = []
        for r, d in zip(reps, xv.shape):
            interleaved += [r, d]
        return (g.reshape(interleaved).sum(axis=tuple(range(0, 2 * xv.ndim, 2))),)

    return record("tile", (x,), out, backward)


def broadcast_to(input, shape, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Broadcast ``input`` to ``shape`` (NumPy rules); the gradient is summed back centrally.

    >>> broadcast_to([1.0, 2.0], [2, 2]).numpy()
    array([[1., 2.],
           [1., 2.]], dtype=float32)
    """
    x = as_tensor(input, "broadcast_to", "input")
    xv = x.value
    target = _shape_arg(shape, "broadcast_to")
    xp = array_module(xv)
    try:
        out = xp.broadcast_to(xv, target)
    except ValueError:
        raise ValueError(
            f"broadcast_to: cannot broadcast a tensor of shape {xv.shape} to shape {target}: each axis must "
            f"match or be 1. Received: input.shape={xv.shape}, shape={list(target)}"
        ) from None
    return record("broadcast_to", (x,), out.copy(), lambda g, needs: (g,))


def reverse(tensor, axis, name=None) -> Tensor:
    """Reverse ``tensor`` along the given axes.

    >>> reverse([[1.0, 2.0, 3.0]], axis=[1]).numpy()
    array([[3., 2., 1.]], dtype=float32)
    """
    from featherflow.ops.reduce import normalize_axis

    x = as_tensor(tensor, "reverse", "tensor")
    xv = x.value
    axes = normalize_axis(axis, xv.ndim, "reverse")
    xp = array_module(xv)
    out = xp.flip(xv, axes) if axes else xv
    return record("reverse", (x,), out.copy(), lambda g, needs: (xp.flip(g, axes) if axes else g,))


def shape(input, out_type="int32", name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The shape of ``input`` as a 1-D integer tensor.

    >>> shape([[1.0, 2.0, 3.0]]).numpy()
    array([1, 3], dtype=int32)
    """
    x = input if isinstance(input, Tensor) else as_tensor(input, "shape", "input")
    return Tensor(np.asarray(x.value.shape, dtype=np.dtype(out_type)))


def size(input, out_type="int32", name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The number of elements of ``input`` as a scalar integer tensor.

    >>> int(size([[1.0, 2.0, 3.0]]))
    3
    """
    x = input if isinstance(input, Tensor) else as_tensor(input, "size", "input")
    return Tensor(np.asarray(x.value.size, dtype=np.dtype(out_type)))


def rank(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The number of axes of ``input`` as a scalar int32 tensor.

    >>> int(rank([[1.0, 2.0, 3.0]]))
    2
    """
    x = input if isinstance(input, Tensor) else as_tensor(input, "rank", "input")
    return Tensor(np.asarray(x.value.ndim, dtype=np.int32))


def repeat(input, repeats, axis=None, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """Repeat each element ``repeats`` times along ``axis`` (the flattened input when ``axis`` is None).

    ``repeats`` is an int or one count per element along ``axis``; the gradient sums the copies.

    >>> repeat([[1.0, 2.0]], 2, axis=1).numpy()
    array([[1., 1., 2., 2.]], dtype=float32)
    """
    x = as_tensor(input, "repeat", "input")
    xv = x.value
    xp = array_module(xv)
    source = xv.reshape(-1) if axis is None else xv
    axis = 0 if axis is None else int(axis) % max(xv.ndim, 1)
    counts = repeats.value if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.ndim == 0:
        counts = np.full(source.shape[axis], int(counts))
    counts = np.asarray(counts, dtype=np.int64).reshape(-1)
    if counts.shape[0] != source.shape[axis] or (counts < 0).any():
        raise ValueError(
            f"repeat: `repeats` must be a non-negative int or one count per element of axis {axis} "
            f"(size {source.shape[axis]}). Received: repeats={counts.tolist()}"
        )
    out = xp.repeat(source, xp.asarray(counts), axis=axis)
    owner = np.repeat(np.arange(source.shape[axis]), counts)  # which input slice each output slice copies

    def backward(g, needs):
        moved = xp.moveaxis(g, axis, 0)
        summed = xp.zeros((source.shape[axis],) + moved.shape[1:], dtype=g.dtype)
        xp.add.at(summed, xp.asarray(owner), moved)
        return (xp.moveaxis(summed, 0, axis).reshape(xv.shape),)

    return record("repeat", (x,), out, backward)


# -- differentiable rules (higher-order gradients; core/gradients.py) ----------------------------------------------

@register_gradient("reshape")
@register_gradient("expand_dims")
@register_gradient("squeeze")
def _reshape_rule(op, g):
    return (reshape(g, op.inputs[0].value.shape),)


@register_gradient("transpose")
def _transpose_rule(op, g):
    return (transpose(g, list(op.captured["inverse"])),)


@register_gradient("concat")
def _concat_rule(op, g):
    axis = op.captured["axis"]
    return tuple(split(g, [t.value.shape[axis] for t in op.inputs], axis=axis))


@register_gradient("stack")
def _stack_rule(op, g):
    return tuple(unstack(g, axis=op.captured["axis"]))


def _filled(grads, like_shapes, dtype):
    from featherflow.ops.creation import zeros

    return [zeros(s, dtype=dtype) if g is None else g for g, s in zip(grads, like_shapes)]


@register_gradient("unstack")
def _unstack_rule(op, g):
    shapes = [o.value.shape for o in op.outputs]
    return (stack(_filled(g, shapes, op.inputs[0].value.dtype), axis=op.captured["axis"]),)


@register_gradient("split")
def _split_rule(op, g):
    shapes = [o.value.shape for o in op.outputs]
    return (concat(_filled(g, shapes, op.inputs[0].value.dtype), axis=op.captured["axis"]),)


@register_gradient("tile")
def _tile_rule(op, g):
    from featherflow.ops.reduce import reduce_sum

    c = op.captured
    shape = c["xv"].shape
    interleaved = []
    for r, d in zip(c["reps"], shape):
        interleaved += [r, d]
    return (reshape(reduce_sum(reshape(g, interleaved), axis=list(range(0, 2 * len(shape), 2))), shape),)


@register_gradient("broadcast_to")
def _broadcast_to_rule(op, g):
    return (g,)


@register_gradient("reverse")
def _reverse_rule(op, g):
    axes = op.captured["axes"]
    return (reverse(g, list(axes)) if axes else g,)


@register_gradient("repeat")
def _repeat_rule(op, g):
    from featherflow.ops.indexing import index_add

    c = op.captured
    axis, source, owner, xv = c["axis"], c["source"], c["owner"], c["xv"]
    perm = [axis] + [a for a in range(g.value.ndim) if a != axis]
    moved = transpose(g, perm)
    summed = index_add(moved, (owner,), (source.shape[axis],) + tuple(moved.value.shape[1:]))
    return (reshape(transpose(summed, list(np.argsort(perm))), xv.shape),)
