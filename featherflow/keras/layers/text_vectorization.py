"""``TextVectorization``: raw strings to token indices (or multi-hot/count/tf-idf vectors) inside a model.

Each string is standardized (lowercased, punctuation stripped), split into tokens (whitespace or
characters), optionally joined into n-grams, then looked up in a vocabulary learned by ``adapt`` (a
``StringLookup`` with ``""`` as the mask token at index 0 and ``"[UNK]"`` at index 1 in ``int`` mode).
Semantics and defaults are tf.keras 2's: lowercasing is ASCII-only (``tf.strings.lower``), the
punctuation removed is ``DEFAULT_STRIP_REGEX``, ties in token frequency go to the larger token.

>>> from featherflow import keras
>>> layer = keras.layers.TextVectorization(max_tokens=10, output_sequence_length=4)
>>> layer.adapt(["The cat sat.", "The dog sat on the cat!"])
>>> layer.get_vocabulary()
['', '[UNK]', 'the', 'sat', 'cat', 'on', 'dog']
>>> layer(["the cat ate"]).numpy()
array([[2, 4, 1, 0]])
"""

from __future__ import annotations

import numpy as np

from featherflow import strings as tf_strings
from featherflow.core import Tensor
from featherflow.core.ragged import RaggedTensor
from featherflow.core.string_tensor import is_string_dtype
from featherflow.keras.layers.index_lookup import (
    COUNT,
    INT,
    MULTI_HOT,
    TF_IDF,
    TextInputLayer,
    as_input_array,
    iterate_batches,
    validate_string_arg,
)
from featherflow.keras.layers.lookup import StringLookup

LOWER_AND_STRIP_PUNCTUATION = "lower_and_strip_punctuation"
STRIP_PUNCTUATION = "strip_punctuation"
LOWER = "lower"
WHITESPACE = "whitespace"
CHARACTER = "character"
DEFAULT_STRIP_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


def _as_strings(value):
    """A standardize/split callable's result as a string array or RaggedTensor."""
    if isinstance(value, RaggedTensor):
        return value
    return as_input_array(value)


