"""``StringLookup`` and ``IntegerLookup``: map strings or integers to vocabulary indices (and back).

>>> from featherflow import keras
>>> layer = keras.layers.StringLookup(vocabulary=["a", "b", "c"])
>>> layer([["a", "c"], ["d", "b"]]).numpy()
array([[1, 3],
       [0, 2]])
>>> keras.layers.StringLookup(vocabulary=["a", "b"], invert=True)([1, 2, 0]).numpy()
array([b'a', b'b', b'[UNK]'], dtype=object)
>>> keras.layers.IntegerLookup(vocabulary=[12, 36])([36, 7]).numpy()
array([2, 0])
"""

from __future__ import annotations

import numpy as np

from featherflow.core.string_tensor import is_string_dtype
from featherflow.keras.layers.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    """Map strings to integer indices from a vocabulary (given, or learned by ``adapt``).

    Args:
        max_tokens: vocabulary size cap (mask and OOV indices included).
        num_oov_indices: out-of-vocabulary indices (default 1; >1 hashes unknown strings over them).
        mask_token: a string mapped to 0 (``int`` mode) or dropped (encoded modes); default None.
        oov_token: the inverse lookup's token for OOV indices (default ``"[UNK]"``).
        vocabulary: tokens (list, array, tensor) or a text file, one token per line.
        idf_weights: ``tf_idf`` weights for a given vocabulary.
        encoding: text encoding of the vocabulary (default ``"utf-8"``).
        invert: map indices to strings.
        output_mode: ``"int"`` (default), ``"one_hot"``, ``"multi_hot"``, ``"count"``, ``"tf_idf"``.
        pad_to_max_tokens: encoded outputs always have ``max_tokens`` columns.

    Input: strings of any shape (``one_hot``/``multi_hot``/... need rank <= 2). Output: int64 indices of the
    same shape, or float32 encodings ``(batch, vocabulary_size)``.
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None,
                 idf_weights=None, encoding="utf-8", invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, **kwargs):
        if "dtype" in kwargs and is_string_dtype(kwargs["dtype"]):
            del kwargs["dtype"]
        kwargs.pop("vocabulary_dtype", None)
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary_dtype="string", vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config


class IntegerLookup(IndexLookup):
    """Map integers to contiguous vocabulary indices (given, or learned by ``adapt``).

    Args:
        max_tokens / num_oov_indices / vocabulary / idf_weights / invert / output_mode /
        pad_to_max_tokens: as for ``StringLookup``.
        mask_token: an integer mapped to 0 (``int`` mode); default None.
        oov_token: the inverse lookup's value for OOV indices (default -1).
        vocabulary_dtype: the integer dtype of the vocabulary (default ``"int64"``).

    Out-of-vocabulary integers go to ``value % num_oov_indices`` (plus the OOV start) when there are several
    OOV indices.
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
                 vocabulary_dtype="int64", idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, **kwargs):
        if np.dtype(vocabulary_dtype).kind not in "iu":
            raise ValueError(f"`vocabulary_dtype` must be an integer dtype. Received: {vocabulary_dtype}")
        if output_mode != "int" and kwargs.get("dtype") in ("int64", np.int64, np.dtype("int64")):
            del kwargs["dtype"]
        for old, new in (("max_values", "max_tokens"), ("mask_value", "mask_token"), ("oov_value", "oov_token")):
            if old in kwargs:
                import warnings

                warnings.warn(f"{old} is deprecated, use {new} instead.", DeprecationWarning, stacklevel=2)
                value = kwargs.pop(old)
                max_tokens, mask_token, oov_token = (
                    value if new == "max_tokens" else max_tokens, value if new == "mask_token" else mask_token,
                    value if new == "oov_token" else oov_token)
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If `max_tokens` is set for `IntegerLookup`, it must be greater than 1. Received: "
                             f"max_tokens={max_tokens}.")
        if num_oov_indices < 0:
            raise ValueError(f"The value of `num_oov_indices` argument for `IntegerLookup` must >= 0. Received "
                             f"num_oov_indices={num_oov_indices}.")
        mask_token = None if mask_token is None else int(mask_token)
        oov_token = None if oov_token is None else int(oov_token)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary_dtype=np.dtype(vocabulary_dtype).name, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, **kwargs)
