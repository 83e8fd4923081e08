"""``keras.preprocessing.sequence`` (legacy, deprecated): ``pad_sequences`` (= ``keras.utils.pad_sequences``),
``TimeseriesGenerator``, ``make_sampling_table`` and ``skipgrams``, with tf.keras 2's behaviour.

>>> import warnings
>>> warnings.simplefilter("ignore", DeprecationWarning)
>>> pad_sequences([[1, 2], [3]], maxlen=3)
array([[0, 1, 2],
       [0, 0, 3]], dtype=int32)
>>> make_sampling_table(3).round(4)
array([0.0032, 0.0032, 0.0055])
"""

from __future__ import annotations

import json
import random

import numpy as np

from featherflow.keras.preprocessing._deprecation import warn_deprecated
from featherflow.keras.utils.padding import pad_sequences as _pad_sequences
from featherflow.keras.utils.sequence import Sequence


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """``keras.utils.pad_sequences`` under its old name (see there)."""
    warn_deprecated("sequence.pad_sequences", "keras.utils.pad_sequences")
    return _pad_sequences(sequences, maxlen=maxlen, dtype=dtype, padding=padding, truncating=truncating, value=value)


class TimeseriesGenerator(Sequence):
    """Batches of ``(windows, targets)`` from a time series: the window ending before step ``i`` is
    ``data[i - length:i:sampling_rate]`` and its target ``targets[i]``.

    Deprecated: use ``keras.utils.timeseries_dataset_from_array``.

    Args:
        data / targets: indexable series of one length (axis 0 is time).
        length: window length in steps.
        sampling_rate: steps between the samples of a window.
        stride: steps between consecutive windows.
        start_index / end_index: the first / last step a window may end before (default the whole series).
        shuffle: draw the window ends at random (``numpy.random``) instead of in order.
        reverse: windows in reverse chronological order.
        batch_size: windows per batch.
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0, end_index=None,
                 shuffle=False, reverse=False, batch_size=128):
        warn_deprecated("sequence.TimeseriesGenerator", "keras.utils.timeseries_dataset_from_array")
        if len(data) != len(targets):
            raise ValueError(f"Data and targets have to be of same length. Data length is {len(data)} while target "
                             f"length is {len(targets)}")
        self.data = data
        self.targets = targets
        self.length = length
        self.sampling_rate = sampling_rate
        self.stride = stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle = shuffle
        self.reverse = reverse
        self.batch_size = batch_size
        if self.start_index > self.end_index:
            raise ValueError(f"`start_index+length={self.start_index} > end_index={self.end_index}` is disallowed, as "
                             "no part of the sequence would be left to be used as current step.")

    def __len__(self) -> int:
        return (self.end_index - self.start_index + self.batch_size * self.stride) // (self.batch_size * self.stride)

    def __getitem__(self, index):
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            i = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(i, min(i + self.batch_size * self.stride, self.end_index + 1), self.stride)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate] for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        if self.reverse:
            return samples[:, ::-1, ...], targets
        return samples, targets

    def get_config(self) -> dict:
        """The configuration, with ``data`` and ``targets`` as JSON strings (they must be JSON-serializable)."""
        def as_json(values, what):
            values = values.tolist() if isinstance(values, np.ndarray) else values
            try:
                return json.dumps(values)
            except TypeError as e:
                raise TypeError(f"{what} not JSON Serializable: {values!r:.80}") from e

        return {"data": as_json(self.data, "Data"), "targets": as_json(self.targets, "Targets"), "length": self.length,
                "sampling_rate": self.sampling_rate, "stride": self.stride, "start_index": self.start_index,
                "end_index": self.end_index, "shuffle": self.shuffle, "reverse": self.reverse,
                "batch_size": self.batch_size}

    def to_json(self, **kwargs) -> str:
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


def make_sampling_table(size, sampling_factor=1e-5) -> np.ndarray:
    """word2vec's subsampling probabilities by word rank, assuming Zipf-distributed frequencies:
    ``min(1, f / sqrt(f))`` with ``f = sampling_factor * (rank * (log(rank) + 0.577) + 1/2 - 1/(12 rank))``."""
    warn_deprecated("sequence.make_sampling_table", "your own NumPy expression (see its docstring) with tf.data")
    gamma = 0.577
    rank = np.arange(size)
    rank[0] = 1
    inv_fq = rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inv_fq
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True, categorical=False,
              sampling_table=None, seed=None):
    """word2vec skip-gram pairs (Mikolov et al. 2013) from a sequence of word indices: ``(couples, labels)``
    with label 1 for ``(word, neighbour within window_size)`` and 0 for ``(word, random word)``.

    Index 0 is a non-word and skipped. ``negative_samples`` negatives per positive; ``sampling_table[i]`` is
    the probability to keep word ``i``; Python's ``random`` draws, as tf.keras (``seed`` for the shuffle).
    """
    warn_deprecated("sequence.skipgrams", "tf.random.log_uniform_candidate_sampler and tf.data (see TensorFlow's "
                    "word2vec tutorial)")
    couples, labels = [], []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append([0, 1] if categorical else 1)
    if negative_samples > 0:
        count = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [[words[i % len(words)], random.randint(1, int(vocabulary_size - 1))] for i in range(count)]
        labels += ([[1, 0]] if categorical else [0]) * count
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(10e6))
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels
