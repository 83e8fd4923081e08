"""Splitting strings into tokens and joining tokens into n-grams: split, bytes_split, ngrams.

A scalar string splits into a 1-D tensor; a tensor of rank ``N`` into a ``RaggedTensor`` of rank ``N + 1``.

>>> import featherflow as tf
>>> tf.strings.split(["a b", "c"]).to_list()
[[b'a', b'b'], [b'c']]
>>> tf.strings.ngrams(tf.strings.split(["a b c"]), 2).to_list()
[[b'a b', b'b c']]
"""

from __future__ import annotations

import numpy as np

from featherflow.core.ragged import RaggedTensor
from featherflow.core.tensor import Tensor
from featherflow.strings._common import as_bytes, ragged_from_lists, string_array


def split(input, sep=None, maxsplit=-1, name=None):  # noqa: A002 - TensorFlow's name
    """Split each string at ``sep``; with ``sep`` None or ``""``, at runs of ASCII whitespace (no empty tokens).

    Args:
        input: string tensor.
        sep: the separator (a string of one or more characters).
        maxsplit: at most this many splits per string (-1: no limit).
    """
    data = string_array(input, "split")
    separator = None if sep is None or as_bytes(sep) == b"" else as_bytes(sep)
    limit = int(maxsplit)
    rows = (s.split(separator, limit) for s in data.reshape(-1))
    return ragged_from_lists(rows, data.shape)


def bytes_split(input, name=None):  # noqa: A002
    """Split each string into single bytes.

    >>> bytes_split("ab").numpy()
    array([b'a', b'b'], dtype=object)
    """
    data = string_array(input, "bytes_split")
    rows = ([s[i:i + 1] for i in range(len(s))] for s in data.reshape(-1))
    return ragged_from_lists(rows, data.shape)


def _pad_pair(pad_values, op="ngrams"):
    if pad_values is None:
        return None
    if isinstance(pad_values, (list, tuple)):
        if len(pad_values) != 2:
            raise ValueError(f"tf.strings.{op}: pad_values must be a string or a pair of strings. Received: "
                             f"{pad_values!r}")
        return as_bytes(pad_values[0]), as_bytes(pad_values[1])
    value = as_bytes(pad_values)
    return value, value


def _ngrams_of(tokens: list, widths, sep: bytes, pads, padding_width, preserve_short) -> list:
    out = []
    for width in widths:
        pad = 0 if pads is None else (width - 1 if padding_width is None else min(int(padding_width), width - 1))
        seq = [pads[0]] * pad + tokens + [pads[1]] * pad if pad else tokens
        out.extend(sep.join(seq[i:i + width]) for i in range(len(seq) - width + 1))
    if preserve_short and not out and tokens:  # TensorFlow: one n-gram of the whole (padded) sequence
        pad = 0 if pads is None or padding_width is None else int(padding_width)
        out.append(sep.join([pads[0]] * pad + tokens + [pads[1]] * pad if pad else tokens))
    return out


def ngrams(data, ngram_width, separator=" ", pad_values=None, padding_width=None, preserve_short_sequences=False,
           name=None):
    """The n-grams of the innermost axis of ``data``, joined with ``separator``.

    Args:
        data: string tensor or RaggedTensor; n-grams run along the last axis.
        ngram_width: an int, or a tuple of ints (all n-grams of the first width, then the next, ...).
        separator: joins the tokens of an n-gram.
        pad_values: a string (both ends) or a pair ``(left, right)`` to pad each sequence with.
        padding_width: how many pad values per end (default ``width - 1``).
        preserve_short_sequences: a sequence too short for any n-gram gives one n-gram of all its
            (padded) tokens instead of none.
    """
    widths = (int(ngram_width),) if isinstance(ngram_width, (int, np.integer)) else tuple(int(w) for w in ngram_width)
    if not widths or any(w < 1 for w in widths):
        raise ValueError(f"tf.strings.ngrams: ngram_width must be positive. Received: ngram_width={ngram_width!r}")
    if padding_width is not None and int(padding_width) < 1:
        raise ValueError(f"tf.strings.ngrams: padding_width must be at least 1. Received: {padding_width!r}")
    sep = as_bytes(separator)
    pads = _pad_pair(pad_values)
    if isinstance(data, RaggedTensor):
        if data.dtype.kind != "O":
            raise TypeError("tf.strings.ngrams: `data` must hold strings.")
        return _ragged_ngrams(data, widths, sep, pads, padding_width, preserve_short_sequences)
    dense = string_array(data, "ngrams", "data")
    if dense.ndim == 0:
        raise ValueError("tf.strings.ngrams: `data` must have rank >= 1 (the tokens on its last axis).")
    rows = [_ngrams_of(row.tolist(), widths, sep, pads, padding_width, preserve_short_sequences)
            for row in dense.reshape(-1, dense.shape[-1])]
    width = len(rows[0]) if rows else 0
    out = np.empty((len(rows), width), dtype=object)
    for i, row in enumerate(rows):
        out[i, :] = row
    return Tensor(out.reshape(dense.shape[:-1] + (width,)))


def _ragged_ngrams(data, widths, sep, pads, padding_width, preserve_short):
    if isinstance(data._values, RaggedTensor):  # the n-grams run along the innermost ragged axis
        inner = _ragged_ngrams(data._values, widths, sep, pads, padding_width, preserve_short)
        return RaggedTensor.from_row_splits(inner, data._row_splits)
    rows = [_ngrams_of(list(row), widths, sep, pads, padding_width, preserve_short) for row in data.to_list()]
    lengths = [len(r) for r in rows]
    values = np.empty(sum(lengths), dtype=object)
    values[:] = [g for r in rows for g in r]
    return RaggedTensor.from_row_lengths(values, lengths)
