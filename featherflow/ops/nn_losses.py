"""More ``tf.nn`` losses and statistics: weighted and Poisson cross-entropies, moments from sufficient
statistics, sparse embedding lookups, sampled losses (``nce_loss``, ``sampled_softmax_loss``), the CTC
wrappers, ``isotonic_regression`` and the distribution helpers.

>>> import featherflow as ff
>>> ff.nn.log_poisson_loss([1.0], [0.0]).numpy()
array([1.], dtype=float32)
"""

from __future__ import annotations

import collections
import math

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_float_tensor, as_tensor


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None) -> Tensor:
    """Sigmoid cross-entropy with the positive term weighted by ``pos_weight``:
    ``(1 - z) x + (1 + (q - 1) z) * (log1p(exp(-|x|)) + max(-x, 0))``.

    >>> weighted_cross_entropy_with_logits([1.0], [0.0], 2.0).numpy()
    array([1.3862944], dtype=float32)
    """
    from featherflow.ops.math import abs as abs_
    from featherflow.ops.math import exp, log1p, maximum

    x = as_float_tensor(logits, "weighted_cross_entropy_with_logits", "logits")
    z = as_tensor(labels, "weighted_cross_entropy_with_logits", "labels", dtype=x.value.dtype) \
        if not isinstance(labels, Tensor) else labels
    log_weight = 1 + (pos_weight - 1) * z
    return (1 - z) * x + log_weight * (log1p(exp(-abs_(x))) + maximum(-x, 0.0))


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None) -> Tensor:
    """Poisson negative log-likelihood from log-rates: ``exp(c) - z c`` (plus Stirling's ``z log z - z +
    0.5 log(2 pi z)`` for ``z > 1`` with ``compute_full_loss``).

    >>> log_poisson_loss([2.0], [0.0], compute_full_loss=True).numpy()
    array([1.6518065], dtype=float32)
    """
    from featherflow.ops.compare import where
    from featherflow.ops.math import exp, log

    c = as_float_tensor(log_input, "log_poisson_loss", "log_input")
    z = as_tensor(targets, "log_poisson_loss", "targets", dtype=c.value.dtype) if not isinstance(targets, Tensor) \
        else targets
    loss = exp(c) - z * c
    if compute_full_loss:
        safe = where(z > 1, z, z * 0 + 1)
        stirling = safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe)
        loss = loss + where(z > 1, stirling, z * 0)
    return loss


def sufficient_statistics(x, axes, shift=None, keepdims=False, name=None) -> tuple:
    """``(count, mean_ss, variance_ss, shift)``: the element count over ``axes`` and the sums of ``x - shift``
    and of its squares.

    >>> [float(t) if t is not None else None for t in sufficient_statistics([1.0, 3.0], [0])]
    [2.0, 4.0, 10.0, None]
    """
    from featherflow.ops.reduce import reduce_sum

    t = as_float_tensor(x, "sufficient_statistics", "x")
    axes = [int(a) for a in np.asarray(axes).reshape(-1)]
    count = Tensor(np.asarray(np.prod([t.value.shape[a] for a in axes]), dtype=t.value.dtype))
    centered = t if shift is None else t - shift
    return (count, reduce_sum(centered, axis=axes, keepdims=keepdims),
            reduce_sum(centered * centered, axis=axes, keepdims=keepdims), shift)


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None) -> tuple:
    """``(mean, variance)`` from sufficient statistics.

    >>> [float(t) for t in normalize_moments(2.0, 4.0, 10.0, None)]
    [2.0, 1.0]
    """
    from featherflow.ops.math import square

    divisor = 1.0 / as_float_tensor(counts, "normalize_moments", "counts")
    shifted_mean = as_float_tensor(mean_ss, "normalize_moments", "mean_ss") * divisor
    mean = shifted_mean if shift is None else shifted_mean + shift
    variance = as_float_tensor(variance_ss, "normalize_moments", "variance_ss") * divisor - square(shifted_mean)
    return mean, variance


