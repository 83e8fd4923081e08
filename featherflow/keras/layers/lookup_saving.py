"""How StringLookup, IntegerLookup and TextVectorization save their vocabulary: where Keras keeps it.

* ``.keras`` archives: an adapted vocabulary is an asset of the layer, ``assets/<layer path>/vocabulary.txt``
  (every token, the special ones first, joined by newlines: what Keras 3 and tf.keras 2.x write and read); the
  ``tf_idf`` weights are a variable (``<layer path>/vars/idf_weights``).
* Legacy ``.h5`` files: the vocabulary and idf weights in the layer's config (``vocabulary_in_config``), the one
  place both Kerases read them there (tf.keras 2.x refuses to write an adapted layer to ``.h5``), and the idf
  weights also as tf.keras 2.x's weight of the layer (``IdfWeights``).
* A vocabulary given to the layer (``vocabulary=``) stays in its config, as in Keras.

A vocabulary the text file cannot hold exactly (a token with a line break, bytes that are not text in the
layer's encoding, an empty last token) is also kept exactly, as numbers beside the variables
(``vocabulary_bytes``/``vocabulary_lengths``, or ``vocabulary`` for integers); featherflow reads those first.

>>> from featherflow import keras
>>> from featherflow.keras.layers import lookup_saving
>>> layer = keras.layers.StringLookup()
>>> layer.adapt(["b", "a", "b"])
>>> lookup_saving.asset_files(layer)
{'vocabulary.txt': b'[UNK]\\nb\\na'}
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

VOCABULARY_FILE = "vocabulary.txt"
# the characters str.splitlines (Keras 3's reader) breaks lines at
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_local = threading.local()


@contextlib.contextmanager
def vocabulary_in_config():
    """Within the block (this thread), lookup layers write an adapted vocabulary into their config."""
    previous = getattr(_local, "in_config", False)
    _local.in_config = True
    try:
        yield
    finally:
        _local.in_config = previous


def writes_vocabulary_in_config() -> bool:
    return getattr(_local, "in_config", False)


def config_vocabulary(layer) -> tuple:
    """``(vocabulary, idf_weights)`` for ``layer.get_config()``: what was given to the layer, or inside
    ``vocabulary_in_config`` the adapted vocabulary (special tokens first) and its idf weights."""
    from featherflow.keras.layers.index_lookup import TF_IDF, _listify

    given = _listify(layer.input_vocabulary), _listify(layer.input_idf_weights)
    if layer._has_input_vocabulary or not writes_vocabulary_in_config() or not layer._tokens:
        return given
    vocabulary = layer.get_vocabulary()
    idf = None
    if layer.output_mode == TF_IDF and layer.idf_weights is not None:
        idf = [float(w) for w in np.asarray(layer.idf_weights)[:len(vocabulary)]]
    return vocabulary, idf


def _text_holds_exactly(layer, vocabulary: list) -> bool:
    if vocabulary and vocabulary[-1] == "":
        return False  # Keras drops empty last lines
    if any(isinstance(token, str) and not _LINE_BREAKS.isdisjoint(token) for token in vocabulary):
        return False
    if layer._is_string:
        start = layer._token_start_index()
        return [layer._key(token) for token in vocabulary[start:]] == layer._tokens
    return True


def asset_files(layer) -> dict:
    """``{"vocabulary.txt": bytes}`` of an adapted (or set) vocabulary, ``{}`` for one given in the config."""
    if layer._has_input_vocabulary:
        return {}
    text = "\n".join(str(token) for token in layer.get_vocabulary())
    return {VOCABULARY_FILE: text.encode("utf-8")}


def load_asset_files(layer, files: dict) -> None:
    """Set the vocabulary from a ``vocabulary.txt`` asset (Keras's reading: lines, empty last lines dropped)."""
    if layer._has_input_vocabulary or VOCABULARY_FILE not in files:
        return
    try:
        lines = bytes(files[VOCABULARY_FILE]).decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise ValueError(f"The vocabulary asset of layer '{layer.name}' is not UTF-8 text: {e}") from None
    while lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return
    if not layer._is_string:
        try:
            lines = [int(line) for line in lines]
        except ValueError:
            raise ValueError(f"The vocabulary asset of layer '{layer.name}' ({type(layer).__name__}) must hold one "
                             f"integer a line. Received: {lines[:5]}") from None
    from featherflow.keras.layers.index_lookup import TF_IDF

    # tf_idf: the idf weights come with the variables (False: set_vocabulary leaves them)
    layer.set_vocabulary(lines, idf_weights=False if layer.output_mode == TF_IDF else None)


def exact_vocabulary_arrays(layer) -> dict:
    """The numeric copy of a vocabulary the text asset cannot hold exactly (``{}`` when it can)."""
    if layer._has_input_vocabulary or _text_holds_exactly(layer, layer.get_vocabulary()):
        return {}
    if layer._is_string:
        return {"vocabulary_bytes": np.frombuffer(b"".join(layer._tokens), dtype=np.uint8).copy(),
                "vocabulary_lengths": np.array([len(t) for t in layer._tokens], dtype=np.int64)}
    return {"vocabulary": np.array(layer._tokens, dtype=np.int64)}


def tokens_from_arrays(layer, store: dict) -> list | None:
    """The tokens of a numeric vocabulary copy (``None`` when ``store`` has none)."""
    if layer._is_string and "vocabulary_bytes" in store:
        data = bytes(np.asarray(store["vocabulary_bytes"], dtype=np.uint8))
        ends = np.cumsum(np.asarray(store["vocabulary_lengths"], dtype=np.int64))
        starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        return [data[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    if not layer._is_string and "vocabulary" in store:
        return [int(t) for t in np.asarray(store["vocabulary"]).tolist()]
    return None


class IdfWeights:
    """tf.keras 2.x's idf-weights variable of a ``tf_idf`` lookup layer, as legacy ``.h5`` files list it
    (Keras 3's layers have no such weight: readers take it when the file has it)."""

    optional = True

    def __init__(self, layer):
        self.layer = layer
        self.name = f"{layer.name}/idf_weights:0"

    @property
    def dtype(self):
        return np.dtype(self.layer.dtype)

    @property
    def shape(self) -> tuple:
        return np.shape(self.numpy())

    def numpy(self) -> np.ndarray:
        weights = self.layer.idf_weights
        return np.zeros(0, self.dtype) if weights is None else np.asarray(weights)

    def assign(self, value) -> None:
        self.layer.idf_weights = np.array(value, dtype=self.dtype)
