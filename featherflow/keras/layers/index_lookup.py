"""The machinery shared by StringLookup, IntegerLookup and TextVectorization: a vocabulary (learned by
``adapt`` or given), token -> index lookup with out-of-vocabulary buckets and a mask token, the inverse
lookup, and the category encodings (``one_hot``, ``multi_hot``, ``count``, ``tf_idf``).

Semantics follow tf.keras 2's ``IndexLookup``: index 0 is the mask token (``output_mode="int"`` with a
``mask_token``), then ``num_oov_indices`` OOV indices, then the vocabulary sorted by frequency (ties: the
larger token first). With several OOV indices an unknown string goes to ``Fingerprint64(s) % n`` and an
unknown integer to ``value % n``. The vocabulary is saved where Keras saves it (see ``lookup_saving``): an
asset of ``.keras`` files, the config of ``.h5`` files.

>>> from featherflow import keras
>>> layer = keras.layers.StringLookup()
>>> layer.adapt(["b", "a", "b"])
>>> layer.get_vocabulary()
['[UNK]', 'b', 'a']
>>> layer(["a", "b", "zzz"]).numpy()
array([2, 1, 0])
"""

from __future__ import annotations

import collections
import itertools
import os

import numpy as np

from featherflow.backend.arrays import floatx
from featherflow.core import Tensor
from featherflow.core.ragged import RaggedTensor
from featherflow.core.string_tensor import to_string_array
from featherflow.keras.layers import lookup_saving
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.categorical import (  # noqa: F401 (re-exported for the other preprocessing layers)
    _INT64_MAX,
    COUNT,
    INT,
    MULTI_HOT,
    ONE_HOT,
    TF_IDF,
    as_input_array,
    categorical_output_shape,
    encode_categorical,
    iterate_batches,
    validate_string_arg,
)
from featherflow.ops._host import is_traced, on_host
from featherflow.strings.hashing import fingerprint64


class TextInputLayer(Layer):
    """A layer whose inputs may be strings: lists of strings are one input, not a list of inputs, and
    inputs keep their dtype (no cast to the layer's dtype).

    Inside a ``tf.function`` trace (a compiled ``fit`` / ``predict`` step) the layer runs as one host call on
    the real batch, now and at every replay: string processing and vocabulary lookups depend on the values,
    which a traced program cannot follow. Its output is not differentiable, as in TensorFlow."""

    def __call__(self, *args, **kwargs):
        if args and isinstance(args[0], (list, tuple)) and to_string_array(args[0]) is not None:
            args = (to_string_array(args[0]),) + args[1:]
        value = args[0].value if args and isinstance(args[0], Tensor) else args[0] if args else None
        if is_traced(value) and not getattr(self, "ragged", False):  # (a ragged output stays untraceable)
            call = super().__call__

            def run(array):
                out = call(Tensor(array), *args[1:], **kwargs)
                if not isinstance(out, Tensor):
                    raise TypeError(f'Layer "{self.name}" returned a {type(out).__name__} inside a tf.function; '
                                    f"only dense outputs can be compiled. Run the model eagerly "
                                    f"(compile(run_eagerly=True)) or make the output dense (ragged=False).")
                return out.value
            return Tensor(on_host(run, value))
        return super().__call__(*args, **kwargs)

    def _convert_input(self, x):
        if x is None or isinstance(x, (Tensor, RaggedTensor)):
            return x
        return Tensor(as_input_array(x))

    def _keeps_int_inputs(self) -> bool:
        return True