def weighted_moments(x, axes, frequency_weights, keepdims=False, name=None) -> tuple:
    """Frequency-weighted mean and variance of ``x`` over ``axes``.

    >>> [float(t) for t in weighted_moments([1.0, 3.0], [0], [3.0, 1.0])]
    [1.5, 0.75]
    """
    from featherflow.ops.math import divide_no_nan, square
    from featherflow.ops.reduce import reduce_sum
    from featherflow.ops.shape import broadcast_to, squeeze

    t = as_float_tensor(x, "weighted_moments", "x")
    axes = [int(a) % max(t.value.ndim, 1) for a in np.asarray(axes).reshape(-1)]
    w = broadcast_to(as_tensor(frequency_weights, "weighted_moments", "frequency_weights", dtype=t.value.dtype)
                     if not isinstance(frequency_weights, Tensor) else frequency_weights, t.value.shape)
    total = reduce_sum(w, axis=axes, keepdims=True)
    mean = divide_no_nan(reduce_sum(w * t, axis=axes, keepdims=True), total)
    variance = divide_no_nan(reduce_sum(w * square(t - mean), axis=axes, keepdims=True), total)
    if not keepdims:
        mean, variance = squeeze(mean, axis=axes), squeeze(variance, axis=axes)
    return mean, variance


def batch_norm_with_global_normalization(input, mean, variance, beta, gamma, variance_epsilon,  # noqa: A002
                                         scale_after_normalization, name=None) -> Tensor:
    """``batch_normalization`` with TensorFlow 1's argument order (``gamma`` used only with
    ``scale_after_normalization``).

    >>> batch_norm_with_global_normalization([[1.0], [3.0]], 2.0, 1.0, 0.0, 2.0, 0.0, True).numpy()[:, 0]
    array([-2.,  2.], dtype=float32)
    """
    from featherflow.ops.nn import batch_normalization

    return batch_normalization(input, mean, variance, beta, gamma if scale_after_normalization else None,
                               variance_epsilon)


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None) -> Tensor:
    """``sum(per_example_loss * sample_weight) / global_batch_size`` (default: the number of examples).

    >>> float(compute_average_loss([1.0, 3.0]))
    2.0
    """
    from featherflow.ops.reduce import reduce_sum

    loss = as_float_tensor(per_example_loss, "compute_average_loss", "per_example_loss")
    if sample_weight is not None:
        loss = loss * sample_weight
    count = loss.value.shape[0] if loss.value.ndim else 1
    size = count if global_batch_size is None else int(global_batch_size)
    if size <= 0 and count:
        raise ValueError(f"compute_average_loss: global_batch_size must be positive. Received: {global_batch_size}")
    return reduce_sum(loss) / float(max(size, 1))


def scale_regularization_loss(regularization_loss) -> Tensor:
    """The sum of the regularization losses divided by the number of replicas (one: featherflow trains in one
    process per model).

    >>> float(scale_regularization_loss([1.0, 2.0]))
    3.0
    """
    from featherflow.ops.math import add_n

    if isinstance(regularization_loss, (list, tuple)):
        return add_n([as_float_tensor(r, "scale_regularization_loss", "regularization_loss")
                      for r in regularization_loss])
    return as_float_tensor(regularization_loss, "scale_regularization_loss", "regularization_loss")


