"""Matrix products.

>>> import featherflow as ff
>>> ff.matmul([[1.0, 2.0]], [[3.0], [4.0]]).numpy()
array([[11.]], dtype=float32)
"""

from __future__ import annotations

from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import binary_operands


def _swap(a):
    return a.swapaxes(-1, -2)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           name=None) -> Tensor:
    """Matrix product of the last two axes, batched (and broadcast) over the leading ones.

    Args:
        a, b: tensors of rank >= 2 with ``a.shape[-1] == b.shape[-2]`` (after transposes).
        transpose_a, transpose_b: transpose the last two axes of ``a`` / ``b`` first.

    >>> matmul([[1.0, 0.0], [0.0, 1.0]], [[2.0], [3.0]]).numpy()
    array([[2.],
           [3.]], dtype=float32)
    """
    a, b = binary_operands(a, b, "matmul")
    transpose_a = transpose_a or adjoint_a
    transpose_b = transpose_b or adjoint_b
    av, bv = a.value, b.value
    if av.ndim < 2 or bv.ndim < 2:
        raise ValueError(
            f"matmul: both inputs must have rank >= 2. Received: a.shape={av.shape}, b.shape={bv.shape}. "
            "Use featherflow.tensordot or expand_dims for vectors."
        )
    am = _swap(av) if transpose_a else av
    bm = _swap(bv) if transpose_b else bv
    if am.shape[-1] != bm.shape[-2]:
        raise ValueError(
            f"matmul: inner dimensions must match: a has {am.shape[-1]} columns but b has "
            f"{bm.shape[-2]} rows. Received: a.shape={av.shape}, b.shape={bv.shape}, "
            f"transpose_a={transpose_a}, transpose_b={transpose_b}"
        )
    xp = array_module(av)
    out = xp.matmul(am, bm)

    def backward(g, needs):
        ga = gb = None
        if needs[0]:
            ga = g @ _swap(bm)  # d(am)
            if transpose_a:
                ga = _swap(ga)
        if needs[1]:
            gb = _swap(am) @ g  # d(bm)
            if transpose_b:
                gb = _swap(gb)
        return ga, gb

    return record("matmul", (a, b), out, backward)
