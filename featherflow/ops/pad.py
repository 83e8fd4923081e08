"""``pad``: CONSTANT, REFLECT and SYMMETRIC padding with TensorFlow's rules.

>>> import featherflow as ff
>>> ff.pad([[1.0, 2.0]], [[0, 0], [1, 1]]).numpy()
array([[0., 1., 2., 0.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor

_MODES = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}


def _paddings(paddings, ndim: int) -> list:
    if isinstance(paddings, Tensor):
        paddings = paddings.value.tolist()
    try:
        pairs = [(int(before), int(after)) for before, after in paddings]
    except (TypeError, ValueError):
        raise ValueError(
            f"pad: `paddings` must be a list of [before, after] integer pairs, one per axis. "
            f"Received: paddings={paddings!r}"
        ) from None
    if len(pairs) != ndim:
        raise ValueError(
            f"pad: `paddings` must have one [before, after] pair per axis of the tensor (rank {ndim}). "
            f"Received: {len(pairs)} pairs"
        )
    if any(b < 0 or a < 0 for b, a in pairs):
        raise ValueError(f"pad: paddings must be non-negative. Received: paddings={pairs}")
    return pairs


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None) -> Tensor:
    """Pad ``tensor`` with ``paddings[i] = [before, after]`` entries on axis ``i``.

    Args:
        tensor: the tensor to pad.
        paddings: ``[[before_0, after_0], ...]``, one pair per axis.
        mode: ``"CONSTANT"`` (``constant_values``), ``"REFLECT"`` (mirror without the edge,
            needs ``before, after < dim``) or ``"SYMMETRIC"`` (mirror with the edge,
            needs ``before, after <= dim``); case-insensitive.
        constant_values: the fill value for CONSTANT mode.

    The gradient of CONSTANT padding is a slice; the mirrored modes fold the gradient of
    each padded entry back onto the element it copies.

    >>> pad([[1.0, 2.0, 3.0]], [[0, 0], [2, 2]], mode="REFLECT").numpy()
    array([[3., 2., 1., 2., 3., 2., 1.]], dtype=float32)
    >>> pad([[1.0, 2.0, 3.0]], [[0, 0], [2, 2]], mode="SYMMETRIC").numpy()
    array([[2., 1., 1., 2., 3., 3., 2.]], dtype=float32)
    """
    x = as_tensor(tensor, "pad", "tensor")
    xv = x.value
    pairs = _paddings(paddings, xv.ndim)
    key = str(mode).upper()
    if key not in _MODES:
        raise ValueError(f'pad: mode must be one of "CONSTANT", "REFLECT", "SYMMETRIC". Received: mode={mode!r}')
    xp = array_module(xv)
    if key == "CONSTANT":
        fill = as_tensor(constant_values, "pad", "constant_values", dtype=xv.dtype).value
        out = xp.pad(xv, pairs, mode="constant", constant_values=fill)
        window = tuple(slice(b, b + d) for (b, _), d in zip(pairs, xv.shape))
        return record("pad", (x,), out, lambda g, needs: (g[window],))
    for axis, ((before, after), d) in enumerate(zip(pairs, xv.shape)):
        limit = d - 1 if key == "REFLECT" else d
        if before > limit or after > limit:
            raise ValueError(
                f"pad: in {key} mode the paddings of axis {axis} must be at most {limit} (its size"
                f"{' minus one' if key == 'REFLECT' else ''}). Received: paddings[{axis}]={[before, after]}, "
                f"tensor.shape={xv.shape}"
            )
    out = xp.pad(xv, pairs, mode=_MODES[key])
    # Per axis, the source index of every output position (np.pad applied to an arange).
    sources = [np.pad(np.arange(d), p, mode=_MODES[key]) for d, p in zip(xv.shape, pairs)]

    def backward(g, needs):
        for axis in range(xv.ndim - 1, -1, -1):
            if pairs[axis] == (0, 0):
                continue
            moved = xp.moveaxis(g, axis, 0)
            folded = xp.zeros((xv.shape[axis],) + moved.shape[1:], dtype=g.dtype)
            xp.add.at(folded, xp.asarray(sources[axis]), moved)
            g = xp.moveaxis(folded, 0, axis)
        return (g,)

    return record("pad", (x,), out, backward)


@register_gradient("pad")
def _pad_rule(op, g):
    from featherflow.ops.indexing import getitem, index_add
    from featherflow.ops.shape import transpose

    c = op.captured
    if "window" in c:  # CONSTANT
        return (getitem(g, c["window"]),)
    shape, pairs, sources = c["xv"].shape, c["pairs"], c["sources"]
    for axis in range(len(shape) - 1, -1, -1):
        if pairs[axis] == (0, 0):
            continue
        perm = [axis] + [a for a in range(len(shape)) if a != axis]
        moved = transpose(g, perm)
        folded = index_add(moved, (np.asarray(sources[axis]),), (shape[axis],) + tuple(moved.value.shape[1:]))
        g = transpose(folded, list(np.argsort(perm)))
    return (g,)