def _combine(rows, weights, segment, count, combiner, op):
    from featherflow.ops.segment import unsorted_segment_sum

    if combiner not in ("sum", "mean", "sqrtn"):
        raise ValueError(f'{op}: combiner must be "sum", "mean" or "sqrtn". Received: {combiner!r}')
    if weights is not None:
        rows = rows * _column(weights, rows.value.ndim)
    total = unsorted_segment_sum(rows, segment, count)
    if combiner == "sum":
        return total
    w = np.ones(len(segment)) if weights is None else np.asarray(weights.value if isinstance(weights, Tensor)
                                                                 else weights, dtype=np.float64)
    scale = np.zeros(count)
    np.add.at(scale, segment, w if combiner == "mean" else w * w)
    scale = scale if combiner == "mean" else np.sqrt(scale)
    factor = np.where(scale > 0, 1.0 / np.where(scale > 0, scale, 1), 0.0).astype(total.value.dtype)
    return total * Tensor(factor.reshape((-1,) + (1,) * (total.value.ndim - 1)))


def _column(t, ndim):
    from featherflow.ops.shape import reshape

    return reshape(t, (-1,) + (1,) * (ndim - 1))


def embedding_lookup_sparse(params, sp_ids, sp_weights, combiner=None, max_norm=None, name=None,
                            allow_fast_lookup=False) -> Tensor:
    """Combine the embedding rows of the ids in each row of the SparseTensor ``sp_ids`` (weighted by
    ``sp_weights``): ``"mean"`` (default), ``"sum"`` or ``"sqrtn"``. Rows without ids are dropped from the
    front of the result's batch only up to the last non-empty row (TensorFlow's shape rule).

    >>> import featherflow as ff
    >>> ids = ff.sparse.SparseTensor([[0, 0], [0, 1], [1, 0]], ff.constant([0, 1, 1], "int64"), [2, 2])
    >>> embedding_lookup_sparse(ff.constant([[1.0], [3.0]]), ids, None).numpy()
    array([[2.],
           [3.]], dtype=float32)
    """
    from featherflow.ops.indexing import gather

    if max_norm is not None:
        raise ValueError(f"embedding_lookup_sparse: max_norm is not supported. Received: max_norm={max_norm}")
    table = params[0] if isinstance(params, (list, tuple)) and len(params) == 1 else params
    table = as_tensor(table, "embedding_lookup_sparse", "params")
    ids = np.asarray(sp_ids.values.value, dtype=np.int64)
    segment = sp_ids.indices.value[:, 0]
    count = int(segment.max()) + 1 if segment.size else 0
    weights = None if sp_weights is None else sp_weights.values
    return _combine(gather(table, ids), weights, segment, count, combiner or "mean", "embedding_lookup_sparse")


def safe_embedding_lookup_sparse(embedding_weights, sparse_ids, sparse_weights=None, combiner="mean",
                                 default_id=None, max_norm=None, name=None, allow_fast_lookup=False) -> Tensor:
    """``embedding_lookup_sparse`` that ignores negative ids (and non-positive weights) and gives every row of
    ``sparse_ids``' dense shape a result: the ``default_id`` row, or zeros, for rows without valid ids.

    >>> import featherflow as ff
    >>> ids = ff.sparse.SparseTensor([[0, 0], [2, 0]], ff.constant([1, -1], "int64"), [3, 1])
    >>> safe_embedding_lookup_sparse(ff.constant([[1.0], [3.0]]), ids).numpy()[:, 0]
    array([3., 0., 0.], dtype=float32)
    """
    from featherflow.ops.indexing import gather

    table = embedding_weights[0] if isinstance(embedding_weights, (list, tuple)) and len(embedding_weights) == 1 \
        else embedding_weights
    table = as_tensor(table, "safe_embedding_lookup_sparse", "embedding_weights")
    ids = np.asarray(sparse_ids.values.value, dtype=np.int64)
    keep = ids >= 0
    weights = None
    if sparse_weights is not None:
        w = np.asarray(sparse_weights.values.value)
        keep &= w > 0
        weights = gather(sparse_weights.values, np.nonzero(keep)[0])
    rows = int(np.prod(sparse_ids.dense_shape.value[:-1]))
    segment = np.ravel_multi_index(tuple(sparse_ids.indices.value[keep, :-1].T),
                                   tuple(sparse_ids.dense_shape.value[:-1])) if keep.any() else np.zeros(0, np.int64)
    result = _combine(gather(table, ids[keep]), weights, segment, rows, combiner, "safe_embedding_lookup_sparse")
    empty = np.ones(rows, bool)
    empty[segment] = False
    if default_id is not None and empty.any():
        from featherflow.ops.compare import where

        fallback = gather(table, np.full(rows, int(default_id)))
        result = where(Tensor(empty.reshape((-1,) + (1,) * (result.value.ndim - 1))), fallback, result)
    from featherflow.ops.shape import reshape

    return reshape(result, tuple(sparse_ids.dense_shape.value[:-1]) + tuple(table.value.shape[1:]))


