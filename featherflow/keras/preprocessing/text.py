"""``keras.preprocessing.text`` (legacy, deprecated): ``Tokenizer``, ``text_to_word_sequence``, ``one_hot``,
``hashing_trick`` and ``tokenizer_from_json``, with tf.keras 2's behaviour (its ``keras_preprocessing``
code), for programs written against it. New code: ``keras.layers.TextVectorization`` / ``Hashing``.

>>> import warnings
>>> warnings.simplefilter("ignore", DeprecationWarning)
>>> text_to_word_sequence("This is a sample sentence.")
['this', 'is', 'a', 'sample', 'sentence']
>>> tokenizer = Tokenizer(num_words=10, oov_token="<OOV>")
>>> tokenizer.fit_on_texts(["the cat sat", "the dog sat down"])
>>> tokenizer.word_index
{'<OOV>': 1, 'the': 2, 'sat': 3, 'cat': 4, 'dog': 5, 'down': 6}
>>> tokenizer.texts_to_sequences(["the bird sat"])
[[2, 1, 3]]
"""

from __future__ import annotations

import collections
import hashlib
import json

import numpy as np

from featherflow.keras.preprocessing._deprecation import warn_deprecated

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def _split_words(input_text, filters, lower, split) -> list:
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [word for word in input_text.split(split) if word]


def text_to_word_sequence(input_text, filters=DEFAULT_FILTERS, lower=True, split=" ") -> list:
    """Split a text into words: lowercase (``lower``), replace every character of ``filters`` by ``split``,
    split on ``split`` and drop empty words. Deprecated: use ``tf.strings.regex_replace`` and
    ``tf.strings.split`` (or ``keras.layers.TextVectorization``)."""
    warn_deprecated("text.text_to_word_sequence", "tf.strings.regex_replace and tf.strings.split (or "
                    "keras.layers.TextVectorization)")
    return _split_words(input_text, filters, lower, split)


def hashing_trick(text, n, hash_function=None, filters=DEFAULT_FILTERS, lower=True, split=" ", analyzer=None) -> list:
    """Each word of ``text`` as ``hash_function(word) % (n - 1) + 1`` (an index in ``[1, n)``).

    ``hash_function``: ``None`` (Python's ``hash``, which changes between processes unless
    ``PYTHONHASHSEED`` is set), ``"md5"`` (stable) or a callable. Deprecated: use ``keras.layers.Hashing``.
    """
    warn_deprecated("text.hashing_trick", "keras.layers.Hashing")
    return _hashing_trick(text, n, hash_function, filters, lower, split, analyzer)


def _hashing_trick(text, n, hash_function, filters, lower, split, analyzer) -> list:
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        def hash_function(word):
            return int(hashlib.md5(word.encode()).hexdigest(), 16)
    words = _split_words(text, filters, lower, split) if analyzer is None else analyzer(text)
    return [hash_function(w) % (n - 1) + 1 for w in words]


def one_hot(input_text, n, filters=DEFAULT_FILTERS, lower=True, split=" ", analyzer=None) -> list:
    """``hashing_trick`` with Python's ``hash``: word indices in ``[1, n)`` (not a one-hot matrix, despite the
    name). Deprecated: use ``keras.layers.Hashing(output_mode="one_hot")``."""
    warn_deprecated("text.one_hot", 'keras.layers.Hashing(num_bins, output_mode="one_hot")')
    return _hashing_trick(input_text, n, hash, filters, lower, split, analyzer)


