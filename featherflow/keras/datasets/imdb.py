"""IMDB movie review sentiment: tf.keras's ``imdb.load_data`` and ``imdb.get_word_index``.

25,000 training and 25,000 test reviews labelled 1 (positive) or 0 (negative), each a list of
word indices ranked by frequency (``3`` is the 3rd most frequent word); ``0`` is padding,
``1`` the start mark and ``2`` the out-of-vocabulary mark with the default arguments.
Downloaded from tf.keras's origin and checked against tf.keras's published sha256.
The ``.npz`` file holds object arrays; they are read with a restricted unpickler that accepts
only arrays, lists and numbers.
"""

from __future__ import annotations

import json

import numpy as np

from featherflow.keras.datasets import _sequences
from featherflow.keras.datasets._files import KERAS_DATASETS_BASE, fetch
from featherflow.keras.datasets._safe_pickle import load_npz


def load_data(
    path: str = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    **kwargs,
):
    """Loads the IMDB dataset (tf.keras's semantics, argument for argument).

    Args:
        path: where to cache the data (relative to ``~/.keras/datasets``).
        num_words: keep word indices ``< num_words`` (after the ``index_from`` shift); others
            become ``oov_char``. None keeps all words.
        skip_top: indices ``< skip_top`` become ``oov_char`` too.
        maxlen: keep only sequences shorter than ``maxlen`` (start character included).
        seed: seed of ``np.random.RandomState`` that shuffles train, then test.
        start_char: prepended to every sequence (None: nothing prepended).
        oov_char: replaces cut words (None: cut words are dropped).
        index_from: added to every word index.
        **kwargs: ``nb_words`` (old name of ``num_words``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x_*`` 1-D object arrays of Python lists of
        ints, ``y_*`` integer arrays of 0/1 labels.

    Raises:
        ValueError: ``maxlen`` so low that no sequence is kept.
    """
    num_words = _sequences.check_legacy_kwargs(kwargs, num_words)
    file_path = fetch(KERAS_DATASETS_BASE + "imdb.npz", fname=path)
    arrays = load_npz(file_path)
    x_train, labels_train = arrays["x_train"], arrays["y_train"]
    x_test, labels_test = arrays["x_test"], arrays["y_test"]

    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    x_train = _sequences.shift_sequences(x_train, start_char, index_from)
    x_test = _sequences.shift_sequences(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _sequences.remove_long_sequences(maxlen, x_train, labels_train)
        x_test, labels_test = _sequences.remove_long_sequences(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. Increase maxlen."
            )
    xs = _sequences.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(labels_train), np.asarray(labels_test)])
    split = len(x_train)
    return (
        (_sequences.as_object_array(xs[:split]), labels[:split]),
        (_sequences.as_object_array(xs[split:]), labels[split:]),
    )


def get_word_index(path: str = "imdb_word_index.json") -> dict:
    """Retrieves a dict mapping words to their index in the IMDB dataset (rank, 1 = most frequent).

    Add ``index_from`` to a value to find the word in ``load_data``'s sequences.
    """
    file_path = fetch(KERAS_DATASETS_BASE + "imdb_word_index.json", fname=path)
    with open(file_path, encoding="utf-8") as f:
        return json.load(f)