def isotonic_regression(inputs, decreasing=True, axis=-1) -> tuple:
    """The closest (least-squares) non-increasing sequence along ``axis`` (non-decreasing with
    ``decreasing=False``), by pool-adjacent-violators; returns ``(output, segments)``. Differentiable: each
    output is the mean of its segment.

    >>> out, segments = isotonic_regression([[1.0, 3.0, 2.0]], decreasing=False)
    >>> out.numpy(), segments.numpy()
    (array([[1. , 2.5, 2.5]], dtype=float32), array([[0, 1, 1]], dtype=int32))
    """
    from featherflow.ops.segment import unsorted_segment_mean
    from featherflow.ops.shape import reshape, transpose

    x = as_float_tensor(inputs, "isotonic_regression", "inputs")
    ndim = x.value.ndim
    axis = int(axis) % ndim
    perm = [a for a in range(ndim) if a != axis] + [axis]
    moved = transpose(x, perm) if axis != ndim - 1 else x
    rows = np.asarray(moved.value, dtype=np.float64).reshape(-1, moved.value.shape[-1])
    n = rows.shape[1]
    segments = np.zeros(rows.shape, np.int32)
    for r, row in enumerate(rows):
        values = -row if decreasing else row
        blocks = []  # [sum, count, start]
        for i, v in enumerate(values):
            blocks.append([v, 1, i])
            while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
                s, c, _ = blocks.pop()
                blocks[-1][0] += s
                blocks[-1][1] += c
        for k, (_, c, start) in enumerate(blocks):
            segments[r, start:start + c] = k
    ids = (segments + np.arange(rows.shape[0])[:, None] * n).reshape(-1)
    flat = reshape(moved, [-1])
    means = unsorted_segment_mean(flat, ids, rows.shape[0] * n)
    from featherflow.ops.indexing import gather

    out = reshape(gather(means, ids), moved.value.shape)
    seg = segments.reshape(moved.value.shape)
    if axis != ndim - 1:
        inverse = list(np.argsort(perm))
        out, seg = transpose(out, inverse), np.transpose(seg, inverse)
    return out, Tensor(seg)


def compute_accidental_hits(true_classes, sampled_candidates, num_true, seed=None, name=None) -> tuple:
    """Where a sampled candidate equals one of a row's true classes: ``(indices, ids, weights)`` with weights
    ``-FLT_MAX`` (add them to the sampled logits to remove those hits).

    >>> idx, ids, w = compute_accidental_hits([[1], [2]], [2, 5], 1)
    >>> idx.numpy(), ids.numpy()
    (array([1], dtype=int32), array([0]))
    """
    classes = np.asarray(as_tensor(true_classes, "compute_accidental_hits", "true_classes").value, dtype=np.int64)
    sampled = np.asarray(as_tensor(sampled_candidates, "compute_accidental_hits", "sampled_candidates").value,
                         dtype=np.int64)
    hits = [(r, s) for r in range(classes.shape[0]) for s, c in enumerate(sampled) if c in classes[r]]
    rows = np.asarray([h[0] for h in hits], dtype=np.int32)
    ids = np.asarray([h[1] for h in hits], dtype=np.int64)
    return Tensor(rows), Tensor(ids), Tensor(np.full(len(hits), -np.finfo(np.float32).max, np.float32))