class Tokenizer:
    """Build a word index from texts and turn texts into sequences of indices or into matrices.

    Deprecated: use ``keras.layers.TextVectorization``.

    Args:
        num_words: keep the ``num_words - 1`` most frequent words when converting (``None``: all).
        filters: characters removed from the texts (default: punctuation, tab, newline; not ``'``).
        lower: lowercase the texts.
        split: the word separator.
        char_level: every character is a token.
        oov_token: a token (index 1) for out-of-vocabulary words; without it they are dropped.
        analyzer: a callable splitting a text into tokens (replaces the default splitting).

    Index 0 is never assigned. Words are indexed by decreasing frequency (first seen first on ties).
    """

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ", char_level=False,
                 oov_token=None, analyzer=None, **kwargs):
        warn_deprecated("text.Tokenizer", "keras.layers.TextVectorization")
        if "nb_words" in kwargs:
            import warnings

            warnings.warn("The `nb_words` argument in `Tokenizer` has been renamed `num_words`.", stacklevel=2)
            num_words = kwargs.pop("nb_words")
        document_count = kwargs.pop("document_count", 0)
        if kwargs:
            raise TypeError("Unrecognized keyword arguments: " + str(kwargs))
        self.word_counts = collections.OrderedDict()
        self.word_docs = collections.defaultdict(int)
        self.filters = filters
        self.split = split
        self.lower = lower
        self.num_words = num_words
        self.document_count = document_count
        self.char_level = char_level
        self.oov_token = oov_token
        self.index_docs = collections.defaultdict(int)
        self.word_index: dict = {}
        self.index_word: dict = {}
        self.analyzer = analyzer

    def _tokens(self, text) -> list:
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return list(text)
        if self.analyzer is not None:
            return self.analyzer(text)
        return _split_words(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts) -> None:
        """Count the words of ``texts`` (strings, or lists of tokens) and rebuild ``word_index``."""
        if isinstance(texts, str):
            raise TypeError("fit_on_texts expects a list of texts, not one string. Wrap it: fit_on_texts([text]).")
        for text in texts:
            self.document_count += 1
            seq = self._tokens(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(seq):
                self.word_docs[w] += 1
        counts = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)  # stable: first seen first
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + [w for w, _ in counts]
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1)))
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, c in list(self.word_docs.items()):
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences) -> None:
        """Count in how many sequences each index appears (needed by ``sequences_to_matrix(mode="tfidf")``)."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences(self, texts) -> list:
        """Each text as a list of word indices (unknown words: the OOV index, or dropped)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token)
        for text in texts:
            vector = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is not None:
                    if num_words and i >= num_words:
                        if oov_index is not None:
                            vector.append(oov_index)
                    else:
                        vector.append(i)
                elif self.oov_token is not None:
                    vector.append(oov_index)
            yield vector

    def sequences_to_texts(self, sequences) -> list:
        """Each sequence of indices as a text (words joined by spaces)."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token)
        for seq in sequences:
            words = []
            for num in seq:
                word = self.index_word.get(num)
                if word is not None:
                    if num_words and num >= num_words:
                        if oov_index is not None:
                            words.append(self.index_word[oov_index])
                    else:
                        words.append(word)
                elif self.oov_token is not None:
                    words.append(self.index_word[oov_index])
            yield " ".join(words)

    def texts_to_matrix(self, texts, mode="binary") -> np.ndarray:
        """``(len(texts), num_words)`` matrix: ``"binary"``, ``"count"``, ``"freq"`` or ``"tfidf"``."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary") -> np.ndarray:
        """Sequences of indices as a matrix (see ``texts_to_matrix``); tf-idf is
        ``(1 + log(count)) * log(1 + documents / (1 + documents with the word))``."""
        if not self.num_words:
            if not self.word_index:
                raise ValueError("Specify a dimension (`num_words` argument), or fit on some text data first.")
            num_words = len(self.word_index) + 1
        else:
            num_words = self.num_words
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        if mode not in ("binary", "count", "tfidf", "freq"):
            raise ValueError(f"Unknown vectorization mode: {mode}. Expected one of 'binary', 'count', 'tfidf', "
                             "'freq'.")
        x = np.zeros((len(sequences), num_words))
        for i, seq in enumerate(sequences):
            if not seq:
                continue
            counts = collections.defaultdict(int)
            for j in seq:
                if j < num_words:
                    counts[j] += 1
            for j, c in counts.items():
                if mode == "count":
                    x[i][j] = c
                elif mode == "freq":
                    x[i][j] = c / len(seq)
                elif mode == "binary":
                    x[i][j] = 1
                else:
                    x[i][j] = (1 + np.log(c)) * np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
        return x

    def get_config(self) -> dict:
        """The configuration, with the word statistics as JSON strings (tf.keras's format)."""
        return {
            "num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
            "char_level": self.char_level, "oov_token": self.oov_token, "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts), "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs), "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs) -> str:
        """JSON for ``tokenizer_from_json`` (``kwargs`` go to ``json.dumps``)."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string) -> Tokenizer:
    """A ``Tokenizer`` from ``Tokenizer.to_json()``'s output."""
    config = dict(json.loads(json_string).get("config"))
    word_counts = json.loads(config.pop("word_counts"))
    word_docs = json.loads(config.pop("word_docs"))
    index_docs = {int(k): v for k, v in json.loads(config.pop("index_docs")).items()}
    index_word = {int(k): v for k, v in json.loads(config.pop("index_word")).items()}
    word_index = json.loads(config.pop("word_index"))
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = collections.OrderedDict(word_counts)
    tokenizer.word_docs = collections.defaultdict(int, word_docs)
    tokenizer.index_docs = collections.defaultdict(int, index_docs)
    tokenizer.word_index = word_index
    tokenizer.index_word = index_word
    return tokenizer
