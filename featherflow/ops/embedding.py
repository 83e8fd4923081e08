"""Embedding lookup with range checking and a scatter-add gradient.

``embedding(ids, table)`` returns ``table[ids]`` (shape ``ids.shape + (dim,)``); its backward
rule adds every output row's gradient into the row it came from (rows looked up several
times accumulate), so the table's gradient is dense like TensorFlow's after densification.

>>> import numpy as np
>>> embedding(np.array([[1, 0]]), np.array([[0.0, 1.0], [2.0, 3.0]], "float32")).numpy()
array([[[2., 3.],
        [0., 1.]]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, as_tensor


def check_indices(ids, size: int, op: str) -> None:
    """Raise a clear ``ValueError`` (TensorFlow's ``indices[i] = v is not in [0, size)``) for out-of-range ids."""
    if ids.size == 0:
        return
    lo, hi = ids.min(), ids.max()
    if lo < 0 or hi >= size:
        bad_mask = (ids < 0) | (ids >= size)
        position = tuple(int(i) for i in np.argwhere(np.asarray(bad_mask))[0])
        value = ids[position]
        raise ValueError(
            f"{op}: indices{list(position)} = {value} is not in [0, {size}). Every input index must be in "
            f"[0, input_dim) where input_dim={size}; use a larger input_dim or map unknown tokens to a valid index."
        )


def embedding(ids, table, op: str = "embedding") -> Tensor:
    """Rows of ``table`` (``(input_dim, output_dim)``) at integer ``ids``.

    Args:
        ids: integer tensor of any shape, values in ``[0, input_dim)`` (float ids are truncated, as Keras
            casts them to integers).
        table: the float embedding matrix.
    """
    table = as_float_tensor(table, op, "embeddings")
    ids_t = as_tensor(ids, op, "inputs")
    iv = ids_t.value
    if iv.dtype.kind == "f":
        iv = iv.astype("int64")  # as Keras's cast to int32: float ids are truncated toward zero
    elif iv.dtype.kind not in "iu":
        raise TypeError(f"{op}: inputs must be integer token ids. Received dtype {iv.dtype}.")
    tv = table.value
    if tv.ndim != 2:
        raise ValueError(f"{op}: embeddings must be 2-D (input_dim, output_dim). Received shape {tv.shape}")
    check_indices(iv, tv.shape[0], op)
    xp = array_module(tv)
    out = xp.take(tv, iv, axis=0)

    def backward(g, needs):
        full = xp.zeros(tv.shape, dtype=g.dtype)
        xp.add.at(full, iv.reshape(-1), g.reshape(-1, tv.shape[1]))
        return (full,)

    return record(op, (table,), out, backward)