def _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled_values,
                    remove_accidental_hits, seed, subtract_log_q, op):
    from featherflow.ops.indexing import gather
    from featherflow.ops.linalg import matmul
    from featherflow.ops.math import log
    from featherflow.ops.random_generator import log_uniform_candidate_sampler
    from featherflow.ops.reduce import reduce_sum
    from featherflow.ops.scatter import tensor_scatter_nd_add
    from featherflow.ops.shape import concat, expand_dims, reshape

    w = as_float_tensor(weights[0] if isinstance(weights, (list, tuple)) else weights, op, "weights")
    b = as_float_tensor(biases, op, "biases")
    x = as_float_tensor(inputs, op, "inputs")
    labels = np.asarray(as_tensor(labels, op, "labels").value, dtype=np.int64).reshape(-1, int(num_true))
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(labels, num_true, num_sampled, True, num_classes, seed=seed)
    sampled, true_expected, sampled_expected = sampled_values
    sampled = np.asarray(sampled.value if isinstance(sampled, Tensor) else sampled, dtype=np.int64)
    true_w = gather(w, labels.reshape(-1))  # (batch * num_true, dim)
    true_logits = reduce_sum(reshape(true_w, (labels.shape[0], int(num_true), -1)) * expand_dims(x, 1), axis=-1) \
        + reshape(gather(b, labels.reshape(-1)), labels.shape)
    sampled_logits = matmul(x, gather(w, sampled), transpose_b=True) + gather(b, sampled)
    if subtract_log_q:
        true_logits = true_logits - log(as_float_tensor(true_expected, op, "true_expected_count"))
        sampled_logits = sampled_logits - log(as_float_tensor(sampled_expected, op, "sampled_expected_count"))
    if remove_accidental_hits:
        rows, ids, hit_weights = compute_accidental_hits(labels, sampled, num_true)
        if rows.value.size:
            index = np.stack([rows.value, ids.value], axis=1)
            sampled_logits = tensor_scatter_nd_add(sampled_logits, index, hit_weights.value.astype(
                sampled_logits.value.dtype))
    return concat([true_logits, sampled_logits], axis=1), labels.shape[0]


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1, sampled_values=None,
             remove_accidental_hits=False, name="nce_loss") -> Tensor:
    """Noise-contrastive estimation loss (Gutmann & Hyvarinen, 2010): sigmoid cross-entropy of the true classes
    against ``num_sampled`` log-uniform negative samples, one value per example.

    >>> import featherflow as ff
    >>> loss = ff.nn.nce_loss(ff.ones((10, 4)), ff.zeros(10), [[1], [2]], ff.ones((2, 4)), 3, 10)
    >>> loss.shape
    (2,)
    """
    from featherflow.ops.nn import sigmoid_cross_entropy_with_logits
    from featherflow.ops.reduce import reduce_sum

    logits, batch = _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                                    sampled_values, remove_accidental_hits, None, True, "nce_loss")
    targets = np.concatenate([np.full((batch, int(num_true)), 1.0 / int(num_true)),
                              np.zeros((batch, int(num_sampled)))], axis=1).astype(logits.value.dtype)
    return reduce_sum(sigmoid_cross_entropy_with_logits(Tensor(targets), logits), axis=1)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1, sampled_values=None,
                         remove_accidental_hits=True, seed=None, name="sampled_softmax_loss") -> Tensor:
    """Softmax cross-entropy over the true class and ``num_sampled`` log-uniform samples (Jean et al., 2014),
    with the sampling correction ``- log Q``; one value per example.

    >>> import featherflow as ff
    >>> ff.nn.sampled_softmax_loss(ff.ones((10, 4)), ff.zeros(10), [[1], [2]], ff.ones((2, 4)), 3, 10).shape
    (2,)
    """
    from featherflow.ops.nn import softmax_cross_entropy_with_logits

    logits, batch = _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                                    sampled_values, remove_accidental_hits, seed, True, "sampled_softmax_loss")
    targets = np.concatenate([np.full((batch, int(num_true)), 1.0 / int(num_true)),
                              np.zeros((batch, int(num_sampled)))], axis=1).astype(logits.value.dtype)
    return softmax_cross_entropy_with_logits(Tensor(targets), logits)


