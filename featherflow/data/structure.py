"""Nested elements of ``tf.data``: tuples, named tuples and dicts of NumPy arrays, as TensorFlow nests them.

A dataset element is a leaf or a nest of tuples (named tuples included) and dicts; dicts are flattened in
sorted key order. Lists are values, not structure: ``[1, 2]`` is one tensor (a list returned by a ``map``
function becomes a tuple, as in TensorFlow). Inside the pipeline every leaf is a NumPy array (strings are
object arrays of ``bytes``, what TensorFlow's ``.numpy()`` gives); users see featherflow tensors.

>>> flatten({"b": 1, "a": (2, 3)})
[2, 3, 1]
>>> pack_as({"b": 0, "a": (0, 0)}, [2, 3, 1])
{'b': 1, 'a': (2, 3)}
"""

from __future__ import annotations

import numpy as np

from featherflow.core.tensor import Tensor, convert_to_tensor
from featherflow.core.tensor_spec import STRING, TensorSpec


def is_nest(value) -> bool:
    """True for the containers ``tf.data`` treats as structure (tuples, named tuples, dicts)."""
    return isinstance(value, (tuple, dict))


def _is_namedtuple(value) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def flatten(value) -> list:
    """The leaves of a nest, dicts in sorted key order."""
    if isinstance(value, tuple):
        out = []
        for item in value:
            out.extend(flatten(item))
        return out
    if isinstance(value, dict):
        out = []
        for key in sorted(value):
            out.extend(flatten(value[key]))
        return out
    return [value]


def pack_as(structure, leaves) -> object:
    """Rebuild ``structure`` with ``leaves`` (as returned by ``flatten``) in place of its leaves."""
    if type(structure) is tuple and len(leaves) == len(structure) and not any(
            isinstance(s, (tuple, dict)) for s in structure):
        return tuple(leaves)  # the common flat tuple, e.g. (x, y)
    it = iter(leaves)
    out = _pack(structure, it)
    return out


def _pack(structure, it):
    if isinstance(structure, tuple):
        items = [_pack(s, it) for s in structure]
        return type(structure)(*items) if _is_namedtuple(structure) else tuple(items)
    if isinstance(structure, dict):
        packed = {key: _pack(structure[key], it) for key in sorted(structure)}
        return {key: packed[key] for key in structure}  # the user's key order, as TensorFlow keeps it
    return next(it)


def map_structure(fn, *values):
    """``fn`` applied to the corresponding leaves of one or more nests of the same structure."""
    first = values[0]
    if len(values) == 1:
        return pack_as(first, [fn(leaf) for leaf in flatten(first)])
    for other in values[1:]:
        assert_same_structure(first, other)
    return pack_as(first, [fn(*leaves) for leaves in zip(*(flatten(v) for v in values))])


def structure_repr(value) -> str:
    """The nesting of ``value`` with its leaves shown as ``.`` (for error messages)."""
    return repr(pack_as(value, [_Dot()] * len(flatten(value))))


class _Dot:
    def __repr__(self) -> str:
        return "."


def same_structure(a, b) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(same_structure(x, y) for x, y in zip(a, b)))
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and sorted(a) == sorted(b)
                and all(same_structure(a[k], b[k]) for k in a))
    return True


def assert_same_structure(a, b, what: str = "The two structures") -> None:
    if not same_structure(a, b):
        raise ValueError(f"{what} don't have the same nested structure. First structure: {structure_repr(a)}, "
                         f"second structure: {structure_repr(b)}.")


# -- leaves ---------------------------------------------------------------------------------------------------
def _strings_to_objects(arr: np.ndarray) -> np.ndarray:
    """A ``U``/``S`` array as an object array of ``bytes`` (TensorFlow's string representation)."""
    out = np.empty(arr.shape, dtype=object)
    flat = out.reshape(-1)
    for i, item in enumerate(arr.reshape(-1).tolist()):
        flat[i] = item.encode("utf-8") if isinstance(item, str) else bytes(item)
    return out


def _object_leaf(arr: np.ndarray, what: str) -> np.ndarray:
    """An object array accepted only when it holds strings (as bytes)."""
    out = np.empty(arr.shape, dtype=object)
    flat = out.reshape(-1)
    for i, item in enumerate(arr.reshape(-1).tolist()):
        if isinstance(item, str):
            item = item.encode("utf-8")
        elif not isinstance(item, bytes):
            raise TypeError(f"Could not convert {what} to a tensor: expected numbers or strings, received an element "
                            f"of type {type(item).__name__}: {item!r:.80}. Received: {what} of dtype object")
        flat[i] = item
    return out


