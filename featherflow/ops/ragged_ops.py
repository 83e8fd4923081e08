"""``tf.ragged``'s functions and the arithmetic of ``RaggedTensor``: ``map_flat_values``, ``range``, ``stack``,
``boolean_mask``, ``row_splits_to_segment_ids`` / ``segment_ids_to_row_splits``, and the elementwise operators
(``rt + 1``, ``rt * rt``, ``-rt``, comparisons), which apply to the flat values and keep the row structure.

featherflow's RaggedTensor holds data (no gradient flows through it); dense work goes through ``to_tensor()``.
The operators take a scalar or a RaggedTensor with the same row partitions, as TensorFlow's do without ragged
broadcasting.

>>> import featherflow as ff
>>> rt = ff.ragged.constant([[1, 2], [3]])
>>> (rt * 10 + 1).to_list()
[[11, 21], [31]]
>>> ff.ragged.map_flat_values(ff.math.square, rt).to_list()
[[1, 4], [9]]
"""

from __future__ import annotations

import numpy as np

from featherflow.core import nest
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.ragged import RaggedTensor, constant  # noqa: F401 - constant: the doctests' helper
from featherflow.core.tensor import Tensor, convert_to_tensor
from featherflow.ops import compare, math


def _partitions(rt: RaggedTensor) -> list:
    return [np.asarray(s.value) for s in rt.nested_row_splits]


def map_flat_values(op, *args, **kwargs) -> RaggedTensor:
    """``op`` applied to the flat values of the RaggedTensors among ``args`` / ``kwargs`` (all with the same row
    partitions), the result given their row structure.

    Args:
        op: a callable on tensors whose result has as many rows (axis 0) as the flat values.
    """
    found = [a for a in nest.flatten([args, kwargs]) if isinstance(a, RaggedTensor)]
    if not found:
        raise ValueError("map_flat_values: at least one of the arguments must be a RaggedTensor.")
    template = found[0]
    splits = _partitions(template)
    for other in found[1:]:
        theirs = _partitions(other)
        if len(theirs) != len(splits) or any(not np.array_equal(a, b) for a, b in zip(splits, theirs)):
            raise InvalidArgumentError(None, None, "map_flat_values: the RaggedTensors must have the same row "
                                       "partitions (row_splits).")

    def flat(value):
        return value.flat_values if isinstance(value, RaggedTensor) else value

    result = op(*[flat(a) for a in args], **{k: flat(v) for k, v in kwargs.items()})
    result = result if isinstance(result, Tensor) else convert_to_tensor(result)
    rows = template.flat_values.value.shape[0]
    if result.value.ndim == 0 or result.value.shape[0] != rows:
        raise ValueError(f"map_flat_values: op must keep the {rows} flat values' first axis. Received a result of "
                         f"shape {tuple(result.value.shape)}")
    return template.with_flat_values(result.value)


def _elementwise(fn, reflected=False):
    def method(self, other):
        if isinstance(other, RaggedTensor):
            pair = (other, self) if reflected else (self, other)
            return map_flat_values(fn, *pair)
        value = other.value if isinstance(other, Tensor) else np.asarray(other)
        if value.ndim != 0:
            _refuse(value)
        return map_flat_values(lambda flat: fn(other, flat) if reflected else fn(flat, other), self)

    return method


def _refuse(value):
    raise TypeError(f"A RaggedTensor combines with a scalar or a RaggedTensor of the same row partitions "
                    f"(featherflow has no ragged broadcasting). Received a value of shape {tuple(value.shape)}; "
                    f"use rt.to_tensor() or tf.ragged.map_flat_values.")


def range(starts, limits=None, deltas=1, dtype=None, name=None, row_splits_dtype="int64") -> RaggedTensor:  # noqa: A001
    """One row ``range(starts[i], limits[i], deltas[i])`` per element (``limits=None``: ``range(starts[i])``).

    >>> range([3, 0, 2]).to_list()
    [[0, 1, 2], [], [0, 1]]
    """
    if limits is None:
        starts, limits = 0, starts
    starts, limits, deltas = (np.asarray(v.value if isinstance(v, Tensor) else v) for v in (starts, limits, deltas))
    starts, limits, deltas = np.broadcast_arrays(starts, limits, deltas)
    if np.any(deltas == 0):
        raise InvalidArgumentError(None, None, "Requires delta != 0")
    kind = np.result_type(starts, limits, deltas)
    out_dtype = np.dtype(dtype) if dtype is not None else (np.int32 if kind.kind in "iu" else np.float32)
    rows = [np.arange(start, limit, delta).astype(out_dtype)
            for start, limit, delta in zip(starts.ravel(), limits.ravel(), deltas.ravel())]
    return RaggedTensor.from_rows(rows, dtype=out_dtype)


