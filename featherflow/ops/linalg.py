"""Matrix products: matmul, tensordot, and the matrix helpers of ``tf.linalg``.

>>> import featherflow as ff
>>> ff.matmul([[1.0, 2.0]], [[3.0], [4.0]]).numpy()
array([[11.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.blas import THREADS, use_threads_for
from featherflow.core.gradients import register_gradient
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor, binary_operands


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
    if (adjoint_a or adjoint_b) and a.value.dtype.kind == "c":  # the adjoint conjugates too
        from featherflow.ops.complex import conj

        a = conj(a) if adjoint_a else a
        b = conj(b) if adjoint_b else b
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
    macs = am.shape[-2] * am.shape[-1] * bm.shape[-1]  # of one product of the stack
    if THREADS["on"]:
        use_threads_for(macs)
    try:
        out = am @ bm
    except ValueError:
        if am.shape[-1] != bm.shape[-2]:
            problem = f"inner dimensions must match: a has {am.shape[-1]} columns but b has {bm.shape[-2]} rows"
        else:
            problem = f"batch dimensions {av.shape[:-2]} and {bv.shape[:-2]} do not broadcast"
        raise ValueError(
            f"matmul: {problem}. Received: a.shape={av.shape}, b.shape={bv.shape}, "
            f"transpose_a={transpose_a}, transpose_b={transpose_b}"
        ) from None

    def backward(g, needs):
        ga = gb = None
        conjugate = g.dtype.kind == "c"  # complex gradients use the adjoint (TensorFlow's convention)
        if THREADS["on"]:
            use_threads_for(macs)
        if needs[0]:
            ga = g @ (_swap(bm).conj() if conjugate else _swap(bm))  # d(am)
            if transpose_a:
                ga = _swap(ga)
        if needs[1]:
            gb = (_swap(am).conj() if conjugate else _swap(am)) @ g  # d(bm)
            if transpose_b:
                gb = _swap(gb)
        return ga, gb

    return record("matmul", (a, b), out, backward)


def _axes_list(axes, ndim, op, arg):
    axes = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} in `{arg}` is out of range for a tensor of rank {ndim}.")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: `{arg}` lists an axis twice. Received: {axes}")
    return out


def tensordot(a, b, axes, name=None) -> Tensor:
    """Sum of products over the given axes of ``a`` and ``b`` (a generalized matrix product).

    Args:
        a, b: tensors of one dtype.
        axes: an int ``N`` (the last N axes of ``a`` with the first N of ``b``) or a pair
            ``[a_axes, b_axes]`` of equally long axis lists.

    The result has the free axes of ``a`` followed by the free axes of ``b``. Computed (and
    differentiated) as one matrix product after transposing and reshaping.

    >>> tensordot([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0], axes=1).numpy()
    array([3., 7.], dtype=float32)
    """
    a, b = binary_operands(a, b, "tensordot")
    av, bv = a.value, b.value
    if isinstance(axes, Tensor):
        axes = axes.value.tolist()
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > av.ndim or n > bv.ndim:
            raise ValueError(
                f"tensordot: axes={n} must be between 0 and the rank of both inputs. "
                f"Received: a.shape={av.shape}, b.shape={bv.shape}"
            )
        a_axes = list(range(av.ndim - n, av.ndim))
        b_axes = list(range(n))
    else:
        try:
            first, second = axes
        except (TypeError, ValueError):
            raise ValueError(f"tensordot: `axes` must be an int or a pair of axis lists. Received: axes={axes!r}") from None
        a_axes = _axes_list(first, av.ndim, "tensordot", "axes[0]")
        b_axes = _axes_list(second, bv.ndim, "tensordot", "axes[1]")
        if len(a_axes) != len(b_axes):
            raise ValueError(f"tensordot: axes[0] and axes[1] must have the same length. Received: axes={axes}")
    for i, j in zip(a_axes, b_axes):
        if av.shape[i] != bv.shape[j]:
            raise ValueError(
                f"tensordot: contracted axes must have equal sizes: a axis {i} has {av.shape[i]}, b axis {j} "
                f"has {bv.shape[j]}. Received: a.shape={av.shape}, b.shape={bv.shape}"
            )
    free_a = [i for i in range(av.ndim) if i not in a_axes]
    free_b = [j for j in range(bv.ndim) if j not in b_axes]
    k = 1
    for i in a_axes:
        k *= av.shape[i]
    perm_a, perm_b = free_a + a_axes, b_axes + free_b
    at = av.transpose(perm_a)
    bt = bv.transpose(perm_b)
    a2 = at.reshape(-1, k) if free_a else at.reshape(1, k)
    b2 = bt.reshape(k, -1) if free_b else bt.reshape(k, 1)
    out_shape = tuple(av.shape[i] for i in free_a) + tuple(bv.shape[j] for j in free_b)
    out = (a2 @ b2).reshape(out_shape)

    def backward(g, needs):
        g2 = g.reshape(a2.shape[0], b2.shape[1])
        ga = gb = None
        if needs[0]:
            ga = (g2 @ b2.T).reshape(at.shape).transpose(np.argsort(perm_a))
        if needs[1]:
            gb = (a2.T @ g2).reshape(bt.shape).transpose(np.argsort(perm_b))
        return ga, gb

    return record("tensordot", (a, b), out, backward)


def matrix_transpose(a, name="matrix_transpose", conjugate=False) -> Tensor:
    """Swap the last two axes (a batch of matrix transposes).

    >>> matrix_transpose([[1.0, 2.0]]).shape
    (2, 1)
    """
    from featherflow.ops.shape import transpose

    x = as_tensor(a, "matrix_transpose", "a")
    if x.value.ndim < 2:
        raise ValueError(f"matrix_transpose: expected rank >= 2. Received: a.shape={x.shape}")
    perm = list(range(x.value.ndim - 2)) + [x.value.ndim - 1, x.value.ndim - 2]
    return transpose(x, perm)


def trace(x, name=None) -> Tensor:
    """Sum of the main diagonal of the last two axes.

    >>> float(trace([[1.0, 2.0], [3.0, 4.0]]))
    5.0
    """
    from featherflow.ops.einsum import einsum

    t = as_tensor(x, "trace", "x")
    if t.value.ndim < 2:
        raise ValueError(f"trace: expected rank >= 2. Received: x.shape={t.shape}")
    if t.value.shape[-1] != t.value.shape[-2]:
        raise ValueError(f"trace: expected square matrices in the last two axes. Received: x.shape={t.shape}")
    return einsum("...ii->...", t)


def diag_part(input, name="diag_part", k=0) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The main diagonal of the last two axes (``k=0`` only).

    >>> diag_part([[1.0, 2.0], [3.0, 4.0]]).numpy()
    array([1., 4.], dtype=float32)
    """
    from featherflow.ops.einsum import einsum

    t = as_tensor(input, "diag_part", "input")
    if k != 0:
        raise ValueError(f"diag_part: only the main diagonal (k=0) is supported. Received: k={k}")
    if t.value.ndim < 2 or t.value.shape[-1] != t.value.shape[-2]:
        raise ValueError(f"diag_part: expected square matrices in the last two axes. Received: shape={t.shape}")
    return einsum("...ii->...i", t)


