"""Counting, ordering and histogram ops (integer or boolean results, no gradient): ``bincount``,
``confusion_matrix``, ``unique``, ``searchsorted``, ``histogram_fixed_width``, ``invert_permutation``,
``zero_fraction`` and the monotonicity tests.

>>> import featherflow as ff
>>> ff.math.bincount([1, 1, 3]).numpy()
array([0, 2, 0, 1], dtype=int32)
"""

from __future__ import annotations

import collections

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor


def _int_values(x, op, arg):
    t = as_tensor(x, op, arg)
    if t.value.dtype.kind not in "iu":
        raise TypeError(f"{op}: `{arg}` must be an integer tensor, received dtype {t.dtype.name}.")
    return t.value


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype="int32", name=None, axis=None,
             binary_output=False) -> Tensor:
    """Count the occurrences of each value in an integer tensor.

    Args:
        arr: non-negative integers.
        weights: optional weights, same shape as ``arr``: each occurrence adds its weight instead of 1.
        minlength: the output has at least this many bins.
        maxlength: values ``>= maxlength`` are ignored.
        dtype: the output dtype when ``weights`` is None.
        axis: ``None`` counts over all elements; ``-1`` counts each row of a 2-D ``arr`` separately.
        binary_output: 1 where a value occurs instead of its count.

    Output length: ``max(arr) + 1`` (at least ``minlength``, at most ``maxlength``).

    >>> bincount([[1, 1], [3, 0]], axis=-1).numpy()
    array([[0, 2, 0, 0],
           [1, 0, 0, 1]], dtype=int32)
    """
    values = _int_values(arr, "bincount", "arr")
    if values.size and values.min() < 0:
        raise InvalidArgumentError(None, None, "bincount: Input arr must be non-negative!")
    if axis not in (None, 0, -1):
        raise ValueError(f"bincount: axis must be None, 0 or -1. Received: axis={axis!r}")
    weight_values = None
    if weights is not None:
        weight_values = as_tensor(weights, "bincount", "weights").value
        if weight_values.shape != values.shape:
            raise ValueError(f"bincount: `weights` must have the shape of `arr`. Received: weights.shape="
                             f"{weight_values.shape}, arr.shape={values.shape}")
    length = int(values.max()) + 1 if values.size else 0
    if minlength is not None:
        length = max(length, int(minlength))
    if maxlength is not None:
        length = min(length, int(maxlength))
    out_dtype = np.dtype(dtype) if weight_values is None else weight_values.dtype
    xp = array_module(values)
    rows = values.reshape(values.shape[0] if axis == -1 and values.ndim == 2 else 1, -1) if values.ndim else \
        values.reshape(1, 1)
    if axis == -1 and values.ndim != 2:
        raise ValueError(f"bincount: axis=-1 needs a 2-D `arr`. Received: arr.shape={values.shape}")
    wrows = None if weight_values is None else weight_values.reshape(rows.shape)
    out = xp.zeros((rows.shape[0], length), dtype=out_dtype)
    for r in range(rows.shape[0]):
        keep = rows[r] < length
        ids = rows[r][keep]
        if binary_output:
            out[r, ids] = 1
        elif wrows is None:
            out[r] += xp.bincount(ids, minlength=length).astype(out_dtype)
        else:
            xp.add.at(out[r], ids, wrows[r][keep])
    return Tensor(out if axis == -1 else out[0])


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype="int32", name=None) -> Tensor:
    """The ``(num_classes, num_classes)`` matrix counting (label, prediction) pairs: rows are labels.

    Args:
        labels, predictions: 1-D integer class ids of the same length.
        num_classes: the matrix size (default ``max(labels, predictions) + 1``).
        weights: optional per-pair weights (cast to ``dtype``).
        dtype: the output dtype.

    >>> confusion_matrix([0, 1, 1], [0, 1, 0]).numpy()
    array([[1, 0],
           [1, 1]], dtype=int32)
    """
    lab = as_tensor(labels, "confusion_matrix", "labels").value
    pred = as_tensor(predictions, "confusion_matrix", "predictions").value
    lab, pred = lab.reshape(-1), pred.reshape(-1)
    if lab.shape != pred.shape:
        raise ValueError(f"confusion_matrix: labels and predictions must have the same length. Received: "
                         f"labels.shape={lab.shape}, predictions.shape={pred.shape}")
    lab, pred = lab.astype(np.int64), pred.astype(np.int64)
    for values, what in ((lab, "labels"), (pred, "predictions")):
        if values.size and values.min() < 0:
            raise InvalidArgumentError(None, None, f"`{what}` contains negative values. Received: {values.tolist()}")
    if num_classes is None:
        num_classes = int(max(lab.max(initial=-1), pred.max(initial=-1))) + 1
    num_classes = int(num_classes)
    for values, what in ((lab, "labels"), (pred, "predictions")):
        if values.size and values.max() >= num_classes:
            raise InvalidArgumentError(None, None, f"`{what}` out of bound: every value must be < num_classes="
                                       f"{num_classes}. Received: {values.tolist()}")
    dtype = np.dtype(dtype)
    xp = array_module(lab)
    out = xp.zeros((num_classes, num_classes), dtype=dtype)
    w = xp.ones(lab.shape, dtype=dtype) if weights is None else xp.asarray(
        as_tensor(weights, "confusion_matrix", "weights").value).reshape(-1).astype(dtype)
    xp.add.at(out, (lab, pred), w)
    return Tensor(out)


