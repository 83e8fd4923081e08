"""Turning op arguments into tensors with TensorFlow's dtype rules and clear errors."""

from __future__ import annotations

import numpy as np

from featherflow.core.tensor import Tensor, convert_to_tensor

# the ops TensorFlow defines on string tensors too (``t == "cat"``, ``tf.where(c, "a", "b")``, ``t + "!"``)
_STRING_OPS = frozenset({"equal", "not_equal", "where", "add"})


def as_tensor(x, op: str, arg: str = "x", dtype=None) -> Tensor:
    """``x`` as a Tensor; errors name the op and the argument."""
    if isinstance(x, Tensor):
        if dtype is not None and x.value.dtype != dtype:
            raise TypeError(
                f"{op}: argument `{arg}` must have dtype {np.dtype(dtype).name}, received "
                f"{x.dtype.name}. Cast it with featherflow.cast."
            )
        return x
    try:
        t = convert_to_tensor(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{op}: invalid argument `{arg}`. {exc}") from None
    if t.value.dtype.kind == "O" and op not in _STRING_OPS:
        raise TypeError(f"{op}: invalid argument `{arg}`. This op computes on numbers; strings are not supported "
                        f"here (featherflow.strings has the string ops). Received: {x!r:.80}")
    return t


def as_float_tensor(x, op: str, arg: str = "x") -> Tensor:
    """``x`` as a floating-point Tensor; integer tensors are refused as TensorFlow does."""
    t = as_tensor(x, op, arg)
    if t.value.dtype.kind not in "fc":
        raise TypeError(
            f"{op}: argument `{arg}` must be a floating-point tensor (float16/32/64), received "
            f"dtype {t.dtype.name}. Cast it first: featherflow.cast({arg}, 'float32')."
        )
    return t


def binary_operands(x, y, op: str) -> tuple[Tensor, Tensor]:
    """Convert both operands of a binary op to tensors of one dtype.

    Python numbers, lists and NumPy arrays adopt the dtype of the tensor operand (a float
    value is refused for an integer tensor); two tensors of different dtypes are refused,
    as in TensorFlow.
    """
    x_is = isinstance(x, Tensor)
    y_is = isinstance(y, Tensor)
    if x_is and y_is:
        if x.value.dtype != y.value.dtype:
            raise TypeError(
                f"{op}: both operands must have the same dtype, received x.dtype={x.dtype.name} and "
                f"y.dtype={y.dtype.name}. Cast one of them with featherflow.cast."
            )
        return x, y
    if x_is:
        return x, _adopt(y, x.value.dtype, op, "y")
    if y_is:
        return _adopt(x, y.value.dtype, op, "x"), y
    xt = as_tensor(x, op, "x")
    return xt, _adopt(y, xt.value.dtype, op, "y")


def _adopt(value, dtype, op, arg) -> Tensor:
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and dtype.kind in "iub":
            raise TypeError(
                f"{op}: argument `{arg}` holds floats but the other operand is a {dtype.name} tensor. "
                f"Cast the tensor to a float dtype first."
            )
        if value.dtype.kind in "USO" and dtype.kind != "O":
            raise TypeError(f"{op}: argument `{arg}` must be numeric, received dtype {value.dtype}.")
        if dtype.kind == "O":  # a string tensor's partner: NumPy str/bytes arrays become a string tensor
            value = value.tolist()
        else:
            return Tensor(value.astype(dtype, copy=False))
    if dtype.kind == "O" and not isinstance(value, Tensor):
        t = as_tensor(value, op, arg)
        if t.value.dtype.kind != "O":
            raise TypeError(f"{op}: invalid argument `{arg}`: the other operand is a string tensor, so this one must "
                            f"be a string too. Received: {value!r:.80}")
        return t
    return as_tensor(value, op, arg, dtype=dtype) if not isinstance(value, Tensor) else value


def broadcast_error(op: str, x, y) -> ValueError:
    """The error for operands whose shapes do not broadcast (raise it ``from None``)."""
    return ValueError(
        f"{op}: incompatible shapes {tuple(x.shape)} and {tuple(y.shape)}: they cannot be broadcast together "
        f"(each axis, aligned from the right, must match or be 1). Received: x.shape={tuple(x.shape)}, "
        f"y.shape={tuple(y.shape)}"
    )
