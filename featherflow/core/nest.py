"""``tf.nest``: flatten and rebuild nested structures of lists, tuples, named tuples and dicts.

As in TensorFlow: lists, tuples (named tuples and their type kept), dicts and other mappings are structure
(mappings flattened in sorted key order, rebuilt in the original key order); everything else, ``None`` and
strings included, is a leaf. (``tf.data`` treats lists as values instead: ``featherflow.data.structure``.)

>>> flatten({"b": [1, 2], "a": (3, None)})
[3, None, 1, 2]
>>> pack_sequence_as({"b": [0, 0], "a": (0, 0)}, [30, 40, 10, 20])
{'b': [10, 20], 'a': (30, 40)}
"""

from __future__ import annotations

import collections.abc as _abc


def is_nested(seq) -> bool:
    """True for the containers ``tf.nest`` descends into (lists, tuples, mappings).

    >>> is_nested([1]), is_nested("ab"), is_nested(None)
    (True, False, False)
    """
    return isinstance(seq, (list, tuple, _abc.Mapping)) and not isinstance(seq, (str, bytes))


def _is_namedtuple(value) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _sorted_keys(mapping):
    try:
        return sorted(mapping)
    except TypeError:
        raise TypeError(f"nest only supports dicts with sortable keys. Received keys: {list(mapping)!r}") from None


def _children(value):
    if isinstance(value, _abc.Mapping):
        return [value[k] for k in _sorted_keys(value)]
    return list(value)


def flatten(structure, expand_composites=False) -> list:
    """The leaves of ``structure``, depth first (mappings by sorted key).

    >>> flatten([1, (2, [3])])
    [1, 2, 3]
    """
    if not is_nested(structure):
        return [structure]
    out = []
    for child in _children(structure):
        out.extend(flatten(child))
    return out


def flatten_into(structure, out: list) -> list:
    """The leaves of the lists, tuples and dicts in ``structure`` appended to ``out`` (dicts by the ``repr`` of
    their keys, so mixed key types work): the fast form ``GradientTape`` and ``tf.function`` use on every call.

    >>> flatten_into({"b": 1, "a": [2, (3,)]}, [0])
    [0, 2, 3, 1]
    """
    if isinstance(structure, dict):
        for key in sorted(structure, key=repr):
            flatten_into(structure[key], out)
    elif isinstance(structure, (list, tuple)):
        for item in structure:
            flatten_into(item, out)
    else:
        out.append(structure)
    return out


def pack_from(structure, leaves):
    """``structure`` rebuilt with the next items of the iterator ``leaves`` in place of its leaves, in
    ``flatten_into``'s order (named tuples keep their type, dicts their key order).

    >>> pack_from({"b": 0, "a": [0, (0,)]}, iter([2, 3, 1]))
    {'b': 1, 'a': [2, (3,)]}
    """
    if isinstance(structure, dict):
        packed = {key: pack_from(structure[key], leaves) for key in sorted(structure, key=repr)}
        return {key: packed[key] for key in structure}
    if isinstance(structure, (list, tuple)):
        items = [pack_from(item, leaves) for item in structure]
        if isinstance(structure, list):
            return items
        return type(structure)(*items) if hasattr(structure, "_fields") else type(structure)(items)
    return next(leaves)


def _rebuild(structure, children):
    if isinstance(structure, _abc.Mapping):
        keyed = dict(zip(_sorted_keys(structure), children))
        items = [(k, keyed[k]) for k in structure]
        try:
            return type(structure)(items)
        except TypeError:
            return dict(items)
    if _is_namedtuple(structure):
        return type(structure)(*children)
    if isinstance(structure, tuple):
        return tuple(children)
    return list(children)


def _pack(structure, leaves, position):
    if not is_nested(structure):
        return leaves[position], position + 1
    children = []
    for child in _children(structure):
        packed, position = _pack(child, leaves, position)
        children.append(packed)
    return _rebuild(structure, children), position


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """``structure`` rebuilt with the values of ``flat_sequence`` as its leaves.

    >>> pack_sequence_as((0, [0, 0]), [1, 2, 3])
    (1, [2, 3])
    """
    flat = list(flat_sequence)
    expected = len(flatten(structure))
    if len(flat) != expected:
        raise ValueError(f"Could not pack sequence. Structure had {expected} atoms, but flat_sequence had "
                         f"{len(flat)} items. Structure: {structure!r:.120}, flat_sequence: {flat!r:.120}.")
    packed, _ = _pack(structure, flat, 0)
    return packed


def _kind(value):
    if isinstance(value, _abc.Mapping):
        return "mapping"
    if _is_namedtuple(value):
        return type(value)
    if isinstance(value, tuple):
        return tuple
    return list


def _check(a, b, check_types, path):
    if is_nested(a) != is_nested(b):
        raise ValueError(f"The two structures don't have the same nested structure{path}.\n\nFirst structure: "
                         f"{a!r:.120}\n\nSecond structure: {b!r:.120}")
    if not is_nested(a):
        return
    if check_types and _kind(a) != _kind(b):
        raise TypeError(f"The two structures don't have the same sequence type{path}. First structure has type "
                        f"{type(a).__name__}, while second structure has type {type(b).__name__}.")
    if isinstance(a, _abc.Mapping) and _sorted_keys(a) != _sorted_keys(b):
        raise ValueError(f"The two dictionaries don't have the same set of keys{path}. First structure has keys "
                         f"{_sorted_keys(a)}, while second structure has keys {_sorted_keys(b)}.")
    ca, cb = _children(a), _children(b)
    if len(ca) != len(cb):
        raise ValueError(f"The two structures don't have the same number of elements{path}. First structure: "
                         f"{a!r:.120}, second structure: {b!r:.120}.")
    for i, (x, y) in enumerate(zip(ca, cb)):
        _check(x, y, check_types, f"{path}[{i}]" if path else f" at [{i}]")


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False) -> None:
    """Raise ``ValueError`` (``TypeError`` for different sequence types when ``check_types``) unless both
    structures nest the same way.

    >>> assert_same_structure([1, (2, 3)], ["a", ("b", "c")])
    """
    _check(nest1, nest2, check_types, "")


def map_structure(func, *structure, **kwargs):
    """Apply ``func`` to the corresponding leaves of one or more structures; the result has their structure.

    >>> map_structure(lambda a, b: a + b, (1, [2]), (10, [20]))
    (11, [22])
    """
    if not structure:
        raise ValueError("map_structure: expected at least one structure.")
    check_types = kwargs.pop("check_types", True)
    kwargs.pop("expand_composites", None)
    if kwargs:
        raise ValueError(f"map_structure: only `check_types` and `expand_composites` are valid keyword arguments. "
                         f"Received: {sorted(kwargs)}")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    leaves = [flatten(s) for s in structure]
    return pack_sequence_as(structure[0], [func(*args) for args in zip(*leaves)])