class TextVectorization(TextInputLayer):
    """Turn strings into sequences of token indices or into token-count vectors.

    Args:
        max_tokens: vocabulary cap (the mask and OOV tokens included in ``int`` mode).
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``, ``"strip_punctuation"``,
            ``None``, or a callable on a string tensor.
        split: ``"whitespace"`` (default), ``"character"``, ``None`` (the inputs are already tokens), or a
            callable returning a RaggedTensor of tokens.
        ngrams: None, an int ``n`` (all n-grams up to ``n``) or a tuple of widths.
        output_mode: ``"int"`` (indices), ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: ``int`` mode: pad (with 0) or truncate every sequence to this length.
        pad_to_max_tokens: encoded outputs always have ``max_tokens`` columns.
        vocabulary: tokens (list, array) or a vocabulary file; ``idf_weights`` with ``tf_idf``.
        ragged: ``int`` mode: return a RaggedTensor of indices instead of a padded array.
        encoding: the text encoding (default ``"utf-8"``).
        sparse: not supported.

    Input: strings of shape ``(batch,)`` or ``(batch, 1)``. Output: int64 ``(batch, sequence_length)``, or
    float32 ``(batch, vocabulary_size)`` in the encoded modes. The learned vocabulary is saved with the model.
    """

    def __init__(self, max_tokens=None, standardize=LOWER_AND_STRIP_PUNCTUATION, split=WHITESPACE, ngrams=None,
                 output_mode=INT, output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", **kwargs):
        dtype = kwargs.pop("dtype", None)
        if dtype is not None and not is_string_dtype(dtype) and not (isinstance(dtype, dict)):
            raise ValueError(f"`TextVectorization` may only have a dtype of string. Received dtype: {dtype}.")
        validate_string_arg(standardize, (LOWER_AND_STRIP_PUNCTUATION, LOWER, STRIP_PUNCTUATION), "TextVectorization",
                            "standardize", allow_none=True, allow_callables=True)
        validate_string_arg(split, (WHITESPACE, CHARACTER), "TextVectorization", "split", allow_none=True,
                            allow_callables=True)
        output_mode = {"binary": MULTI_HOT, "tf-idf": TF_IDF}.get(output_mode, output_mode)
        validate_string_arg(output_mode, (INT, COUNT, MULTI_HOT, TF_IDF), "TextVectorization", "output_mode",
                            allow_none=True)
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or isinstance(ngrams, int) and not isinstance(ngrams, bool)
                or isinstance(ngrams, tuple) and all(isinstance(item, int) for item in ngrams)):
            raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={ngrams}")
        if output_mode == INT and not (output_sequence_length is None or isinstance(output_sequence_length, int)):
            raise ValueError(f"`output_sequence_length` must be either None or an integer when `output_mode` is "
                             f"'int'. Received: output_sequence_length={output_sequence_length}")
        if output_mode != INT and output_sequence_length is not None:
            raise ValueError(f"`output_sequence_length` must not be set if `output_mode` is not 'int'. Received "
                             f"output_sequence_length={output_sequence_length}.")
        if ragged and output_mode != INT:
            raise ValueError(f"`ragged` must not be true if `output_mode` is `'int'`. Received: ragged={ragged} "
                             f"and output_mode={output_mode}")
        if ragged and output_sequence_length is not None:
            raise ValueError(f"`output_sequence_length` must not be set if ragged is True. Received: ragged={ragged} "
                             f"and output_sequence_length={output_sequence_length}")
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = bool(ragged)
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(**kwargs)
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode if output_mode else INT,
            sparse=sparse, has_input_vocabulary=has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size)

    # -- vocabulary ----------------------------------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary, index order (``""`` and ``"[UNK]"`` first in ``int`` mode)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The vocabulary's size, the padding and OOV tokens included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (and ``tf_idf`` weights) instead of adapting."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def update_state(self, data) -> None:
        self._lookup_layer.update_state(self._preprocess(data))

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary (and document frequencies) from ``data``: a list or array of strings, a string
        tensor, or a dataset/iterable of batches of strings."""
        self.reset_state()
        for batch in iterate_batches(data, batch_size, steps):
            self.update_state(batch)
        self.finalize_state()

    # -- computation ---------------------------------------------------------------------------------------
    def _preprocess(self, inputs):
        data = inputs if isinstance(inputs, RaggedTensor) else _as_strings(inputs)
        if isinstance(data, np.ndarray) and data.dtype.kind != "O":
            raise TypeError(f'Layer "{self.name}" expects strings. Received an array of dtype {data.dtype}')
        if self._standardize in (LOWER, LOWER_AND_STRIP_PUNCTUATION):
            data = _unwrap(tf_strings.lower(data))
        if self._standardize in (STRIP_PUNCTUATION, LOWER_AND_STRIP_PUNCTUATION):
            data = _unwrap(tf_strings.regex_replace(data, DEFAULT_STRIP_REGEX, ""))
        if callable(self._standardize):
            data = _as_strings(_unwrap(self._standardize(Tensor(data) if isinstance(data, np.ndarray) else data)))
        if self._split is not None:
            if isinstance(data, np.ndarray) and data.ndim > 1:
                if data.shape[-1] != 1:
                    raise ValueError(f"When using `TextVectorization` to tokenize strings, the input rank must be 1 or "
                                     f"the last shape dimension must be 1. Received: inputs.shape={data.shape} with "
                                     f"rank={data.ndim}")
                data = data[..., 0]
            if self._split == WHITESPACE:
                data = tf_strings.split(data)
            elif self._split == CHARACTER:
                data = tf_strings.unicode_split(data, "UTF-8")
            else:
                data = _as_strings(_unwrap(self._split(Tensor(data) if isinstance(data, np.ndarray) else data)))
        if self._ngrams is not None:
            data = tf_strings.ngrams(data, ngram_width=self._ngrams, separator=" ")
        return _unwrap(data)

    def call(self, inputs):
        data = self._preprocess(inputs)
        if self._output_mode is None:
            return data if isinstance(data, RaggedTensor) else Tensor(data)
        looked_up = self._lookup_layer(data)
        if self._output_mode != INT or self._ragged:
            return looked_up
        length = self._output_sequence_length
        if isinstance(looked_up, RaggedTensor):
            shape = [None] * (looked_up.ndim - 1) + [length]
            return looked_up.to_tensor(default_value=0, shape=shape if length is not None else None)
        if length is not None:
            ids = looked_up.value[..., :length]
            pad = [(0, 0)] * (ids.ndim - 1) + [(0, length - ids.shape[-1])]
            return Tensor(np.pad(ids, pad))
        return looked_up

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self._output_mode == INT:
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            shape = input_shape + (1,) if len(input_shape) <= 1 else input_shape
        else:
            shape = input_shape + (None,)
        return self._lookup_layer.compute_output_shape(shape)

    # -- saving: the lookup layer's state, at this layer's path and at its own (``_lookup_layer``), as in Keras --
    _saved_private_children = ("_lookup_layer",)

    def save_own_variables(self, store) -> None:
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store) -> None:
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path) -> None:
        """Write the adapted vocabulary to ``dir_path/vocabulary.txt`` (Keras's asset)."""
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path) -> None:
        """Read the vocabulary ``save_assets`` wrote (or Keras did) in ``dir_path``."""
        self._lookup_layer.load_assets(dir_path)

    def _asset_files(self) -> dict:
        return self._lookup_layer._asset_files()

    def _load_asset_files(self, files: dict) -> None:
        self._lookup_layer._load_asset_files(files)

    def _legacy_state_weights(self) -> list:
        return self._lookup_layer._legacy_state_weights()

    def get_config(self):
        config = super().get_config()
        config["dtype"] = "string"
        lookup = self._lookup_layer
        config.update(
            max_tokens=lookup.max_tokens, standardize=self._standardize, split=self._split, ngrams=self._ngrams_arg,
            output_mode=self._output_mode, output_sequence_length=self._output_sequence_length,
            pad_to_max_tokens=lookup.pad_to_max_tokens, sparse=lookup.sparse, ragged=self._ragged,
            vocabulary=lookup.get_config()["vocabulary"], idf_weights=lookup.get_config()["idf_weights"],
            encoding=self._encoding, vocabulary_size=self.vocabulary_size(),
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("dtype") is not None and not is_string_dtype(config["dtype"]):
            del config["dtype"]  # Keras 3 writes its base layer's float32 policy, which the layer does not use
        from featherflow.keras.saving.serialization_lib import deserialize_keras_object

        for key, allowed in (("standardize", (LOWER_AND_STRIP_PUNCTUATION, LOWER, STRIP_PUNCTUATION, None)),
                             ("split", (WHITESPACE, CHARACTER, None))):
            if config.get(key) not in allowed and not callable(config.get(key)):
                config[key] = deserialize_keras_object(config[key])
        return cls(**config)


def _unwrap(value):
    return value.value if isinstance(value, Tensor) else value