UniqueOutput = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCountsOutput = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def _unique(x, out_idx, op):
    values = as_tensor(x, op, "x").value
    if values.ndim != 1:
        raise InvalidArgumentError(None, None, f"{op}: `x` must be a vector. Received: x.shape={values.shape}")
    xp = array_module(values)
    uniq, first, inverse, counts = np.unique(values, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first, kind="stable")  # TensorFlow keeps the order of first occurrence
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    idx_dtype = np.dtype(out_idx)
    return (Tensor(xp.asarray(uniq[order])), Tensor(xp.asarray(rank[inverse].astype(idx_dtype))),
            Tensor(xp.asarray(counts[order].astype(idx_dtype))))


def unique(x, out_idx="int32", name=None):
    """The distinct values of a 1-D tensor in order of first occurrence, and each element's index into them.

    Returns ``(y, idx)`` with ``x == gather(y, idx)``.

    >>> y, idx = unique([1, 1, 2, 4, 4, 4, 7, 8, 8])
    >>> y.numpy(), idx.numpy()
    (array([1, 2, 4, 7, 8], dtype=int32), array([0, 0, 1, 2, 2, 2, 3, 4, 4], dtype=int32))
    """
    y, idx, _ = _unique(x, out_idx, "unique")
    return UniqueOutput(y, idx)


def unique_with_counts(x, out_idx="int32", name=None):
    """``unique`` plus how often each distinct value occurs: ``(y, idx, count)``.

    >>> unique_with_counts([1, 1, 2]).count.numpy()
    array([2, 1], dtype=int32)
    """
    return UniqueWithCountsOutput(*_unique(x, out_idx, "unique_with_counts"))


def searchsorted(sorted_sequence, values, side="left", out_type="int32", name=None) -> Tensor:
    """Insertion points of ``values`` in the innermost rows of ``sorted_sequence`` (batched over leading axes).

    Args:
        sorted_sequence: ``(..., n)`` sorted along the last axis.
        values: ``(..., m)`` with the same leading axes.
        side: ``"left"`` (first suitable index) or ``"right"`` (last).

    >>> searchsorted([0, 3, 9, 10], [2, 9, 11]).numpy()
    array([1, 2, 4], dtype=int32)
    """
    seq = as_tensor(sorted_sequence, "searchsorted", "sorted_sequence").value
    vals = as_tensor(values, "searchsorted", "values").value
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right'. Received: side={side!r}")
    if seq.ndim < 1 or seq.shape[:-1] != vals.shape[:-1]:
        raise ValueError(f"searchsorted: the leading axes of sorted_sequence and values must match. Received: "
                         f"sorted_sequence.shape={seq.shape}, values.shape={vals.shape}")
    xp = array_module(seq)
    flat_seq = seq.reshape(-1, seq.shape[-1])
    flat_vals = vals.reshape(flat_seq.shape[0], -1)
    out = xp.stack([xp.searchsorted(flat_seq[i], flat_vals[i], side=side) for i in range(flat_seq.shape[0])]) \
        if flat_seq.shape[0] else xp.zeros(flat_vals.shape, dtype=np.int64)
    return Tensor(out.reshape(vals.shape).astype(np.dtype(out_type)))