def _dense_labels(labels, batch):
    from featherflow.ops.sparse import SparseTensor, to_dense

    if isinstance(labels, SparseTensor):
        dense = np.asarray(to_dense(labels).value, dtype=np.int64)
        lengths = np.zeros(batch, np.int64)
        idx = labels.indices.value
        np.maximum.at(lengths, idx[:, 0], idx[:, 1] + 1)
        return dense, lengths
    return np.asarray(as_tensor(labels, "ctc_loss", "labels").value, dtype=np.int64), None


def ctc_loss(labels, logits, label_length, logit_length, logits_time_major=True, unique=None, blank_index=None,
             name=None) -> Tensor:
    """Connectionist temporal classification loss per example (``-log p(labels | logits)``), differentiable in
    the logits (``ops/ctc.py``'s forward-backward). ``labels`` is a dense ``(batch, max_len)`` tensor with
    ``label_length``, or a SparseTensor; ``logits`` are ``(frames, batch, classes)`` unless
    ``logits_time_major=False``; the blank is class 0 by default.

    >>> import featherflow as ff
    >>> loss = ff.nn.ctc_loss([[1]], ff.zeros((2, 1, 3)), [1], [2])
    >>> round(float(loss[0]), 5)  # -log(3 / 9): the alignments (1, 1), (0, 1), (1, 0) of 3^2
    1.09861
    """
    from featherflow.ops.ctc import ctc_loss_dense
    from featherflow.ops.shape import transpose

    z = as_float_tensor(logits, "ctc_loss", "logits")
    if logits_time_major:
        z = transpose(z, [1, 0, 2])
    batch = z.value.shape[0]
    dense, sparse_lengths = _dense_labels(labels, batch)
    lengths = sparse_lengths if label_length is None else np.asarray(
        label_length.value if isinstance(label_length, Tensor) else label_length, dtype=np.int64)
    blank = 0 if blank_index is None else int(blank_index)
    frames = np.asarray(logit_length.value if isinstance(logit_length, Tensor) else logit_length, dtype=np.int64)
    return ctc_loss_dense(dense, z, lengths, frames, blank_index=blank)


def _decoded_sparse(sequences):
    from featherflow.ops.sparse import SparseTensor

    indices = [[b, t] for b, seq in enumerate(sequences) for t in range(len(seq))]
    values = [c for seq in sequences for c in seq]
    width = max((len(s) for s in sequences), default=0)
    return SparseTensor(np.asarray(indices, np.int64).reshape(-1, 2), Tensor(np.asarray(values, np.int64)),
                        [len(sequences), width])


def ctc_greedy_decoder(inputs, sequence_length, merge_repeated=True, blank_index=None) -> tuple:
    """The best class per frame, repeats merged and blanks (default: the last class) removed. ``inputs`` are
    time-major logits; returns ``([decoded SparseTensor], neg_sum_logits)``.

    >>> import numpy as np, featherflow as ff
    >>> logits = np.log(np.array([[[0.1, 0.8, 0.1]], [[0.1, 0.8, 0.1]], [[0.1, 0.1, 0.8]]], "float32"))
    >>> decoded, _ = ff.nn.ctc_greedy_decoder(logits, [3])
    >>> decoded[0].values.numpy()
    array([1])
    """
    from featherflow.ops.ctc import ctc_greedy_decode

    z = np.asarray(as_float_tensor(inputs, "ctc_greedy_decoder", "inputs").value, dtype=np.float64)
    classes = z.shape[-1]
    blank = classes - 1 if blank_index is None else int(blank_index) % classes
    sequences, scores = ctc_greedy_decode(np.transpose(z, (1, 0, 2)), sequence_length, blank, merge_repeated)
    return [_decoded_sparse(sequences)], Tensor(scores.astype(np.float32))


