"""Connectionist temporal classification (Graves et al., 2006): the CTC loss with its gradient, and the greedy
and prefix beam-search decoders.

The loss of one example is ``-log p(labels | logits)``, the sum over every alignment of the frames to the
labels (blanks between and repeats merged), computed with the forward (alpha) and backward (beta)
recursions over the extended label ``[blank, l1, blank, l2, ..., blank]`` in log space. Its gradient
with respect to the logits (softmax taken over the class axis) is ``softmax(logits) - occupancy``, the
posterior probability of each class at each frame.

>>> import numpy as np
>>> logits = np.log(np.array([[[0.6, 0.4], [0.6, 0.4]]], "float32"))  # class 1 is the blank
>>> round(float(ctc_loss_dense([[0]], logits, [1], [2], blank_index=1)[0]), 4)  # -log(.6*.6 + .6*.4 + .4*.6)
0.1744
"""

from __future__ import annotations

import numpy as np

from featherflow.core.tape import record
from featherflow.ops._convert import as_float_tensor

_NEG = -np.inf


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _logaddexp(*terms):
    out = terms[0]
    for term in terms[1:]:
        out = np.logaddexp(out, term)
    return out


def _extended(labels, label_length, blank):
    """``[blank, l1, blank, l2, ..., blank]`` per example, padded with blanks; and where skips are allowed."""
    batch, width = labels.shape[0], 2 * labels.shape[1] + 1
    ext = np.full((batch, width), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    allowed = np.zeros((batch, width), dtype=bool)  # alpha_t(s) may come from s - 2: a label unlike the one before
    allowed[:, 3::2] = labels[:, 1:] != labels[:, :-1]
    valid = np.arange(width)[None, :] < (2 * label_length[:, None] + 1)
    return ext, allowed & valid, valid


def _forward_backward(log_probs, ext, skip, valid, label_length, logit_length):
    batch, steps, _ = log_probs.shape
    width = ext.shape[1]
    rows = np.arange(batch)[:, None]
    emit = log_probs[rows[:, :, None], np.arange(steps)[None, :, None], ext[:, None, :]]  # (B, T, S)
    emit = np.where(valid[:, None, :], emit, _NEG)
    alpha = np.full((batch, steps, width), _NEG)
    alpha[:, 0, 0] = emit[:, 0, 0]
    alpha[:, 0, 1] = np.where(label_length > 0, emit[:, 0, 1], _NEG)
    for t in range(1, steps):
        prev = alpha[:, t - 1]
        one = np.concatenate([np.full((batch, 1), _NEG), prev[:, :-1]], axis=1)
        two = np.concatenate([np.full((batch, 2), _NEG), prev[:, :-2]], axis=1)
        alpha[:, t] = _logaddexp(prev, one, np.where(skip, two, _NEG)) + emit[:, t]
    last = logit_length - 1
    end = 2 * label_length
    final = alpha[np.arange(batch), last]
    log_p = np.logaddexp(final[np.arange(batch), end],
                         np.where(label_length > 0, final[np.arange(batch), np.maximum(end - 1, 0)], _NEG))
    beta = np.full((batch, steps, width), _NEG)
    beta[np.arange(batch), last, end] = emit[np.arange(batch), last, end]
    has_label = label_length > 0
    beta[np.arange(batch)[has_label], last[has_label], end[has_label] - 1] = \
        emit[np.arange(batch)[has_label], last[has_label], end[has_label] - 1]
    skip_next = np.concatenate([skip[:, 2:], np.zeros((batch, 2), bool)], axis=1)
    for t in range(steps - 2, -1, -1):
        nxt = beta[:, t + 1]
        one = np.concatenate([nxt[:, 1:], np.full((batch, 1), _NEG)], axis=1)
        two = np.concatenate([nxt[:, 2:], np.full((batch, 2), _NEG)], axis=1)
        value = _logaddexp(nxt, one, np.where(skip_next, two, _NEG)) + emit[:, t]
        beta[:, t] = np.where((t < last)[:, None], value, beta[:, t])
    return alpha, beta, emit, log_p


def ctc_loss_dense(labels, logits, label_length, logit_length, blank_index=0):
    """Per-example CTC loss ``-log p(labels | logits)`` (batch-major), differentiable in ``logits``.

    Args:
        labels: ``(batch, max_label_length)`` integer classes (entries past ``label_length`` ignored).
        logits: ``(batch, frames, classes)`` unnormalised scores (a softmax over classes is taken).
        label_length, logit_length: ``(batch,)`` lengths.
        blank_index: the blank class.

    Returns:
        ``(batch,)`` losses; ``inf`` where no alignment fits (more labels than frames allow).
    """
    logits = as_float_tensor(logits, "ctc_loss", "logits")
    z = np.asarray(logits.value, dtype=np.float64)
    batch, steps, classes = z.shape
    labels = np.asarray(labels, dtype=np.int64).reshape(batch, -1)
    label_length = np.asarray(label_length, dtype=np.int64).reshape(batch)
    logit_length = np.asarray(logit_length, dtype=np.int64).reshape(batch)
    if blank_index < 0:
        blank_index += classes
    if (logit_length < 1).any() or (logit_length > steps).any():
        raise ValueError(f"ctc_loss: every logit_length must be in [1, {steps}]. Received: {logit_length.tolist()}")
    used = np.arange(labels.shape[1])[None, :] < label_length[:, None]
    if ((labels < 0) | (labels >= classes) | (labels == blank_index))[used].any():
        raise ValueError(f"ctc_loss: labels must be classes in [0, {classes}) other than the blank ({blank_index}). "
                         f"Received: labels={labels.tolist()}")
    log_probs = _log_softmax(z)
    ext, skip, valid = _extended(np.where(used, labels, blank_index), label_length, blank_index)
    alpha, beta, emit, log_p = _forward_backward(log_probs, ext, skip, valid, label_length, logit_length)
    loss = (-log_p).astype(logits.value.dtype)

    def backward(g, needs):
        with np.errstate(invalid="ignore"):
            occupancy_log = alpha + beta - emit - log_p[:, None, None]  # (B, T, S)
        occupancy = np.where(np.isfinite(occupancy_log), np.exp(occupancy_log), 0.0)
        posterior = np.zeros((batch, steps, classes))
        rows = np.repeat(np.arange(batch), ext.shape[1])
        for t in range(steps):
            np.add.at(posterior[:, t], (rows, ext.ravel()), occupancy[:, t].ravel())
        grad = np.exp(log_probs) - posterior
        grad[np.arange(steps)[None, :] >= logit_length[:, None]] = 0.0
        grad[~np.isfinite(log_p)] = 0.0
        return ((grad * np.asarray(g, dtype=np.float64)[:, None, None]).astype(logits.value.dtype),)

    return record("ctc_loss", (logits,), loss, backward)


def ctc_greedy_decode(log_probs, logit_length, blank_index, merge_repeated=True):
    """Best class per frame, repeats merged and blanks removed: ``([sequences], neg_sum_logits)``."""
    log_probs = np.asarray(log_probs, dtype=np.float64)
    best = log_probs.argmax(axis=-1)
    sequences, scores = [], []
    for i, length in enumerate(np.asarray(logit_length).reshape(-1)):
        path = best[i, :length]
        out = [int(c) for j, c in enumerate(path) if c != blank_index and not (merge_repeated and j and c == path[j - 1])]
        sequences.append(out)
        scores.append(-log_probs[i, np.arange(length), path].sum())
    return sequences, np.array(scores)[:, None]


def _add(beams: dict, prefix, blank, label) -> None:
    old_blank, old_label = beams.get(prefix, (_NEG, _NEG))
    beams[prefix] = (np.logaddexp(old_blank, blank), np.logaddexp(old_label, label))


def ctc_beam_search_decode(log_probs, logit_length, blank_index, beam_width=100, top_paths=1, merge_repeated=True):
    """Prefix beam search: the ``top_paths`` most probable label sequences (all alignments summed) per example.

    With ``merge_repeated`` (TensorFlow 1's default, which ``keras.backend.ctc_decode`` uses) repeated labels of
    a returned sequence are merged, as TensorFlow does. Returns ``([sequences of path 0, ...], log_probabilities)``
    with ``log_probabilities`` of shape ``(batch, top_paths)``.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    batch = log_probs.shape[0]
    results = [[] for _ in range(top_paths)]
    scores = np.full((batch, top_paths), _NEG)
    for i, length in enumerate(np.asarray(logit_length).reshape(-1)):
        beams = {(): (0.0, _NEG)}  # prefix -> (log p ending in blank, log p ending in its last label)
        for t in range(int(length)):
            frame = log_probs[i, t]
            grown: dict = {}
            for prefix, (p_blank, p_label) in beams.items():
                total = np.logaddexp(p_blank, p_label)
                _add(grown, prefix, total + frame[blank_index], _NEG)
                for c in np.argsort(frame)[::-1][:beam_width]:
                    c = int(c)
                    if c == blank_index:
                        continue
                    if prefix and prefix[-1] == c:
                        _add(grown, prefix + (c,), _NEG, p_blank + frame[c])
                        _add(grown, prefix, _NEG, p_label + frame[c])
                    else:
                        _add(grown, prefix + (c,), _NEG, total + frame[c])
            ranked = sorted(grown.items(), key=lambda item: -np.logaddexp(*item[1]))
            beams = dict(ranked[:beam_width])
        ranked = sorted(beams.items(), key=lambda item: -np.logaddexp(*item[1]))
        for k in range(top_paths):
            prefix, (p_blank, p_label) = ranked[k] if k < len(ranked) else ((), (_NEG, _NEG))
            labels = [c for j, c in enumerate(prefix) if not (merge_repeated and j and c == prefix[j - 1])]
            results[k].append(labels)
            scores[i, k] = np.logaddexp(p_blank, p_label)
    return results, scores