class IndexLookup(TextInputLayer):
    """Base of StringLookup and IntegerLookup (tf.keras 2's ``IndexLookup``, not exported).

    Args:
        max_tokens: vocabulary size cap, the mask and OOV indices included (``None``: no cap).
        num_oov_indices: OOV indices (0: unknown inputs raise; > 1: unknown inputs are hashed).
        mask_token: the token mapped to index 0 in ``int`` mode (dropped in the other modes).
        oov_token: the token the inverse lookup returns for OOV indices.
        vocabulary_dtype: ``"string"`` or an integer dtype.
        vocabulary: a list/array of tokens or a text file with one token per line (no ``adapt`` needed).
        idf_weights: with ``output_mode="tf_idf"`` and a given vocabulary, one weight per token.
        invert: map indices back to tokens.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        sparse: not supported (dense outputs only).
        pad_to_max_tokens: encoded outputs have ``max_tokens`` columns whatever the vocabulary's size.
    """

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False, pad_to_max_tokens=False, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError(f"`num_oov_indices` must be greater than or equal to 0. Received: "
                             f"num_oov_indices={num_oov_indices}")
        output_mode = {"binary": MULTI_HOT, "tf-idf": TF_IDF}.get(output_mode, output_mode)
        validate_string_arg(output_mode, (INT, ONE_HOT, MULTI_HOT, COUNT, TF_IDF), type(self).__name__, "output_mode")
        if invert and output_mode != INT:
            raise ValueError(f"`output_mode` must be `'int'` when `invert` is true. Received: output_mode={output_mode}")
        if sparse:
            raise ValueError(f"`sparse=True` is not supported by featherflow's {type(self).__name__}: outputs are "
                             "dense arrays.")
        if idf_weights is not None and output_mode != TF_IDF:
            raise ValueError(f"`idf_weights` should only be set if `output_mode` is `'tf_idf'`. Received: "
                             f"idf_weights={idf_weights} and output_mode={output_mode}")
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("has_static_table", None)
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == INT else floatx()
        super().__init__(**kwargs)
        if output_mode == INT and np.dtype(self.dtype).kind not in "iu":
            raise ValueError(f"When `output_mode='int'`, `dtype` should be an integer type. Received: "
                             f"dtype={kwargs['dtype']}")
        self.invert = bool(invert)
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.vocabulary_dtype = vocabulary_dtype
        self.input_vocabulary = vocabulary
        self.input_idf_weights = idf_weights
        self._is_string = vocabulary_dtype == "string"
        self._tokens: list = []
        self._index: dict = {}
        self.idf_weights = None
        self._reset_counts()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # -- token conversion ------------------------------------------------------------------------------
    def _key(self, token):
        """A token as the lookup table's key (``bytes`` for strings, ``int`` otherwise)."""
        if self._is_string:
            return token.encode(getattr(self, "encoding", "utf-8")) if isinstance(token, str) else bytes(token)
        return int(token)

    def _public(self, key):
        if self._is_string:
            return key.decode(getattr(self, "encoding", "utf-8"), "replace") if isinstance(key, bytes) else key
        return int(key)

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == INT else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    # -- vocabulary --------------------------------------------------------------------------------------
    def vocabulary_size(self) -> int:
        """The vocabulary's size, mask and OOV indices included."""
        return len(self._tokens) + self._token_start_index()

    def vocab_size(self) -> int:
        import warnings

        warnings.warn("vocab_size is deprecated, please use vocabulary_size.", DeprecationWarning, stacklevel=2)
        return self.vocabulary_size()

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary in index order (special tokens first unless ``include_special_tokens=False``)."""
        vocab = [self.oov_token] * self._token_start_index() + [self._public(t) for t in self._tokens]
        if self.mask_token is not None and self.output_mode == INT:
            vocab[0] = self.mask_token
        if not include_special_tokens:
            vocab = vocab[self._token_start_index():]
        return vocab

    def _set_tokens(self, tokens: list) -> None:
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._index = {t: start + i for i, t in enumerate(self._tokens)}
        self._arrays = None  # the vectorized lookup's tables, rebuilt on first use
        self._record_vocabulary_size()

    def _record_vocabulary_size(self) -> None:
        size = self.vocabulary_size()
        if self.output_mode != INT and not self.pad_to_max_tokens and self._frozen_vocab_size is not None \
                and getattr(self, "_called", False) and size != self._frozen_vocab_size:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, the "
                               f"vocabulary size cannot be changed after the layer is called. Old vocab size is "
                               f"{self._frozen_vocab_size}, new vocab size is {size}")
        self._frozen_vocab_size = size

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Set the vocabulary (a list/array/tensor of tokens, or a text file with one per line) and, for
        ``tf_idf``, its ``idf_weights``; special tokens may lead the list in index order."""
        if self.output_mode == TF_IDF:
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is TF_IDF")
        elif idf_weights is not None:
            raise ValueError(f"`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                             f"output_mode={self.output_mode} and idf_weights={idf_weights}")
        if isinstance(vocabulary, (str, os.PathLike)):
            path = os.fspath(vocabulary)
            if not os.path.exists(path):
                raise ValueError(f"Vocabulary file {path} does not exist.")
            if self.output_mode == TF_IDF:
                raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary from file.")
            with open(path, "rb") as f:
                lines = f.read().split(b"\n")
            if lines and lines[-1] == b"":
                lines = lines[:-1]
            vocabulary = lines if self._is_string else [int(x) for x in lines]
        if isinstance(vocabulary, Tensor):
            vocabulary = vocabulary.numpy()
        tokens = [self._key(t) for t in np.asarray(vocabulary, dtype=object).reshape(-1).tolist()] \
            if not isinstance(vocabulary, (list, tuple)) else [self._key(t) for t in vocabulary]
        if not tokens:
            raise ValueError(f"Cannot set an empty vocabulary, you passed {vocabulary}.")
        start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        special_keys = [None if t is None else self._key(t) for t in special]
        found_special = len(tokens) >= start and tokens[:start] == special_keys and start > 0
        learned = tokens[start:] if found_special else tokens
        repeated = [t for t, c in collections.Counter(learned).items() if c > 1]
        if repeated:
            raise ValueError(f"The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             f"The repeated terms are {[self._public(t) for t in repeated]}")
        if self.mask_token is not None and self._key(self.mask_token) in learned:
            raise ValueError(f"Found reserved mask token at unexpected location in `vocabulary`. Note that passed "
                             f"`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask "
                             f"and OOV tokens, or include them only at the start of the vocabulary in precisely this "
                             f"order: {special}. Received: mask_token={self.mask_token}")
        if self.oov_token is not None and self.invert and self._key(self.oov_token) in learned:
            raise ValueError(f"Found reserved OOV token at unexpected location in `vocabulary`. Note that passed "
                             f"`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask "
                             f"and OOV tokens, or include them only at the start of the vocabulary in precisely this "
                             f"order: {special}. Received: oov_token={self.oov_token}")
        if self.max_tokens is not None and start + len(learned) > self.max_tokens:
            raise ValueError(f"Attempted to set a vocabulary larger than the maximum vocab size. Passed vocab size is "
                             f"{start + len(learned)}, max vocab size is {self.max_tokens}.")
        self._set_tokens(learned)
        if self.output_mode == TF_IDF and idf_weights is not False:
            weights = np.asarray(idf_weights.numpy() if isinstance(idf_weights, Tensor) else idf_weights,
                                 dtype="float64")
            if len(weights) != len(tokens):
                raise ValueError(f"`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                                 f"{len(weights)}, len(vocabulary) is {len(tokens)}")
            if weights.ndim != 1:
                raise ValueError(f"TF-IDF data must be a 1-index array, but received {type(idf_weights)}")
            front = 0 if found_special else start
            front_value = 0.0 if found_special else float(np.average(weights))
            back = self.max_tokens - front - len(weights) if self.pad_to_max_tokens and self.max_tokens else 0
            self.idf_weights = np.pad(weights, (front, back), constant_values=(front_value, 0.0)).astype(self.dtype)

    # -- adapt --------------------------------------------------------------------------------------------
    def _reset_counts(self) -> None:
        self._counts: collections.Counter = collections.Counter()
        self._document_counts: collections.Counter = collections.Counter()
        self._num_documents = 0

    def reset_state(self) -> None:
        self._reset_counts()

    def _flat_keys(self, data) -> list:
        return self._flat_values(data).tolist()

    def _flat_values(self, data) -> np.ndarray:
        """The tokens of ``data`` as a flat array: ``bytes`` objects, or int64 (floats cast as tf.keras does)."""
        if isinstance(data, RaggedTensor):
            data = data.flat_values.value
        arr = np.asarray(data)
        if self._is_string:
            strings = to_string_array(arr) if arr.dtype.kind in "US" or arr.dtype == object else None
            if strings is None:
                raise TypeError(f'Layer "{self.name}" expects string inputs. Received dtype {arr.dtype}')
            return strings.reshape(-1)
        if arr.dtype.kind not in "iubf":
            raise TypeError(f'Layer "{self.name}" expects integer inputs. Received dtype {arr.dtype}')
        return arr.reshape(-1).astype(np.int64)

    def update_state(self, data) -> None:
        """Count the tokens of one batch (rows are documents for ``tf_idf``)."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt {type(self).__name__} layer after setting a static vocabulary via init "
                             "argument or `set_vocabulary`.")
        if not isinstance(data, RaggedTensor):
            data = np.asarray(data)
            if data.ndim == 0:
                data = data[None]
            if data.ndim == 1:
                data = data[None]
        self._counts.update(self._flat_keys(data))
        if self.output_mode == TF_IDF:
            rows = data.to_list() if isinstance(data, RaggedTensor) else list(data.reshape(data.shape[0], -1))
            for row in rows:
                self._document_counts.update(set(self._flat_keys(np.asarray(row, dtype=object if self._is_string
                                                                            else None))))
            self._num_documents += len(rows)

    def finalize_state(self) -> None:
        """Build the vocabulary from the counts: most frequent first, ties broken by the larger token."""
        if self._has_input_vocabulary or not self._counts:
            self._record_vocabulary_size()
            return
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                self._counts.pop(self._key(special), None)
        tokens = list(self._counts)
        counts = np.array([self._counts[t] for t in tokens], dtype=np.int64)
        order = sorted(range(len(tokens)), key=lambda i: (counts[i], tokens[i]), reverse=True)
        if self.max_tokens:
            order = order[:self.max_tokens - self._token_start_index()]
        learned = [tokens[i] for i in order]
        self._set_tokens(learned)
        if self.output_mode == TF_IDF:
            docs = np.array([self._document_counts[t] for t in learned], dtype=np.float64)
            idf = np.log(1 + self._num_documents / (1 + docs)).astype(self.dtype)
            weights = np.concatenate([np.full(self._token_start_index(), idf.mean() if idf.size else 0.0), idf])
            if self.pad_to_max_tokens and self.max_tokens is not None:
                weights = np.pad(weights, (0, self.max_tokens - weights.size))
            self.idf_weights = weights.astype(self.dtype)
        self._reset_counts()

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary from ``data`` (an array, a list, a tensor, or a dataset/iterable of batches)."""
        self.reset_state()
        for batch in iterate_batches(data, batch_size, steps):
            self.update_state(batch)
        self.finalize_state()

    # -- lookup -------------------------------------------------------------------------------------------
    def _lookup_tables(self) -> dict:
        """The vocabulary as arrays (built once per vocabulary): tokens in index order, and for integers a dense
        ``value - low -> index`` table (a compact range of values) or the sorted tokens with their indices, which
        ``searchsorted`` looks up."""
        if getattr(self, "_arrays", None) is None:
            start = self._token_start_index()
            tokens = np.empty(len(self._tokens), dtype=object) if self._is_string else np.array(
                self._tokens, dtype=np.int64).reshape(-1)
            if self._is_string:
                tokens[:] = self._tokens
            self._arrays = {"tokens": tokens}
            if not self._is_string and tokens.size:
                low, span = int(tokens.min()), int(tokens.max()) - int(tokens.min()) + 1
                if span <= max(1 << 16, 8 * tokens.size):  # a dense table: one gather per lookup
                    dense = np.full(span, -1, dtype=np.int64)
                    dense[tokens - low] = np.arange(start, start + tokens.size)
                    self._arrays.update(dense=dense, low=low)
                else:
                    order = np.argsort(tokens, kind="stable")
                    self._arrays.update(sorted=tokens[order], sorted_ids=order.astype(np.int64) + start)
        return self._arrays

    def _lookup_flat(self, values: np.ndarray) -> np.ndarray:
        """Indices of a flat token array: one dict lookup a string (C-level ``map``), ``searchsorted`` for
        integers; unknown tokens hashed once per distinct token."""
        n = len(values)
        default = -1 if self.num_oov_indices != 1 else self._oov_start_index()
        if self._is_string:
            keys = values.tolist()
            out = np.fromiter(map(self._index.get, keys, itertools.repeat(default, n)), dtype=np.int64, count=n)
        else:
            out = self._integer_indices(values, default)
        if self.mask_token is not None:
            out[values == self._key(self.mask_token)] = 0 if self.output_mode == INT else _INT64_MAX
        if self.num_oov_indices == 0 and np.any(out == -1):
            missing = [self._public(k) for k in values[out == -1].tolist()]
            raise ValueError(f"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                             f"{missing[:10]}, consider setting `num_oov_indices=1`.")
        if self.num_oov_indices > 1:
            unknown = np.flatnonzero(out == -1)
            buckets = self.num_oov_indices
            if self._is_string:
                unknown_keys = values[unknown].tolist()
                table = {key: fingerprint64(key) % buckets for key in dict.fromkeys(unknown_keys)}
                hashed = np.fromiter(map(table.__getitem__, unknown_keys), dtype=np.int64, count=len(unknown_keys))
            else:
                hashed = np.mod(values[unknown], buckets)  # Python's (floor) modulo, as tf.math.floormod
            out[unknown] = hashed + self._oov_start_index()
        return out

    def _integer_indices(self, values: np.ndarray, default: int) -> np.ndarray:
        tables = self._lookup_tables()
        if "dense" in tables:
            dense, offsets = tables["dense"], values - tables["low"]
            inside = (offsets >= 0) & (offsets < dense.size)
            out = np.full(values.shape, -1, dtype=np.int64)
            out[inside] = dense[offsets[inside]]
        elif "sorted" in tables:
            known = tables["sorted"]
            position = np.minimum(np.searchsorted(known, values), known.size - 1)
            out = np.where(known[position] == values, tables["sorted_ids"][position], -1)
        else:
            out = np.full(values.shape, -1, dtype=np.int64)
        out[out == -1] = default
        return out

    def _invert_flat(self, ids: np.ndarray) -> np.ndarray:
        start = self._token_start_index()
        tokens = self._lookup_tables()["tokens"]
        oov = None if self.oov_token is None else self._key(self.oov_token)
        out = np.empty(ids.shape, dtype=object if self._is_string else np.int64)
        out[...] = oov
        inside = (ids >= start) & (ids < start + len(tokens))
        out[inside] = tokens[ids[inside] - start]
        if self.mask_token is not None:
            out[ids == 0] = self._key(self.mask_token)
        return out

    def _lookup_array(self, arr: np.ndarray) -> np.ndarray:
        flat = arr.reshape(-1)
        if self.invert:
            if flat.dtype.kind not in "iu":
                raise TypeError(f'Layer "{self.name}" with invert=True expects integer indices. Received dtype '
                                f"{flat.dtype}")
            return self._invert_flat(flat).reshape(arr.shape)
        return self._lookup_flat(self._flat_values(flat)).reshape(arr.shape)

    def _ensure_known_vocab_size(self) -> None:
        if self.output_mode == INT or self.pad_to_max_tokens:
            return
        if self._frozen_vocab_size is None:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you must "
                               "set the layer's vocabulary before calling it. Either pass a `vocabulary` argument to "
                               "the layer, or call `adapt` with some sample data.")

    def call(self, inputs):
        self._ensure_known_vocab_size()
        self._called = True
        if isinstance(inputs, RaggedTensor):
            looked_up = inputs.with_flat_values(self._lookup_array(inputs.flat_values.value))
            if self.output_mode == INT:
                return looked_up if self.invert else looked_up.with_flat_values(
                    looked_up.flat_values.value.astype(self.dtype))
            ids = looked_up.to_tensor(default_value=_INT64_MAX).value
        else:
            arr = inputs.value if isinstance(inputs, Tensor) else np.asarray(inputs)
            ids = self._lookup_array(arr)
            if self.invert:
                return Tensor(ids)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        idf = None
        if self.output_mode == TF_IDF:  # zeros until set (a model rebuilt from its config, before its weights load)
            idf = self.idf_weights if self.idf_weights is not None else np.zeros(depth, self.dtype)
        return encode_categorical(ids, self.output_mode, depth, self.dtype, idf_weights=idf)

    def compute_output_shape(self, input_shape):
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return categorical_output_shape(tuple(input_shape), self.output_mode, depth)

    # -- saving (see lookup_saving) ---------------------------------------------------------------------
    def save_own_variables(self, store) -> None:
        """The ``tf_idf`` weights (as Keras); a vocabulary the text asset cannot hold exactly, as numbers."""
        if self.output_mode == TF_IDF and self.idf_weights is not None:
            store["idf_weights"] = np.asarray(self.idf_weights)
        store.update(lookup_saving.exact_vocabulary_arrays(self))

    def load_own_variables(self, store) -> None:
        tokens = lookup_saving.tokens_from_arrays(self, store)  # featherflow's numeric copy (older files too)
        if tokens is not None:
            self._set_tokens(tokens)
        if "idf_weights" in store:
            self.idf_weights = np.asarray(store["idf_weights"]).astype(self.dtype)

    def save_assets(self, dir_path) -> None:
        """Write the adapted vocabulary to ``dir_path/vocabulary.txt`` (Keras's asset; nothing for a vocabulary
        given to the layer, which its config holds)."""
        for name, data in self._asset_files().items():
            with open(os.path.join(dir_path, name), "wb") as handle:
                handle.write(data)

    def load_assets(self, dir_path) -> None:
        """Read the vocabulary ``save_assets`` wrote (or Keras did) in ``dir_path``."""
        path = os.path.join(dir_path, lookup_saving.VOCABULARY_FILE)
        if os.path.exists(path):
            with open(path, "rb") as handle:
                self._load_asset_files({lookup_saving.VOCABULARY_FILE: handle.read()})

    def _asset_files(self) -> dict:
        return lookup_saving.asset_files(self)

    def _load_asset_files(self, files: dict) -> None:
        lookup_saving.load_asset_files(self, files)

    def _legacy_state_weights(self) -> list:
        return [lookup_saving.IdfWeights(self)] if self.output_mode == TF_IDF else []

    def get_config(self):
        config = super().get_config()
        vocabulary, idf_weights = lookup_saving.config_vocabulary(self)
        config.update(
            invert=self.invert, max_tokens=self.max_tokens, num_oov_indices=self.num_oov_indices,
            oov_token=_plain(self.oov_token), mask_token=_plain(self.mask_token), output_mode=self.output_mode,
            sparse=self.sparse, pad_to_max_tokens=self.pad_to_max_tokens, vocabulary_dtype=self.vocabulary_dtype,
            idf_weights=idf_weights, vocabulary=vocabulary, vocabulary_size=self._frozen_vocab_size,
        )
        return config


def _plain(value):
    return int(value) if isinstance(value, np.integer) else value


def _listify(value):
    if value is None:
        return None
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    out = np.asarray(value, dtype=object).tolist() if not isinstance(value, (list, tuple)) else list(value)
    return [v.decode("utf-8") if isinstance(v, bytes) else _plain(v) for v in out]
