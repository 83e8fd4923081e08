"""Arithmetic on SparseTensors: ``add``, ``maximum``/``minimum``, ``reduce_sum``/``reduce_max``, ``softmax``,
``sparse_dense_matmul``, ``sampled_addmm``, the sparse segment reductions, ``bincount``, ``to_indicator``,
``mask``, and ``edit_distance``.

Value computations use gathers and segment sums of the ``values`` tensor, so gradients flow to the values
(and to dense operands) as in TensorFlow.

>>> import featherflow as ff
>>> a = ff.sparse.SparseTensor([[0, 1], [1, 0]], [1.0, 2.0], [2, 2])
>>> ff.sparse.sparse_dense_matmul(a, ff.constant([[1.0], [10.0]])).numpy()
array([[10.],
       [ 2.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor
from featherflow.ops.sparse import SparseTensor, _int64, _sparse, reorder, to_dense


def _merged(sp_a, sp_b, op):
    """The union of two patterns: ``(indices, position of each a/b entry in it, dense_shape)``."""
    a, b = _sparse(sp_a, op, "a"), _sparse(sp_b, op, "b")
    if not np.array_equal(a.dense_shape.value, b.dense_shape.value):
        raise InvalidArgumentError(None, None, f"{op}: the operands' dense shapes differ: "
                                   f"{a.dense_shape.value.tolist()} vs {b.dense_shape.value.tolist()}")
    shape = tuple(int(d) for d in a.dense_shape.value)
    keys_a = np.ravel_multi_index(tuple(a.indices.value.T), shape) if a.indices.value.size else np.zeros(0, np.int64)
    keys_b = np.ravel_multi_index(tuple(b.indices.value.T), shape) if b.indices.value.size else np.zeros(0, np.int64)
    keys, inverse = np.unique(np.concatenate([keys_a, keys_b]), return_inverse=True)
    coords = np.stack(np.unravel_index(keys, shape), axis=1) if keys.size else np.zeros((0, len(shape)), np.int64)
    return a, b, coords, inverse[:keys_a.size], inverse[keys_a.size:], shape


def add(a, b, threshold=0):
    """``a + b``: sparse + sparse is sparse (entries with ``|sum| < threshold`` dropped); with a dense operand
    the result is dense.

    >>> x = SparseTensor([[0, 1]], [1.0], [2, 2])
    >>> add(x, SparseTensor([[0, 1], [1, 0]], [-1.0, 2.0], [2, 2])).values.numpy()
    array([0., 2.], dtype=float32)
    """
    from featherflow.ops.segment import unsorted_segment_sum
    from featherflow.ops.shape import concat

    if not isinstance(a, SparseTensor) or not isinstance(b, SparseTensor):
        sparse, dense = (a, b) if isinstance(a, SparseTensor) else (b, a)
        return to_dense(_sparse(sparse, "add")) + as_tensor(dense, "add", "b")
    a, b, coords, pos_a, pos_b, shape = _merged(a, b, "add")
    values = unsorted_segment_sum(concat([a.values, b.values], axis=0), np.concatenate([pos_a, pos_b]), len(coords))
    result = SparseTensor(coords, values, shape)
    if threshold:
        from featherflow.ops.sparse import retain

        result = retain(result, np.abs(np.asarray(values.value)) >= float(threshold))
    return result


def _extreme(sp_a, sp_b, op, high):
    from featherflow.ops.indexing import gather
    from featherflow.ops.math import maximum as maximum_op
    from featherflow.ops.math import minimum as minimum_op
    from featherflow.ops.shape import concat

    a, b, coords, pos_a, pos_b, shape = _merged(sp_a, sp_b, op)
    dense_a = np.zeros(len(coords), np.int64) - 1
    dense_b = np.zeros(len(coords), np.int64) - 1
    dense_a[pos_a] = np.arange(pos_a.size)
    dense_b[pos_b] = np.arange(pos_b.size)
    zero = Tensor(np.zeros(1, dtype=a.values.value.dtype))
    va = gather(concat([a.values, zero], axis=0), np.where(dense_a < 0, pos_a.size, dense_a))
    vb = gather(concat([b.values, zero], axis=0), np.where(dense_b < 0, pos_b.size, dense_b))
    return SparseTensor(coords, (maximum_op if high else minimum_op)(va, vb), shape)


def maximum(sp_a, sp_b, name=None) -> SparseTensor:
    """Elementwise maximum of two SparseTensors of one shape (missing entries count as 0).

    >>> maximum(SparseTensor([[0]], [-1.0], [2]), SparseTensor([[1]], [2.0], [2])).values.numpy()
    array([0., 2.], dtype=float32)
    """
    return _extreme(sp_a, sp_b, "maximum", True)


def minimum(sp_a, sp_b, name=None) -> SparseTensor:
    """Elementwise minimum of two SparseTensors of one shape (missing entries count as 0).

    >>> minimum(SparseTensor([[0]], [-1.0], [2]), SparseTensor([[1]], [2.0], [2])).values.numpy()
    array([-1.,  0.], dtype=float32)
    """
    return _extreme(sp_a, sp_b, "minimum", False)


def _reduce(sp_input, axis, keepdims, output_is_sparse, op, kind):
    from featherflow.ops.segment import unsorted_segment_max, unsorted_segment_sum
    from featherflow.ops.shape import reshape

    sp = _sparse(sp_input, op)
    shape = sp.dense_shape.value
    rank = shape.size
    axes = list(range(rank)) if axis is None else sorted({int(a) % rank for a in np.asarray(axis).reshape(-1)})
    kept = [d for d in range(rank) if d not in axes]
    out_shape = tuple(int(shape[d]) for d in kept)
    idx = sp.indices.value
    keys = np.ravel_multi_index(tuple(idx[:, kept].T), out_shape) if kept and idx.size else np.zeros(len(idx), np.int64)
    size = int(np.prod(out_shape, dtype=np.int64))
    if kind == "sum":
        flat = unsorted_segment_sum(sp.values, keys, size)
    else:
        flat = unsorted_segment_max(sp.values, keys, size)
        counts = np.bincount(keys, minlength=size)
        if (counts == 0).any():  # a group with no entries: TensorFlow gives 0 there, not the dtype's lowest
            from featherflow.ops.compare import where

            flat = where(Tensor(counts > 0), flat, flat * 0)
    final_shape = tuple(1 if d in axes else int(shape[d]) for d in range(rank)) if keepdims else out_shape
    dense = reshape(flat, final_shape)
    if output_is_sparse:
        from featherflow.ops.sparse import from_dense

        return from_dense(dense)
    return dense


def reduce_sum(sp_input, axis=None, keepdims=None, output_is_sparse=False, name=None):
    """The sum of the entries over ``axis`` (all axes by default): a dense tensor, or sparse with
    ``output_is_sparse``.

    >>> reduce_sum(SparseTensor([[0, 1], [1, 0], [1, 1]], [1.0, 2.0, 3.0], [2, 2]), axis=1).numpy()
    array([1., 5.], dtype=float32)
    """
    return _reduce(sp_input, axis, keepdims, output_is_sparse, "reduce_sum", "sum")


def reduce_max(sp_input, axis=None, keepdims=None, output_is_sparse=False, name=None):
    """The maximum of the *present* entries over ``axis`` (a group without entries gives 0).

    >>> reduce_max(SparseTensor([[0, 1], [1, 0], [1, 1]], [-1.0, 2.0, 3.0], [2, 3]), axis=1).numpy()
    array([-1.,  3.], dtype=float32)
    """
    return _reduce(sp_input, axis, keepdims, output_is_sparse, "reduce_max", "max")


def softmax(sp_input, name=None) -> SparseTensor:
    """Softmax over the present entries of each innermost row (missing entries stay missing, not zero logits).

    >>> softmax(SparseTensor([[0, 1], [1, 0], [1, 1]], [1.0, 2.0, 3.0], [2, 2])).values.numpy()
    array([1.       , 0.2689414, 0.7310586], dtype=float32)
    """
    from featherflow.ops.indexing import gather
    from featherflow.ops.math import exp
    from featherflow.ops.segment import unsorted_segment_max, unsorted_segment_sum

    sp = reorder(_sparse(sp_input, "softmax"))
    idx = sp.indices.value
    shape = sp.dense_shape.value
    rows = np.ravel_multi_index(tuple(idx[:, :-1].T), tuple(shape[:-1])) if shape.size > 1 and idx.size else \
        np.zeros(len(idx), np.int64)
    count = int(np.prod(shape[:-1], dtype=np.int64)) if shape.size > 1 else 1
    peak = unsorted_segment_max(sp.values, rows, count)
    shifted = exp(sp.values - gather(peak, rows))
    total = unsorted_segment_sum(shifted, rows, count)
    return sp.with_values(shifted / gather(total, rows))


def sparse_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None) -> Tensor:
    """``A @ B`` for a 2-D SparseTensor ``A`` (either side may be sparse; adjoints conjugate-transpose).

    >>> import featherflow as ff
    >>> sparse_dense_matmul(SparseTensor([[0, 1]], [2.0], [1, 2]), ff.constant([[1.0], [3.0]])).numpy()
    array([[6.]], dtype=float32)
    """
    from featherflow.ops.indexing import gather
    from featherflow.ops.linalg import matrix_transpose
    from featherflow.ops.segment import unsorted_segment_sum
    from featherflow.ops.shape import expand_dims

    if isinstance(b, SparseTensor) and not isinstance(sp_a, SparseTensor):
        # A_dense @ B_sparse = (B^T @ A^T)^T
        return matrix_transpose(sparse_dense_matmul(b, matrix_transpose(as_tensor(sp_a, "sparse_dense_matmul", "a")),
                                                    adjoint_a=not adjoint_b, adjoint_b=False))
    sp = _sparse(sp_a, "sparse_dense_matmul", "sp_a")
    dense = as_tensor(b, "sparse_dense_matmul", "b")
    if adjoint_b:
        dense = matrix_transpose(dense)
    idx = sp.indices.value
    rows, cols = (idx[:, 1], idx[:, 0]) if adjoint_a else (idx[:, 0], idx[:, 1])
    out_rows = int(sp.dense_shape.value[1 if adjoint_a else 0])
    inner = int(sp.dense_shape.value[0 if adjoint_a else 1])
    if dense.value.shape[0] != inner:
        raise ValueError(f"sparse_dense_matmul: inner dimensions differ: {inner} vs {dense.value.shape[0]}")
    values = sp.values
    if adjoint_a and values.value.dtype.kind == "c":
        from featherflow.ops.complex import conj

        values = conj(values)
    products = expand_dims(values, -1) * gather(dense, cols)
    return unsorted_segment_sum(products, rows, out_rows)


def sampled_addmm(indices, values, dense_shape, mat1, mat2, beta=1.0, alpha=1.0, output_type="float32"):
    """``alpha * (mat1 @ mat2)`` sampled at ``indices`` plus ``beta * values``: returns ``(indices, values,
    dense_shape)`` of the result, as TensorFlow does.

    >>> import featherflow as ff
    >>> sampled_addmm([[0, 0], [1, 1]], [1.0, 2.0], [2, 2], ff.ones((2, 3)), ff.ones((3, 2)))[1].numpy()
    array([4., 5.], dtype=float32)
    """
    from featherflow.ops.indexing import getitem
    from featherflow.ops.linalg import matmul

    idx = _int64(indices, "sampled_addmm", "indices")
    if idx.ndim != 2 or idx.shape[1] != 2:
        raise ValueError(f"sampled_addmm: indices must have shape [N, 2]. Received: {idx.shape}")
    product = matmul(mat1, mat2)
    picked = getitem(product, (Ellipsis, idx[:, 0], idx[:, 1]))
    vals = as_tensor(values, "sampled_addmm", "values", dtype=product.value.dtype) if not isinstance(values, Tensor) \
        else values
    return as_tensor(indices, "sampled_addmm", "indices"), alpha * picked + beta * vals, \
        as_tensor(dense_shape, "sampled_addmm", "dense_shape")


def _sparse_segment(data, indices, segment_ids, num_segments, kind, op):
    from featherflow.ops.indexing import gather
    from featherflow.ops.segment import unsorted_segment_sum

    x = as_tensor(data, op, "data")
    rows = _int64(indices, op, "indices").reshape(-1)
    ids = _int64(segment_ids, op, "segment_ids").reshape(-1)
    if rows.size != ids.size:
        raise InvalidArgumentError(None, None, f"{op}: indices and segment_ids must have the same length.")
    if num_segments is None:
        if ids.size and (np.diff(ids) < 0).any():
            raise InvalidArgumentError(None, None, f"{op}: segment ids are not increasing")
        num_segments = int(ids[-1]) + 1 if ids.size else 0
    total = unsorted_segment_sum(gather(x, rows), ids, int(num_segments))
    if kind == "sum":
        return total
    counts = np.bincount(ids, minlength=int(num_segments))[:int(num_segments)].astype(np.float64)
    scale = np.where(counts > 0, 1.0 / np.where(counts > 0, counts if kind == "mean" else np.sqrt(counts), 1), 0.0)
    return total * Tensor(scale.reshape((-1,) + (1,) * (x.value.ndim - 1)).astype(x.value.dtype))


def segment_sum(data, indices, segment_ids, num_segments=None, name=None, sparse_gradient=False) -> Tensor:
    """Sums of the rows ``data[indices]`` grouped by ``segment_ids``.

    >>> segment_sum([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 2, 2], [0, 0, 1]).numpy()
    array([[6., 8.],
           [5., 6.]], dtype=float32)
    """
    return _sparse_segment(data, indices, segment_ids, num_segments, "sum", "segment_sum")


def segment_mean(data, indices, segment_ids, num_segments=None, name=None, sparse_gradient=False) -> Tensor:
    """Means of the rows ``data[indices]`` grouped by ``segment_ids`` (0 for an empty segment).

    >>> segment_mean([[1.0], [3.0]], [0, 1], [0, 0]).numpy()
    array([[2.]], dtype=float32)
    """
    return _sparse_segment(data, indices, segment_ids, num_segments, "mean", "segment_mean")


def segment_sqrt_n(data, indices, segment_ids, num_segments=None, name=None, sparse_gradient=False) -> Tensor:
    """Sums of the rows ``data[indices]`` per segment divided by the square root of the segment size.

    >>> segment_sqrt_n([[1.0], [3.0]], [0, 1], [0, 0]).numpy()
    array([[2.828427]], dtype=float32)
    """
    return _sparse_segment(data, indices, segment_ids, num_segments, "sqrt_n", "segment_sqrt_n")


def _bincount_inputs(values, weights, axis):
    """``(ids, rows, weights, dtype)``: the counted values (int64), their output row (``axis=-1``) and weights."""
    sparse = isinstance(values, SparseTensor)
    source = values.values.value if sparse else as_tensor(values, "bincount", "values").value
    if source.dtype.kind not in "iu":
        raise TypeError(f"bincount: `values` must be integers. Received: dtype={source.dtype.name}")
    if weights is None:
        w = None
    elif isinstance(weights, SparseTensor):
        w = weights.values.value
    else:
        w = as_tensor(weights, "bincount", "weights").value
    rows = None
    if axis == -1:
        if sparse:
            if values.indices.value.shape[1] != 2:
                raise InvalidArgumentError(None, None, "bincount: axis=-1 needs a rank-2 SparseTensor.")
            rows = (values.indices.value[:, 0], int(values.dense_shape.value[0]))
        else:
            if source.ndim != 2:
                raise InvalidArgumentError(None, None, f"bincount: axis=-1 needs rank-2 values. Received: "
                                           f"values.shape={source.shape}")
            rows = (np.repeat(np.arange(source.shape[0]), source.shape[1]), source.shape[0])
    elif axis not in (0, None):
        raise ValueError(f"bincount: `axis` must be 0, -1 or None. Received: axis={axis}")
    ids = source.reshape(-1).astype(np.int64)
    if w is not None and w.size != ids.size:
        raise InvalidArgumentError(None, None, f"bincount: `weights` must have the shape of `values`. Received: "
                                   f"{w.size} weights for {ids.size} values")
    return ids, rows, None if w is None else w.reshape(-1), (source.dtype if w is None else w.dtype)


def bincount(values, weights=None, axis=0, minlength=None, maxlength=None, binary_output=False, name=None):
    """Counts of each value as a SparseTensor (``axis=-1``: one row of counts per row of a 2-D input or of a
    rank-2 SparseTensor, whose stored values are counted, explicit zeros included).

    The counts have the values' dtype (the weights' with ``weights``); ``binary_output`` gives 1 for every
    value present; values at or past ``maxlength`` are dropped, as in TensorFlow.

    >>> import featherflow as ff
    >>> bincount(ff.constant([[1, 1, 3], [2, 2, 0]]), axis=-1).values.numpy()
    array([2, 1, 1, 2], dtype=int32)
    """
    from featherflow.ops.sparse import from_dense

    ids, rows, w, dtype = _bincount_inputs(values, weights, axis)
    if ids.size and ids.min() < 0:
        raise InvalidArgumentError(None, None, f"bincount: values must be non-negative. Received: {int(ids.min())}")
    length = max(int(ids.max()) + 1 if ids.size else 0, int(minlength or 0))
    if maxlength is not None:
        length = min(length, int(maxlength))
    keep = ids < length
    counts = np.zeros((length,) if rows is None else (rows[1], length), dtype=dtype)
    where = ids[keep] if rows is None else (rows[0][keep], ids[keep])
    np.add.at(counts, where, 1 if w is None else w[keep])
    if binary_output:
        counts = (counts != 0).astype(dtype)
    return from_dense(Tensor(counts))


def to_indicator(sp_input, vocab_size, name=None) -> Tensor:
    """A dense boolean tensor marking, in each innermost row, the ids listed by the SparseTensor.

    >>> import featherflow as ff
    >>> to_indicator(SparseTensor([[0, 0], [0, 1]], ff.constant([1, 3], "int64"), [1, 2]), 4).numpy()
    array([[False,  True, False,  True]])
    """
    sp = _sparse(sp_input, "to_indicator")
    ids = np.asarray(sp.values.value).astype(np.int64)
    shape = tuple(int(d) for d in sp.dense_shape.value[:-1]) + (int(vocab_size),)
    out = np.zeros(shape, dtype=bool)
    idx = sp.indices.value
    if ids.size and (ids.min() < 0 or ids.max() >= int(vocab_size)):
        raise InvalidArgumentError(None, None, f"to_indicator: ids must be in [0, {vocab_size}).")
    out[tuple(idx[:, :-1].T) + (ids,)] = True
    return Tensor(out)


def mask(a, mask_indices, name=None):
    """The rows of an ``IndexedSlices`` whose indices are not in ``mask_indices``.

    >>> import featherflow as ff
    >>> rows = ff.IndexedSlices(ff.constant([[1.0], [2.0]]), ff.constant([0, 5]))
    >>> mask(rows, ff.constant([5])).indices.numpy()
    array([0], dtype=int32)
    """
    from featherflow.ops.eager_api import IndexedSlices
    from featherflow.ops.indexing import gather

    if not isinstance(a, IndexedSlices):
        raise TypeError(f"mask: `a` must be an IndexedSlices. Received: {type(a).__name__}")
    drop = np.asarray(mask_indices.value if isinstance(mask_indices, Tensor) else mask_indices).reshape(-1)
    keep = np.nonzero(~np.isin(a.indices.value, drop))[0]
    return IndexedSlices(gather(a.values, keep), Tensor(a.indices.value[keep]), a.dense_shape)


def _levenshtein(a, b) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def edit_distance(hypothesis, truth, normalize=True, name="edit_distance") -> Tensor:
    """The Levenshtein distance between the sequences in the innermost dimension of two SparseTensors (divided
    by the truth's length with ``normalize``; ``inf`` for an empty truth and a non-empty hypothesis).

    >>> h = SparseTensor([[0, 0], [0, 1]], ["a", "b"], [1, 2])
    >>> edit_distance(h, SparseTensor([[0, 0]], ["a"], [1, 1])).numpy()
    array([1.], dtype=float32)
    """
    hyp, tru = _sparse(hypothesis, "edit_distance", "hypothesis"), _sparse(truth, "edit_distance", "truth")
    rank = hyp.dense_shape.value.size
    if tru.dense_shape.value.size != rank:
        raise ValueError("edit_distance: hypothesis and truth must have the same rank.")
    outer = tuple(int(d) for d in np.maximum(hyp.dense_shape.value[:-1], tru.dense_shape.value[:-1]))

    def sequences(sp):
        groups: dict = {}
        order = np.lexsort(sp.indices.value.T[::-1]) if sp.indices.value.size else []
        values = np.asarray(sp.values.value)
        for k in order:
            groups.setdefault(tuple(sp.indices.value[k, :-1]), []).append(values[k])
        return groups

    hyp_seq, tru_seq = sequences(hyp), sequences(tru)
    out = np.zeros(outer, dtype=np.float32)
    for position in np.ndindex(*outer):
        h, t = hyp_seq.get(position, []), tru_seq.get(position, [])
        distance = float(_levenshtein(h, t))
        if normalize:
            distance = distance / len(t) if t else (np.inf if h else 0.0)
        out[position] = distance
    return Tensor(out)