def histogram_fixed_width_bins(values, value_range, nbins=100, dtype="int32", name=None) -> Tensor:
    """The bin index of each value among ``nbins`` equal bins over ``value_range``; values outside go to the
    first or last bin.

    >>> histogram_fixed_width_bins([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0], [0.0, 5.0], nbins=5).numpy()
    array([0, 0, 1, 2, 4, 4], dtype=int32)
    """
    v = as_tensor(values, "histogram_fixed_width_bins", "values").value
    lo, hi = (float(b) for b in np.asarray(as_tensor(value_range, "histogram_fixed_width_bins",
                                                       "value_range").value).reshape(-1)[:2])
    nbins = int(nbins.value if isinstance(nbins, Tensor) else nbins)
    if nbins <= 0:
        raise InvalidArgumentError(None, None, f"histogram: nbins must be positive. Received: nbins={nbins}")
    if not lo < hi:
        raise InvalidArgumentError(None, None, f"histogram: value_range must be increasing. Received: [{lo}, {hi}]")
    xp = array_module(v)
    scaled = (v.astype(np.float64) - lo) / (hi - lo)
    return Tensor(xp.clip(xp.floor(scaled * nbins), 0, nbins - 1).astype(np.dtype(dtype)))


def histogram_fixed_width(values, value_range, nbins=100, dtype="int32", name=None) -> Tensor:
    """Counts of ``values`` in ``nbins`` equal bins over ``value_range`` (outliers in the end bins).

    >>> histogram_fixed_width([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0], [0.0, 5.0], nbins=5).numpy()
    array([2, 1, 1, 0, 2], dtype=int32)
    """
    nbins = int(nbins.value if isinstance(nbins, Tensor) else nbins)
    bins = histogram_fixed_width_bins(values, value_range, nbins, "int64").value.reshape(-1)
    xp = array_module(bins)
    return Tensor(xp.bincount(bins, minlength=nbins).astype(np.dtype(dtype)))


def invert_permutation(x, name=None) -> Tensor:
    """The inverse of a permutation of ``0..n-1``: ``y[x[i]] = i``.

    >>> invert_permutation([3, 4, 0, 2, 1]).numpy()
    array([2, 4, 3, 0, 1], dtype=int32)
    """
    perm = _int_values(x, "invert_permutation", "x")
    if perm.ndim != 1:
        raise InvalidArgumentError(None, None, f"invert_permutation: expected a vector. Received: shape={perm.shape}")
    n = perm.shape[0]
    if perm.size and (perm.min() < 0 or perm.max() >= n):
        raise InvalidArgumentError(None, None, f"invert_permutation: every value must be in [0, {n}). "
                                   f"Received: {perm.tolist()}")
    xp = array_module(perm)
    out = xp.full(n, -1, dtype=perm.dtype)
    out[perm] = xp.arange(n, dtype=perm.dtype)
    if (out < 0).any():
        duplicate = int(np.bincount(perm, minlength=n).argmax())
        raise InvalidArgumentError(None, None, f"invert_permutation: {duplicate} is duplicated in the input.")
    return Tensor(out)


def zero_fraction(value, name=None) -> Tensor:
    """The fraction of zeros in ``value`` as a float32 scalar (NaN for an empty tensor).

    >>> float(zero_fraction([0, 1, 0, 3]))
    0.5
    """
    v = as_tensor(value, "zero_fraction", "value").value
    xp = array_module(v)
    with np.errstate(invalid="ignore"):
        return Tensor(xp.asarray((v == 0).sum() / v.size if v.size else np.nan, dtype=np.float32))


def is_non_decreasing(x, name=None) -> Tensor:
    """True when the flattened ``x`` never decreases (an empty or one-element tensor is).

    >>> bool(is_non_decreasing([1, 1, 2]))
    True
    """
    v = as_tensor(x, "is_non_decreasing", "x").value.reshape(-1)
    return Tensor(array_module(v).asarray(bool((v[1:] >= v[:-1]).all())))


def is_strictly_increasing(x, name=None) -> Tensor:
    """True when the flattened ``x`` strictly increases.

    >>> bool(is_strictly_increasing([[1, 2], [3, 3]]))
    False
    """
    v = as_tensor(x, "is_strictly_increasing", "x").value.reshape(-1)
    return Tensor(array_module(v).asarray(bool((v[1:] > v[:-1]).all())))
