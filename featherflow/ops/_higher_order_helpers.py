"""The recorded ops the core's higher-order backward pass needs (``core.higher_order.install_tensor_helpers``).

>>> from featherflow.ops._higher_order_helpers import sum_to_shape
>>> import featherflow as ff
>>> sum_to_shape(ff.ones((2, 3)), (1, 3)).numpy()
array([[2., 2., 2.]], dtype=float32)
"""

from __future__ import annotations

from featherflow.core import higher_order
from featherflow.core.tensor import Tensor
from featherflow.ops.math import cast
from featherflow.ops.reduce import reduce_sum
from featherflow.ops.shape import reshape, stack, transpose


def sum_to_shape(t: Tensor, shape) -> Tensor:
    """Sum ``t`` over the axes broadcasting added or stretched to reach its shape from ``shape`` (recorded)."""
    shape = tuple(shape)
    extra = t.value.ndim - len(shape)
    axes = list(range(extra)) + [extra + i for i, d in enumerate(shape) if d == 1 and t.value.shape[extra + i] != 1]
    if axes:
        t = reduce_sum(t, axis=axes)
    return reshape(t, shape) if t.value.shape != shape else t


def install() -> None:
    """Give the core the ops its recorded backward pass uses."""
    higher_order.install_tensor_helpers(sum_to_shape, cast, stack, reshape, transpose)
