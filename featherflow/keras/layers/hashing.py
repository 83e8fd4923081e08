"""``Hashing`` and ``HashedCrossing``: categorical features into a fixed number of bins by hashing.

Both compute TensorFlow's hashes bit for bit (``featherflow/strings/_hash.py``): ``Hashing`` bins a value by
FarmHash ``Fingerprint64`` of its string form (SipHash-2-4 keyed by ``salt`` when one is given);
``HashedCrossing`` bins a combination of features by ``tf.sparse.cross_hashed``'s fingerprint concatenation.

>>> from featherflow import keras
>>> keras.layers.Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).numpy().ravel()
array([1, 0, 1, 1, 2])
>>> keras.layers.HashedCrossing(num_bins=5)((["A", "B", "A", "B", "A"], [101, 101, 101, 102, 102])).numpy()
array([1, 4, 1, 1, 3])
"""

from __future__ import annotations

import functools

import numpy as np

from featherflow.backend.arrays import floatx
from featherflow.core import Tensor
from featherflow.core.ragged import RaggedTensor
from featherflow.core.string_tensor import to_string_array
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.index_lookup import (
    COUNT,
    INT,
    MULTI_HOT,
    ONE_HOT,
    TextInputLayer,
    as_input_array,
    categorical_output_shape,
    encode_categorical,
    validate_string_arg,
)
from featherflow.ops._host import on_host
from featherflow.strings import _hash
from featherflow.strings.hashing import fingerprint64

_CROSS_HASH_KEY = 0xDECAFCAFFE  # tf.sparse.cross_hashed's default hash_key
_MASK64 = (1 << 64) - 1


def _output_dtype(kwargs, output_mode):
    if kwargs.get("dtype") is None:
        kwargs["dtype"] = "int64" if output_mode == INT else floatx()
    elif output_mode == INT and np.dtype(kwargs["dtype"]).kind not in "iu":
        kwargs["dtype"] = "int64"


