"""Word-index sequence processing shared by ``imdb`` and ``reuters`` (tf.keras's exact rules).

Order of operations, as in tf.keras: shuffle with ``np.random.RandomState(seed)``, then prepend
``start_char`` and shift every word index by ``index_from``, then drop sequences whose length
(start character included) is not ``< maxlen``, then map every index ``w`` outside
``skip_top <= w < num_words`` to ``oov_char`` (or drop it when ``oov_char`` is None).

>>> encode_sequences([[1, 5], [2]], start_char=1, oov_char=2, index_from=3, num_words=6, skip_top=0)
[[1, 4, 2], [1, 5]]
"""

from __future__ import annotations

import numpy as np


def shift_sequences(sequences, start_char: int | None, index_from: int) -> list:
    """``[start_char] + [w + index_from ...]`` for each sequence (no start when ``start_char`` is None)."""
    if start_char is not None:
        return [[start_char] + [int(w) + index_from for w in x] for x in sequences]
    if index_from:
        return [[int(w) + index_from for w in x] for x in sequences]
    return [[int(w) for w in x] for x in sequences]


def remove_long_sequences(maxlen: int, sequences: list, labels) -> tuple[list, list]:
    """Keeps the sequences shorter than ``maxlen`` (strictly, as tf.keras does) and their labels."""
    kept, kept_labels = [], []
    for x, y in zip(sequences, labels):
        if len(x) < maxlen:
            kept.append(x)
            kept_labels.append(y)
    return kept, kept_labels


def limit_vocabulary(sequences: list, num_words: int | None, skip_top: int, oov_char: int | None) -> list:
    """Replaces (or drops, when ``oov_char`` is None) every index outside ``[skip_top, num_words)``.

    ``num_words`` None or 0 means the largest index present, as in tf.keras (which, note, makes
    that largest index itself out of vocabulary).
    """
    if not num_words:
        num_words = max((max(x) for x in sequences if len(x)), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in sequences]
    return [[w for w in x if skip_top <= w < num_words] for x in sequences]


def encode_sequences(sequences, start_char, oov_char, index_from, num_words, skip_top) -> list:
    """``shift_sequences`` then ``limit_vocabulary`` (no length filter)."""
    return limit_vocabulary(shift_sequences(sequences, start_char, index_from), num_words, skip_top, oov_char)


def as_object_array(sequences: list) -> np.ndarray:
    """A 1-D object array of Python lists (what tf.keras returns), even when all lengths agree."""
    out = np.empty(len(sequences), dtype=object)
    for i, sequence in enumerate(sequences):
        out[i] = sequence
    return out


def check_legacy_kwargs(kwargs: dict, num_words):
    """tf.keras's ``nb_words`` alias; any other keyword is a TypeError."""
    if "nb_words" in kwargs:
        import warnings

        warnings.warn("The `nb_words` argument in `load_data` has been renamed `num_words`.", stacklevel=3)
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {kwargs}.")
    return num_words