def stack(values, axis=0, name=None) -> RaggedTensor:
    """Stack tensors / RaggedTensors of one dtype along a new outer axis (``axis=0``): vectors become the rows,
    matrices and RaggedTensors the items of the rows.

    >>> stack([[1, 2], [3]]).to_list()
    [[1, 2], [3]]
    >>> stack([constant([[1, 2], [3]]), [[4, 5]]]).to_list()
    [[[1, 2], [3]], [[4, 5]]]
    """
    if axis != 0:
        raise ValueError(f"featherflow's tf.ragged.stack supports axis=0 only. Received: axis={axis}")
    values = [v if isinstance(v, (Tensor, RaggedTensor)) else
              (RaggedTensor.from_rows(v) if _is_ragged_list(v) else convert_to_tensor(v)) for v in values]
    dtypes = {np.dtype(v.dtype) for v in values}
    ranks = {v.ndim if isinstance(v, RaggedTensor) else v.value.ndim for v in values}
    if len(dtypes) > 1 or len(ranks) > 1 or not ranks <= {1, 2}:
        raise ValueError(f"tf.ragged.stack: the values must have one dtype and one rank (1 or 2). Received: "
                         f"dtypes {sorted(map(str, dtypes))}, ranks {sorted(ranks)}")
    dtype = dtypes.pop()
    if ranks == {1}:
        return RaggedTensor.from_rows([v.value for v in values], dtype=dtype)
    rows = [row.value for v in values for row in v]
    return RaggedTensor.from_row_lengths(RaggedTensor.from_rows(rows, dtype=dtype), [len(v) for v in values])


def _is_ragged_list(value) -> bool:
    return isinstance(value, (list, tuple)) and any(isinstance(r, (list, tuple)) for r in value) and \
        len({len(r) if isinstance(r, (list, tuple)) else -1 for r in value}) > 1


def boolean_mask(data, mask, name=None) -> RaggedTensor:
    """The elements of each row of ``data`` where the 2-D ``mask`` is true (rows keep their place).

    >>> boolean_mask([[1, 2, 3], [4, 5, 6]], [[True, False, True], [False, False, False]]).to_list()
    [[1, 3], []]
    """
    values = data.value if isinstance(data, Tensor) else convert_to_tensor(data).value
    keep = np.asarray(mask.value if isinstance(mask, Tensor) else mask, dtype=bool)
    if keep.ndim != 2 or values.shape[:2] != keep.shape:
        raise ValueError(f"tf.ragged.boolean_mask: mask must be 2-D and match data's first two axes. Received: "
                         f"data.shape={values.shape}, mask.shape={keep.shape}")
    return RaggedTensor.from_row_lengths(values[keep], keep.sum(axis=1))


def row_splits_to_segment_ids(splits, name=None, out_type=None) -> Tensor:
    """The row of each value: ``[0, 2, 3]`` -> ``[0, 0, 1]``."""
    splits = np.asarray(splits.value if isinstance(splits, Tensor) else splits, dtype=np.int64)
    return Tensor(np.repeat(np.arange(len(splits) - 1), np.diff(splits)).astype(out_type or splits.dtype))


def segment_ids_to_row_splits(segment_ids, num_segments=None, out_type=None, name=None) -> Tensor:
    """Row splits from sorted segment ids: ``[0, 0, 1]`` -> ``[0, 2, 3]``."""
    ids = np.asarray(segment_ids.value if isinstance(segment_ids, Tensor) else segment_ids, dtype=np.int64)
    counts = np.bincount(ids, minlength=0 if num_segments is None else int(num_segments))
    return Tensor(np.concatenate([[0], np.cumsum(counts)]).astype(out_type or np.int64))


def install() -> None:
    """Give ``RaggedTensor`` TensorFlow's elementwise operators (idempotent)."""
    table = {"add": math.add, "sub": math.subtract, "mul": math.multiply, "truediv": math.divide,
             "floordiv": math.floordiv, "mod": math.floormod, "pow": math.pow}
    for name, fn in table.items():
        setattr(RaggedTensor, f"__{name}__", _elementwise(fn))
        setattr(RaggedTensor, f"__r{name}__", _elementwise(fn, reflected=True))
    for name, fn in {"lt": compare.less, "le": compare.less_equal, "gt": compare.greater,
                     "ge": compare.greater_equal}.items():
        setattr(RaggedTensor, f"__{name}__", _elementwise(fn))
    RaggedTensor.__neg__ = lambda self: map_flat_values(math.negative, self)
    RaggedTensor.__abs__ = lambda self: map_flat_values(math.abs, self)