def ctc_beam_search_decoder(inputs, sequence_length, beam_width=100, top_paths=1) -> tuple:
    """Prefix beam search over time-major log-probabilities (blank: the last class): returns
    ``([SparseTensor per path], log_probabilities of shape (batch, top_paths))``.

    >>> import numpy as np, featherflow as ff
    >>> logits = np.log(np.array([[[0.2, 0.7, 0.1]], [[0.2, 0.7, 0.1]]], "float32"))
    >>> decoded, log_p = ff.nn.ctc_beam_search_decoder(logits, [2], beam_width=5)
    >>> decoded[0].values.numpy()
    array([1])
    """
    from featherflow.ops.ctc import ctc_beam_search_decode

    z = np.asarray(as_float_tensor(inputs, "ctc_beam_search_decoder", "inputs").value, dtype=np.float64)
    classes = z.shape[-1]
    shifted = z - np.logaddexp.reduce(z, axis=-1, keepdims=True)
    paths, scores = ctc_beam_search_decode(np.transpose(shifted, (1, 0, 2)), sequence_length, classes - 1,
                                           int(beam_width), int(top_paths), merge_repeated=False)
    return [_decoded_sparse(p) for p in paths], Tensor(scores.astype(np.float32))


UniqueLabels = collections.namedtuple("UniqueLabels", ["unique_labels", "indices"])


def ctc_unique_labels(labels, name=None) -> tuple:
    """Per row of a dense ``(batch, max_len)`` label tensor, its distinct labels (in order of first occurrence,
    zero-padded) and each position's index into them.

    >>> u, idx = ctc_unique_labels([[3, 4, 3]])
    >>> u.numpy(), idx.numpy()
    (array([[3, 4, 0]]), array([[0, 1, 0]], dtype=int32))
    """
    values = np.asarray(as_tensor(labels, "ctc_unique_labels", "labels").value)
    if values.ndim != 2:
        raise InvalidArgumentError(None, None, f"ctc_unique_labels: labels must be 2-D. Received: {values.shape}")
    unique = np.zeros(values.shape, np.int64)
    indices = np.zeros(values.shape, np.int32)
    for r, row in enumerate(values):
        seen: dict = {}
        for c, v in enumerate(row):
            indices[r, c] = seen.setdefault(v, len(seen))
        for v, k in seen.items():
            unique[r, k] = v
    return UniqueLabels(Tensor(unique), Tensor(indices))


def collapse_repeated(labels, seq_length, name=None) -> tuple:
    """Merge runs of repeated labels in each row: ``(collapsed labels zero-padded, new lengths)``.

    >>> out, lengths = collapse_repeated([[1, 1, 2, 2, 1]], [5])
    >>> out.numpy(), lengths.numpy()
    (array([[1, 2, 1]], dtype=int32), array([3], dtype=int32))
    """
    values = np.asarray(as_tensor(labels, "collapse_repeated", "labels").value)
    lengths = np.asarray(seq_length.value if isinstance(seq_length, Tensor) else seq_length).reshape(-1)
    rows = []
    for row, n in zip(values, lengths):
        row = row[:int(n)]
        rows.append([int(v) for i, v in enumerate(row) if i == 0 or v != row[i - 1]])
    width = max((len(r) for r in rows), default=0)
    out = np.zeros((len(rows), width), dtype=values.dtype)
    for r, row in enumerate(rows):
        out[r, :len(row)] = row
    return Tensor(out), Tensor(np.asarray([len(r) for r in rows], dtype=np.int32))
