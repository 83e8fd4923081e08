"""String tensors: NumPy object arrays of ``bytes``, as TensorFlow's ``tf.string`` tensors hold.

TensorFlow's strings are byte strings: ``tf.constant("héllo").numpy()`` is ``b'h\\xc3\\xa9llo'`` (UTF-8). A
featherflow string tensor is a ``Tensor`` over an object array whose elements are ``bytes``; ``str`` input
is encoded as UTF-8. ``featherflow.string`` is its dtype (NumPy's ``object``), and the name ``"string"``
is accepted wherever a dtype is (``keras.Input(shape=(1,), dtype="string")``).

>>> to_string_array(["a", b"b"])
array([b'a', b'b'], dtype=object)
>>> to_string_array([1.0, 2.0]) is None
True
"""

from __future__ import annotations

import numpy as np

STRING = np.dtype(object)
_STRING_NAMES = ("string", "str", "bytes", "tf.string")


def is_string_dtype(dtype) -> bool:
    """Whether ``dtype`` names a string dtype (``"string"``, ``str``, ``object``, NumPy ``U``/``S``)."""
    if dtype is None:
        return False
    if isinstance(dtype, str):
        if dtype.lower() in _STRING_NAMES or dtype.startswith(("str", "bytes")):  # NumPy's names: str64, bytes8
            return True
    elif dtype in (str, bytes):
        return True
    try:
        return np.dtype(dtype).kind in "OUS"
    except TypeError:
        return False


def _as_bytes(item):
    """``item`` as ``bytes`` (``str`` encoded as UTF-8; ``np.str_``/``np.bytes_`` are subclasses), else None."""
    if isinstance(item, bytes):
        return bytes(item)
    if isinstance(item, str):
        return item.encode("utf-8")
    return None


def _leaves_are_strings(value) -> bool:
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_leaves_are_strings(v) for v in value)
    return isinstance(value, (str, bytes))


def to_string_array(value):
    """``value`` as an object array of ``bytes`` when it holds strings only (str, bytes, nested lists of
    them, NumPy ``U``/``S`` arrays, object arrays of str/bytes); otherwise ``None``. An object array of
    ``bytes`` comes back as it is."""
    if isinstance(value, (str, bytes)):
        out = np.empty((), dtype=object)
        out[()] = _as_bytes(value)
        return out
    if isinstance(value, (list, tuple)):
        if not _leaves_are_strings(value):
            return None
        value = np.array(value, dtype=object)
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "OUS":
        return None
    items = value.reshape(-1).tolist()
    kinds = set(map(type, items))  # one C pass decides the conversion for the whole array
    if kinds <= {bytes} and value.dtype == object:
        return value  # already a string array (strings are immutable: no copy needed)
    if kinds <= {bytes}:
        encoded = items
    elif kinds <= {bytes, str}:
        encoded = [item if type(item) is bytes else item.encode("utf-8") for item in items]
    else:
        encoded = [_as_bytes(item) for item in items]
        if any(item is None for item in encoded):
            return None
    out = np.empty(len(encoded), dtype=object)
    out[:] = encoded
    return out.reshape(value.shape)