# -- differentiable rules (higher-order gradients; core/gradients.py) ----------------------------------------------

@register_gradient("matmul")
def _matmul_rule(op, g):
    a, b = op.inputs
    c = op.captured
    ta, tb = c["transpose_a"], c["transpose_b"]
    if a.value.dtype.kind == "c":
        from featherflow.ops.complex import conj

        a, b = conj(a), conj(b)
    ga = gb = None
    if op.needs[0]:
        ga = matmul(b, g, transpose_a=tb, transpose_b=True) if ta else matmul(g, b, transpose_b=not tb)
    if op.needs[1]:
        gb = matmul(g, a, transpose_a=True, transpose_b=ta) if tb else matmul(a, g, transpose_a=not ta)
    return ga, gb


@register_gradient("tensordot")
def _tensordot_rule(op, g):
    from featherflow.ops.shape import reshape, transpose

    a, b = op.inputs
    c = op.captured
    a2_shape, b2_shape, at_shape, bt_shape = c["a2"].shape, c["b2"].shape, c["at"].shape, c["bt"].shape
    g2 = reshape(g, (a2_shape[0], b2_shape[1]))
    ga = gb = None
    if op.needs[0]:
        b2 = reshape(transpose(b, c["perm_b"]), b2_shape)
        ga = transpose(reshape(matmul(g2, b2, transpose_b=True), at_shape), list(np.argsort(c["perm_a"])))
    if op.needs[1]:
        a2 = reshape(transpose(a, c["perm_a"]), a2_shape)
        gb = transpose(reshape(matmul(a2, g2, transpose_a=True), bt_shape), list(np.argsort(c["perm_b"])))
    return ga, gb
