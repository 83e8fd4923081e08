"""``tf.lookup``: hash tables from keys to values, their initializers, and the mutable tables of
``tf.lookup.experimental``.

Keys are int32/int64 or strings (bytes), values any dtype of a fixed shape. A lookup maps a tensor of keys
to a tensor of the same shape (plus the value shape) with ``default_value`` for missing keys. Tables are
Python dicts: a lookup is one dict access per key.

>>> import featherflow as tf
>>> table = StaticHashTable(KeyValueTensorInitializer(["a", "b"], [1, 2]), default_value=-1)
>>> table.lookup(tf.constant(["b", "z"])).numpy()
array([ 2, -1], dtype=int32)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.dtypes import as_dtype
from featherflow.core.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from featherflow.core.tensor import Tensor, convert_to_tensor
from featherflow.core.tensor_spec import STRING


def _tensor(value, dtype=None) -> np.ndarray:
    if isinstance(value, Tensor):
        array = np.asarray(value.value)
        return array if dtype is None or array.dtype == dtype else array.astype(dtype)
    return np.asarray(convert_to_tensor(value, dtype=dtype).value)


def _dtype_name(dtype) -> str:
    return f"<dtype: '{'string' if np.dtype(dtype) == STRING else np.dtype(dtype).name}'>"


def _key(item):
    return item if isinstance(item, bytes) else item.item() if hasattr(item, "item") else item


class KeyValueTensorInitializer:
    """Table contents from a tensor of keys and a tensor of values (one value per key).

    Args:
        keys, values: tensors or lists of the same length.
        key_dtype, value_dtype: their dtypes (inferred when ``None``: int32 for Python ints, as TensorFlow).
    """

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name=None):
        self._keys = _tensor(keys, None if key_dtype is None else as_dtype(key_dtype))
        self._values = _tensor(values, None if value_dtype is None else as_dtype(value_dtype))
        self.key_dtype, self.value_dtype = self._keys.dtype, self._values.dtype
        self._name = name

    def _contents(self) -> tuple:
        keys, values = self._keys.reshape(-1), self._values
        if len(values) != len(keys):
            raise InvalidArgumentError(None, None, f"Expected shape [{len(keys)}] for value, got "
                                                   f"{list(values.shape)}")
        return keys, values


class TextFileIndex:
    """Special column indices of ``TextFileInitializer``: the whole line, or the line number."""

    WHOLE_LINE = -2
    LINE_NUMBER = -1


class TextFileInitializer:
    """Table contents from a text file, one entry per line.

    Args:
        filename: the file.
        key_dtype, value_dtype: the dtypes of keys and values (string, or int64 / floats parsed from the text).
        key_index, value_index: the column of each (split at ``delimiter``), or ``TextFileIndex.WHOLE_LINE``
            (-2) / ``TextFileIndex.LINE_NUMBER`` (-1).
        vocab_size: read only this many lines (the file must have at least as many).
        delimiter: the column separator.
        value_index_offset: added to line numbers used as values.
    """

    def __init__(self, filename, key_dtype, key_index, value_dtype, value_index, vocab_size=None, delimiter="\t",
                 name=None, value_index_offset=0):
        self._filename = filename.numpy().item() if isinstance(filename, Tensor) else filename
        if isinstance(self._filename, bytes):
            self._filename = self._filename.decode("utf-8")
        self.key_dtype, self.value_dtype = as_dtype(key_dtype), as_dtype(value_dtype)
        for index, dtype, role in ((key_index, self.key_dtype, "key"), (value_index, self.value_dtype, "value")):
            if index < -2:
                raise ValueError(f"Invalid {role}_index {index}.")
            if index == TextFileIndex.LINE_NUMBER and dtype.kind not in "iu":
                raise ValueError(f"Signature mismatch. {role.capitalize()}s must be dtype int64, got "
                                 f"{_dtype_name(dtype)}.")
            if index == TextFileIndex.WHOLE_LINE and dtype != STRING and dtype.kind not in "iuf":
                raise ValueError(f"Signature mismatch. {role.capitalize()}s must be dtype string, got "
                                 f"{_dtype_name(dtype)}.")
        if vocab_size is not None and vocab_size <= 0:
            raise ValueError(f"Invalid vocab_size {vocab_size}.")
        self._key_index, self._value_index = key_index, value_index
        self._vocab_size, self._delimiter, self._offset = vocab_size, delimiter, value_index_offset

    def _column(self, line: bytes, number: int, index: int, dtype):
        if index == TextFileIndex.LINE_NUMBER:
            return number + (self._offset if dtype is self.value_dtype else 0)
        text = line
        if index >= 0:
            columns = line.split(self._delimiter.encode("utf-8"))
            if index >= len(columns):
                raise InvalidArgumentError(None, None, f"Invalid number of columns in {self._filename} line {number} "
                                                       f"({line.decode('utf-8', 'replace')}) : expected at least "
                                                       f"{index + 1} got {len(columns)}")
            text = columns[index]
        if dtype == STRING:
            return text
        try:
            return int(text) if dtype.kind in "iu" else float(text)
        except ValueError:
            raise InvalidArgumentError(None, None, f"Field {text.decode('utf-8', 'replace')} in line {number} is "
                                                   f"not a valid {dtype.name}.") from None

    def _contents(self) -> tuple:
        try:
            with open(self._filename, "rb") as f:
                lines = [line.rstrip(b"\n").rstrip(b"\r") for line in f]
        except FileNotFoundError:
            raise NotFoundError(None, None, f"{self._filename}; No such file or directory") from None
        if self._vocab_size is not None:
            if len(lines) < self._vocab_size:
                raise InvalidArgumentError(None, None, f"Invalid vocab_size in {self._filename}: expected "
                                                       f"{self._vocab_size} but got {len(lines)}")
            lines = lines[:self._vocab_size]
        keys = [self._column(line, n, self._key_index, self.key_dtype) for n, line in enumerate(lines)]
        values = [self._column(line, n, self._value_index, self.value_dtype) for n, line in enumerate(lines)]
        key_array = np.empty(len(keys), dtype=self.key_dtype)
        key_array[:] = keys
        value_array = np.empty(len(values), dtype=self.value_dtype)
        value_array[:] = values
        return key_array, value_array


class _Table:
    """What every table shares: its dtypes, key checks, lookups through a dict, ``size`` and ``export``."""

    def __init__(self, key_dtype, value_dtype, default_value, name):
        self._key_dtype, self._value_dtype = as_dtype(key_dtype), as_dtype(value_dtype)
        self._name = name
        self._default = None if default_value is None else self._values(default_value, "default_value")
        self._entries: dict = {}

    key_dtype = property(lambda self: self._key_dtype)
    value_dtype = property(lambda self: self._value_dtype)
    name = property(lambda self: self._name)

    @property
    def resource_handle(self):
        return self  # featherflow tables are Python objects: the table is its own handle

    def _keys(self, keys) -> np.ndarray:
        if isinstance(keys, Tensor):
            array = np.asarray(keys.value)
            if array.dtype != self._key_dtype and not (self._key_dtype == STRING and array.dtype == object):
                raise TypeError(f"Dtype of argument `keys` must be {_dtype_name(self._key_dtype)}, received: "
                                f"{_dtype_name(array.dtype)}")
            return array
        return _tensor(keys, self._key_dtype)

    def _values(self, values, arg="values") -> np.ndarray:
        array = _tensor(values)
        if array.dtype != self._value_dtype:
            if self._value_dtype == STRING or array.dtype == STRING or (
                    array.dtype.kind == "f" and self._value_dtype.kind in "iu" and np.any(array != np.round(array))):
                raise TypeError(f"Cannot convert {array.tolist()!r} to EagerTensor of dtype "
                                f"{self._value_dtype.name}")
            array = array.astype(self._value_dtype)
        return array

    def size(self, name=None) -> Tensor:
        """The number of entries (an int64 scalar)."""
        return Tensor(np.asarray(len(self._entries), dtype=np.int64))

    def export(self, name=None) -> tuple:
        """``(keys, values)`` tensors of every entry."""
        keys = np.empty(len(self._entries), dtype=self._key_dtype)
        keys[:] = list(self._entries)
        shape = () if self._default is None else self._default.shape
        values = np.empty((len(self._entries), *shape), dtype=self._value_dtype)
        for i, value in enumerate(self._entries.values()):
            values[i] = value
        return Tensor(keys), Tensor(values)

    def _find(self, keys, defaults=None) -> Tensor:
        keys = self._keys(keys)
        shape = self._default.shape
        out = np.empty((*keys.shape, *shape), dtype=self._value_dtype)
        flat_out = out.reshape(keys.size, *shape)
        flat_defaults = None if defaults is None else self._values(defaults).reshape(keys.size, *shape)
        entries = self._entries
        for i, key in enumerate(keys.reshape(-1).tolist()):
            value = entries.get(key)
            if value is None:
                value = self._default if flat_defaults is None else flat_defaults[i]
            flat_out[i] = value
        return Tensor(out)

    def lookup(self, keys, name=None) -> Tensor:
        """The value of each key (``default_value`` for missing ones), shaped as ``keys``."""
        return self._find(keys)

    def __getitem__(self, keys) -> Tensor:
        return self.lookup(keys)


class StaticHashTable(_Table):
    """An immutable table filled once from an initializer.

    Args:
        initializer: a ``KeyValueTensorInitializer`` or ``TextFileInitializer``.
        default_value: the value of missing keys (its dtype must fit the values').
    """

    def __init__(self, initializer, default_value, name=None, experimental_is_anonymous=False):
        super().__init__(initializer.key_dtype, initializer.value_dtype, default_value, name)
        keys, values = initializer._contents()
        entries = self._entries
        for key, value in zip(keys.tolist(), values):
            if key in entries and not np.array_equal(entries[key], value):
                shown = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
                raise FailedPreconditionError(None, None, f"HashTable has different value for same key. Key {shown} "
                                                          f"has {entries[key]} and trying to add value {value}")
            entries[key] = value
        self._initializer = initializer

    default_value = property(lambda self: Tensor(self._default))


class StaticVocabularyTable(_Table):
    """A vocabulary table (int64 ids) whose out-of-vocabulary keys go to ``num_oov_buckets`` extra ids:
    ``vocab_size + hash(key) % num_oov_buckets`` with TensorFlow's hash (Fingerprint64 of the key, of its
    decimal text for integer keys), so ids match TensorFlow's.

    Args:
        initializer: contents mapping keys to int64 ids.
        num_oov_buckets: the number of extra ids (> 0).
        lookup_key_dtype: the dtype of the keys looked up (the initializer's by default).
    """

    def __init__(self, initializer, num_oov_buckets, lookup_key_dtype=None, name=None,
                 experimental_is_anonymous=False):
        if num_oov_buckets <= 0:
            raise ValueError("`num_oov_buckets` must be > 0; use StaticHashTable.")
        if initializer.value_dtype != np.int64:
            raise TypeError(f"Invalid `value_dtype`, expected <dtype: 'int64'> but got "
                            f"{_dtype_name(initializer.value_dtype)}.")
        table = StaticHashTable(initializer, -1)
        super().__init__(lookup_key_dtype or initializer.key_dtype, np.int64, -1, name)
        self._entries = table._entries
        self._vocab_size = len(table._entries)
        self._buckets = int(num_oov_buckets)

    def size(self, name=None) -> Tensor:
        """The number of ids: the vocabulary plus the OOV buckets."""
        return Tensor(np.asarray(self._vocab_size + self._buckets, dtype=np.int64))

    def lookup(self, keys, name=None) -> Tensor:
        from featherflow.strings._hash import fingerprint64

        keys = self._keys(keys)
        out = np.empty(keys.shape, dtype=np.int64)
        flat = out.reshape(-1)
        for i, key in enumerate(keys.reshape(-1).tolist()):
            value = self._entries.get(key)
            if value is None:
                text = key if isinstance(key, bytes) else str(key).encode("ascii")
                value = self._vocab_size + fingerprint64(text) % self._buckets
            flat[i] = value
        return Tensor(out)



class MutableHashTable(_Table):
    """A table whose entries are inserted and removed after creation.

    Args:
        key_dtype, value_dtype: the dtypes.
        default_value: the value of missing keys; its shape is the value shape (vectors are allowed).
        checkpoint: accepted for compatibility.
    """

    def __init__(self, key_dtype, value_dtype, default_value, name="MutableHashTable", checkpoint=True,
                 experimental_is_anonymous=False):
        super().__init__(key_dtype, value_dtype, default_value, name)

    def _pairs(self, keys, values) -> tuple:
        keys = self._keys(keys).reshape(-1)
        values = self._values(values).reshape(len(keys), *self._default.shape)
        return keys, values

    def _check_key(self, key) -> None:
        """A key the table refuses (DenseHashTable's empty and deleted keys)."""

    def insert(self, keys, values, name=None) -> None:
        """Add or replace entries."""
        keys, values = self._pairs(keys, values)
        for key, value in zip(keys.tolist(), values):
            self._check_key(key)
            self._entries[key] = value.copy()

    def insert_or_assign(self, keys, values, name=None) -> None:
        self.insert(keys, values)

    def remove(self, keys, name=None) -> None:
        """Delete entries (missing keys are ignored)."""
        for key in self._keys(keys).reshape(-1).tolist():
            self._check_key(key)
            self._entries.pop(key, None)

    def lookup(self, keys, dynamic_default_values=None, name=None) -> Tensor:
        """The value of each key; ``dynamic_default_values`` gives a default per key."""
        return self._find(keys, dynamic_default_values)


class DenseHashTable(MutableHashTable):
    """A mutable table with TensorFlow's reserved ``empty_key`` and ``deleted_key`` (which may not be used as
    keys); featherflow's storage is a dict, so ``initial_num_buckets`` only records the request.

    Args:
        key_dtype, value_dtype, default_value: as ``MutableHashTable``.
        empty_key, deleted_key: two different keys reserved by the table.
        initial_num_buckets: accepted for compatibility.
    """

    def __init__(self, key_dtype, value_dtype, default_value, empty_key, deleted_key, initial_num_buckets=None,
                 name="MutableDenseHashTable", checkpoint=True, experimental_is_anonymous=False):
        super().__init__(key_dtype, value_dtype, default_value, name)
        self._empty, self._deleted = _key(self._keys(empty_key)), _key(self._keys(deleted_key))
        if self._empty == self._deleted:
            raise InvalidArgumentError(None, None, "Empty and deleted keys cannot be equal")

    def _check_key(self, key) -> None:
        if key == self._empty:
            raise InvalidArgumentError(None, None, "Using the empty_key as a table key is not allowed")
        if key == self._deleted:
            raise InvalidArgumentError(None, None, "Using the deleted_key as a table key is not allowed")

    def lookup(self, keys, name=None) -> Tensor:
        for key in self._keys(keys).reshape(-1).tolist():
            self._check_key(key)
        return self._find(keys)

    def erase(self, keys, name=None) -> None:
        """``remove``."""
        self.remove(keys)