class Hashing(TextInputLayer):
    """Hash strings or integers into ``num_bins`` bins (``Fingerprint64(str(value)) % num_bins``).

    Args:
        num_bins: number of bins; with ``mask_value``, bin 0 is the mask's and the others share ``num_bins - 1``.
        mask_value: a value that maps to bin 0.
        salt: an int or a pair of ints: use SipHash-2-4 with this key (the "strong" hash) instead.
        output_mode: ``"int"`` (default), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: not supported (dense outputs only).

    Input: strings or integers of any shape; output: int64 bins of the same shape (or the encoding).
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if num_bins is None or num_bins <= 0:
            raise ValueError(f"The `num_bins` for `Hashing` cannot be `None` or non-positive values. Received: "
                             f"num_bins={num_bins}.")
        _output_dtype(kwargs, output_mode)
        super().__init__(**kwargs)
        validate_string_arg(output_mode, (INT, ONE_HOT, MULTI_HOT, COUNT), type(self).__name__, "output_mode")
        if sparse:
            raise ValueError("`sparse=True` is not supported by featherflow's Hashing: outputs are dense arrays.")
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = False
        self.salt = None
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                self.salt = list(salt)
            elif isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
                self.salt = [int(salt), int(salt)]
            else:
                raise ValueError(f"The `salt` argument for `Hashing` can only be a tuple of size 2 integers, or a "
                                 f"single integer. Received: salt={salt}.")
        key = None if self.salt is None else (int(self.salt[0]) & _MASK64, int(self.salt[1]) & _MASK64)
        self._hash = fingerprint64 if key is None else functools.lru_cache(maxsize=1 << 16)(
            lambda s: _hash.siphash24(key, s))

    def _bins(self, values: np.ndarray) -> np.ndarray:
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask_value = self.mask_value.encode() if isinstance(self.mask_value, str) else self.mask_value
            mask = values == mask_value
        # each distinct value is hashed once; the bins reach every element by one gather
        if values.dtype.kind in "iub":
            distinct, inverse = np.unique(values.reshape(-1), return_inverse=True)
            hashed = np.fromiter((self._hash(str(int(v)).encode()) % bins for v in distinct.tolist()),
                                 dtype=np.int64, count=len(distinct))
            out = hashed[inverse].reshape(values.shape)
        else:
            strings = to_string_array(values)
            if strings is None:
                raise TypeError(f'Layer "{self.name}" hashes strings or integers. Received dtype {values.dtype}')
            keys = strings.reshape(-1).tolist()
            table = {key: self._hash(key) % bins for key in dict.fromkeys(keys)}
            out = np.fromiter(map(table.__getitem__, keys), dtype=np.int64, count=len(keys)).reshape(values.shape)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def call(self, inputs):
        if isinstance(inputs, RaggedTensor):
            hashed = inputs.with_flat_values(self._bins(inputs.flat_values.value))
            if self.output_mode == INT:
                return hashed.with_flat_values(hashed.flat_values.value.astype(self.dtype))
            ids = hashed.to_tensor(default_value=np.iinfo(np.int64).max).value
        else:
            ids = self._bins(np.asarray(inputs.value))
        return encode_categorical(ids, self.output_mode, self.num_bins, self.dtype)

    def compute_output_shape(self, input_shape):
        return categorical_output_shape(tuple(input_shape), self.output_mode, self.num_bins)

    def get_config(self):
        config = super().get_config()
        config.update(num_bins=self.num_bins, salt=self.salt, mask_value=self.mask_value,
                      output_mode=self.output_mode, sparse=self.sparse)
        return config


class HashedCrossing(Layer):
    """Cross categorical features by hashing their combination into ``num_bins`` bins
    (``tf.sparse.cross_hashed``: fingerprints of string features and the values of integer features
    concatenated with ``FingerprintCat64``).

    Args:
        num_bins: number of bins.
        output_mode: ``"int"`` (default) or ``"one_hot"``.
        sparse: not supported.

    Call on a list/tuple of at least two features of one shape: ``()``, ``(batch,)`` or ``(batch, 1)``
    (strings or integers). Output: int64 bins of that shape (or its one-hot encoding).
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, **kwargs):
        _output_dtype(kwargs, output_mode)
        super().__init__(**kwargs)
        if np.dtype(self.dtype).kind not in "iu" and output_mode == INT:
            raise ValueError(f"When `output_mode='int'`, `dtype` should be an integer type. Received: "
                             f"dtype={kwargs['dtype']}")
        validate_string_arg(output_mode, (INT, ONE_HOT), type(self).__name__, "output_mode")
        if sparse:
            raise ValueError("`sparse=True` is not supported by featherflow's HashedCrossing.")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = False

    def __call__(self, *args, **kwargs):
        if args and isinstance(args[0], (list, tuple)):  # each feature is one input (lists of strings included)
            features = [x if isinstance(x, Tensor) or not isinstance(x, (list, tuple, np.ndarray, str, bytes))
                        else Tensor(as_input_array(x)) for x in args[0]]
            args = (type(args[0])(features),) + args[1:]
        return super().__call__(*args, **kwargs)

    def _convert_input(self, x):
        if x is None or isinstance(x, Tensor):
            return x
        return Tensor(as_input_array(x))

    def _keeps_int_inputs(self) -> bool:
        return True

    def _check_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"`HashedCrossing` should be called on a list or tuple of inputs. Received: "
                             f"inputs={inputs}")
        if len(inputs) < 2:
            raise ValueError(f"`HashedCrossing` should be called on at least two inputs. Received: inputs={inputs}")

    def call(self, inputs):
        self._check_inputs(inputs)
        # the hashes are computed in Python from the values: inside a tf.function, one host call on the real
        # features, run again at every call of the compiled program (the output is not differentiable)
        return Tensor(on_host(self._crossed, *[x.value if isinstance(x, Tensor) else x for x in inputs]))

    def _crossed(self, *features) -> np.ndarray:
        arrays = []
        for x in features:
            strings = to_string_array(x) if isinstance(x, np.ndarray) and x.dtype.kind in "OUS" else None
            arrays.append(np.asarray(x) if strings is None else strings)  # str objects as bytes, as given eagerly
        shape = arrays[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(f"All `HashedCrossing` inputs should have shape `[]`, `[batch_size]` or "
                             f"`[batch_size, 1]`. Received: shapes={[a.shape for a in arrays]}")
        if any(a.shape != shape for a in arrays[1:]):
            raise ValueError(f"All `HashedCrossing` inputs should have equal shape. Received: "
                             f"shapes={[a.shape for a in arrays]}")
        if any(a.dtype.kind not in "iuO" for a in arrays):
            raise ValueError(f"All `HashedCrossing` inputs should have an integer or string dtype. Received: "
                             f"dtypes={[x.dtype for x in arrays]}")
        # each distinct combination of the features is hashed once; the bins reach every row by one lookup
        rows = list(zip(*(a.reshape(-1).tolist() for a in arrays)))
        table = {row: self._cross(row, arrays) for row in dict.fromkeys(rows)}
        out = np.fromiter(map(table.__getitem__, rows), dtype=np.int64, count=len(rows))
        return encode_categorical(out.reshape(shape), self.output_mode, self.num_bins, self.dtype).value

    def _cross(self, row, arrays) -> int:
        hashed = _CROSS_HASH_KEY
        for value, a in zip(row, arrays):
            hashed = _hash.fingerprint_cat64(hashed, int(value) & _MASK64 if a.dtype.kind in "iu" else fingerprint64(value))
        return hashed % self.num_bins

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        return categorical_output_shape(tuple(input_shape[0]), self.output_mode, self.num_bins)

    def get_config(self):
        config = super().get_config()
        config.update(num_bins=self.num_bins, output_mode=self.output_mode, sparse=self.sparse)
        return config