def to_array(value, what: str = "the value") -> np.ndarray:
    """One leaf as a NumPy array with TensorFlow's dtype rules (Python floats float32, ints int32,
    strings object arrays of bytes)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "US":
            return _strings_to_objects(value)
        if value.dtype.kind == "O":
            return _object_leaf(value, what)
        return value
    if isinstance(value, Tensor):
        return np.asarray(value)
    if isinstance(value, (str, bytes)):
        out = np.empty((), dtype=object)
        out[()] = value.encode("utf-8") if isinstance(value, str) else value
        return out
    if isinstance(value, np.generic):
        return np.asarray(value) if value.dtype.kind not in "US" else to_array(str(value), what)
    to_numpy = getattr(value, "to_numpy", None)  # pandas Series / DataFrame
    if to_numpy is not None and not isinstance(value, (list, tuple)):
        return to_array(np.asarray(to_numpy()), what)
    if isinstance(value, list) and _has_strings(value):
        arr = np.asarray(value, dtype=object)
        return _object_leaf(arr, what)
    try:
        return np.asarray(convert_to_tensor(value).value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"Could not convert {what} to a tensor. {exc}") from None


def _has_strings(value) -> bool:
    while isinstance(value, list) and value:
        value = value[0]
    return isinstance(value, (str, bytes))


def _numeric_array(value):
    """``value``'s array when it is a NumPy array or a tensor of numbers (the per-batch hot path), else None."""
    kind = type(value)
    if kind is Tensor:
        value = value.value
        kind = type(value)
    if kind is np.ndarray and value.dtype.kind not in "USO":
        return value
    return None


def normalize_element(value, what: str = "the element"):
    """A user element as a nest of NumPy arrays (lists become tensors; datasets stay as they are)."""
    from featherflow.data.dataset import Dataset

    arr = _numeric_array(value)
    if arr is not None:
        return arr
    if type(value) is tuple:
        return tuple([normalize_element(v, what) for v in value])
    if isinstance(value, tuple):
        items = [normalize_element(v, what) for v in value]
        return type(value)(*items) if _is_namedtuple(value) else tuple(items)
    if isinstance(value, dict):
        return {k: normalize_element(v, what) for k, v in value.items()}
    if isinstance(value, Dataset):
        return value
    return to_array(value, what)


def normalize_output(value, what: str = "the function's output"):
    """A function's return value as an element: a returned list becomes a tuple, as in TensorFlow."""
    if isinstance(value, list):
        value = tuple(value)
    return normalize_element(value, what)


def spec_of_leaf(leaf):
    """The spec of one leaf: a ``TensorSpec`` for arrays, the dataset's ``DatasetSpec`` for datasets."""
    from featherflow.data.dataset import Dataset, DatasetSpec

    if isinstance(leaf, Dataset):
        return DatasetSpec(leaf.element_spec)
    return TensorSpec(leaf.shape, leaf.dtype)


def spec_of(element):
    """The element spec (a nest of ``TensorSpec``) of one normalized element."""
    return pack_as(element, [spec_of_leaf(leaf) for leaf in flatten(element)])


def relax_specs(a, b):
    """The most specific nest of specs compatible with both ``a`` and ``b`` (``None`` when dtypes differ)."""
    leaves = []
    for x, y in zip(flatten(a), flatten(b)):
        if isinstance(x, TensorSpec) and isinstance(y, TensorSpec):
            out = x.most_specific_common_supertype([y])
        else:
            out = x if x == y else None
        if out is None:
            return None
        leaves.append(out)
    return pack_as(a, leaves)


def _leaf_to_tensor(leaf):
    return Tensor(leaf) if isinstance(leaf, np.ndarray) else leaf


def to_tensors(element):
    """An element as the user sees it: every array leaf wrapped in a featherflow ``Tensor``."""
    if type(element) is np.ndarray:
        return Tensor(element)
    if type(element) is tuple and all(type(leaf) is np.ndarray for leaf in element):
        return tuple([Tensor(leaf) for leaf in element])
    return map_structure(_leaf_to_tensor, element)


def _leaf_to_numpy(leaf):
    if isinstance(leaf, np.ndarray) and leaf.ndim == 0:
        return leaf[()]
    return leaf


def to_numpy_output(element):
    """An element as ``as_numpy_iterator`` returns it: arrays, NumPy scalars, ``bytes`` for scalar strings."""
    if isinstance(element, np.ndarray):
        return _leaf_to_numpy(element)
    return map_structure(_leaf_to_numpy, element)


def stand_in_for_spec(spec: TensorSpec, unknown: int, value: int) -> np.ndarray:
    """An array matching ``spec`` filled with ``value`` (0 or 1; ``b""``/``b"1"`` for strings), ``unknown``
    standing for each unknown size."""
    shape = tuple(unknown if d is None else d for d in spec.shape)
    if spec.dtype == STRING:
        out = np.empty(shape, dtype=object)
        out.fill(b"1" if value else b"")
        return out
    return np.full(shape, value, dtype=spec.dtype)
