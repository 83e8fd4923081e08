"""Reuters newswire topics: tf.keras's ``reuters.load_data``, ``get_word_index``, ``get_label_names``.

11,228 newswires over 46 topics, each a list of word indices ranked by frequency, split into
train and test after a seeded shuffle. Downloaded from tf.keras's origin and checked against
tf.keras's published sha256; object arrays are read with a restricted unpickler.

>>> get_label_names()[:4]
('cocoa', 'grain', 'veg-oil', 'earn')
"""

from __future__ import annotations

import json

import numpy as np

from featherflow.keras.datasets import _sequences
from featherflow.keras.datasets._files import KERAS_DATASETS_BASE, fetch
from featherflow.keras.datasets._safe_pickle import load_npz

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee",
    "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx",
    "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock",
    "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path: str = "reuters.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    **kwargs,
):
    """Loads the Reuters newswire classification dataset (tf.keras's semantics).

    Args:
        path: where to cache the data (relative to ``~/.keras/datasets``).
        num_words: keep word indices ``< num_words`` (after the shift); others become ``oov_char``.
        skip_top: indices ``< skip_top`` become ``oov_char`` too.
        maxlen: keep only sequences shorter than ``maxlen`` (start character included).
        test_split: fraction of the (shuffled, filtered) data used as test data; the first
            ``int(n * (1 - test_split))`` samples are the training set.
        seed: seed of ``np.random.RandomState`` for the shuffle.
        start_char, oov_char, index_from: as in ``imdb.load_data``.
        **kwargs: ``nb_words`` (old name of ``num_words``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x_*`` 1-D object arrays of lists of ints,
        ``y_*`` integer topic labels 0-45 (see ``get_label_names``).
    """
    num_words = _sequences.check_legacy_kwargs(kwargs, num_words)
    file_path = fetch(KERAS_DATASETS_BASE + "reuters.npz", fname=path)
    arrays = load_npz(file_path)
    xs, labels = arrays["x"], arrays["y"]

    rng = np.random.RandomState(seed)
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    xs, labels = xs[indices], labels[indices]

    xs = _sequences.shift_sequences(xs, start_char, index_from)
    if maxlen:
        xs, labels = _sequences.remove_long_sequences(maxlen, xs, labels)
    xs = _sequences.limit_vocabulary(xs, num_words, skip_top, oov_char)

    split = int(len(xs) * (1 - test_split))
    labels = np.asarray(labels)
    return (
        (_sequences.as_object_array(xs[:split]), np.array(labels[:split])),
        (_sequences.as_object_array(xs[split:]), np.array(labels[split:])),
    )


def get_word_index(path: str = "reuters_word_index.json") -> dict:
    """Retrieves a dict mapping words to their index in the Reuters dataset.

    Indices in the training data are these plus ``index_from`` (3 by default: 0 padding,
    1 start, 2 out-of-vocabulary).
    """
    file_path = fetch(KERAS_DATASETS_BASE + "reuters_word_index.json", fname=path)
    with open(file_path, encoding="utf-8") as f:
        return json.load(f)


def get_label_names() -> tuple:
    """The 46 topic names, indexed like the labels of ``load_data``."""
    return _LABEL_NAMES
