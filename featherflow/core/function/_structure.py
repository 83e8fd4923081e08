"""Call arguments as ``tf.function`` sees them: a nested structure of leaves, a cache key, specs.

Tensors and NumPy arrays are keyed by shape and dtype (a new shape or dtype traces again), Variables by
identity, Python scalars and strings by value, other objects by equality (identity when unhashable), and
lists, tuples, dicts and namedtuples by their structure - TensorFlow's retracing rules.

>>> import numpy as np
>>> key_of([np.zeros((2, 3), "float32"), 1.5], {"training": True})
(('list', (('T', (2, 3), '<f4'), ('P', 'float', 1.5))), (('training', ('P', 'bool', True)),))
"""

from __future__ import annotations

import numpy as np

from featherflow.core.nest import flatten_into as flatten  # noqa: F401 (re-exported)
from featherflow.core.nest import pack_from as pack  # noqa: F401 (re-exported)
from featherflow.core.tensor import Tensor
from featherflow.core.tensor_spec import TensorSpec
from featherflow.core.variable import Variable


def is_input(leaf) -> bool:
    """True for the leaves that become program inputs: tensors (not variables), arrays and specs."""
    return (isinstance(leaf, (Tensor, np.ndarray, TensorSpec)) and not isinstance(leaf, Variable))


def _leaf_key(leaf):
    if isinstance(leaf, Variable):
        return ("V", id(leaf))
    if isinstance(leaf, (Tensor, np.ndarray)):
        return ("T", tuple(leaf.shape), leaf.dtype.str)
    if isinstance(leaf, TensorSpec):
        return ("T", None if leaf.shape is None else tuple(leaf.shape), leaf.dtype.str)
    if leaf is None or isinstance(leaf, (bool, int, float, complex, str, bytes)):
        return ("P", type(leaf).__name__, leaf)
    if isinstance(leaf, np.generic):
        return ("P", leaf.dtype.str, leaf.item())
    try:
        hash(leaf)
    except TypeError:
        return ("O", id(leaf))
    return ("O", leaf)


def key_of(structure, kwargs=None):
    """The cache key of a call's arguments (hashable)."""
    def key(value):
        if isinstance(value, dict):
            return ("dict", tuple((k, key(value[k])) for k in sorted(value, key=repr)))
        if isinstance(value, (list, tuple)):
            kind = type(value).__name__ if not hasattr(value, "_fields") else f"namedtuple:{type(value).__name__}"
            return (kind if isinstance(value, (list, tuple)) else "seq", tuple(key(v) for v in value))
        return _leaf_key(value)

    main = key(structure)
    if kwargs is None:
        return main
    return main, tuple((k, key(kwargs[k])) for k in sorted(kwargs))


def relaxed_key(key):
    """``key`` with every tensor shape replaced by its rank (``reduce_retracing``'s generalized signature)."""
    if isinstance(key, tuple) and len(key) == 3 and key[0] == "T":
        return ("T", None if key[1] is None else len(key[1]), key[2])
    if isinstance(key, tuple):
        return tuple(relaxed_key(k) for k in key)
    return key


def spec_of(leaf, name=None) -> TensorSpec:
    """The ``TensorSpec`` of a tensor, array or spec leaf."""
    if isinstance(leaf, TensorSpec):
        return leaf
    return TensorSpec(tuple(leaf.shape), leaf.dtype, name=name)
