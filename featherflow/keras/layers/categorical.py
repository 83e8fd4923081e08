"""Shared pieces of the preprocessing layers (lookups, hashing, discretization, text vectorization): the
output modes, argument validation, input conversion, ``adapt``'s batching, and the categorical encodings
(``int``, ``one_hot``, ``multi_hot``, ``count``, ``tf_idf``) of integer ids.

>>> import numpy as np
>>> encode_categorical(np.array([[1], [0]]), MULTI_HOT, 3, "float32").numpy()
array([[0., 1., 0.],
       [1., 0., 0.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.core import Tensor
from featherflow.core.ragged import RaggedTensor
from featherflow.core.string_tensor import to_string_array

INT, ONE_HOT, MULTI_HOT, COUNT, TF_IDF = "int", "one_hot", "multi_hot", "count", "tf_idf"
_INT64_MAX = np.iinfo(np.int64).max


def validate_string_arg(value, allowed, layer_name, arg_name, allow_none=False, allow_callables=False):
    """Keras's check of a string-valued argument (with its error text)."""
    if value is None and allow_none or callable(value) and allow_callables or value in allowed:
        return
    allowed_args = "`None`, " if allow_none else ""
    allowed_args += "a `Callable`, " if allow_callables else ""
    allowed_args += f"or one of the following values: {allowed}"
    raise ValueError(f"The `{arg_name}` argument of {layer_name} received an invalid value `{value}`. "
                     f"Allowed values are: {allowed_args}.")


def as_input_array(value):
    """A text layer's input as a RaggedTensor, a string array (object array of bytes) or a NumPy array."""
    if isinstance(value, RaggedTensor):
        return value
    if isinstance(value, Tensor):
        return value.value
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    strings = to_string_array(value) if isinstance(value, (str, bytes, list, tuple, np.ndarray)) else None
    if strings is not None:
        return strings
    arr = np.asarray(value)
    if arr.dtype.kind in "OUS":
        raise TypeError(f"Expected strings or numbers. Received: {value!r:.80}")
    return arr


def iterate_batches(data, batch_size=None, steps=None):
    """``adapt``'s input as a sequence of batches (NumPy arrays or RaggedTensors): an array is split into
    batches of ``batch_size`` (default 32) along its first axis; a dataset or other iterable yields its
    elements (a ``(features, labels)`` element is refused, as in Keras)."""
    if isinstance(data, RaggedTensor):
        yield data
        return
    if isinstance(data, (np.ndarray, Tensor, list, tuple, str, bytes)):
        arr = as_input_array(data)
        if arr.ndim == 0:
            yield arr
            return
        size = 32 if batch_size is None else int(batch_size)
        for index, start in enumerate(range(0, max(len(arr), 1), size)):
            if steps is not None and index >= steps:
                return
            yield arr[start:start + size]
        return
    if not hasattr(data, "__iter__"):
        raise TypeError(f"`adapt` expects an array, a list, a tensor or a dataset of batches. Received: "
                        f"{type(data).__name__}")
    for index, element in enumerate(data):
        if steps is not None and index >= steps:
            return
        if isinstance(element, tuple):
            raise ValueError("`adapt` received a dataset of tuples (features, labels). Map it to the features "
                             "first, e.g. `layer.adapt(dataset.map(lambda x, y: x))`.")
        yield element if isinstance(element, RaggedTensor) else as_input_array(element)


def encode_categorical(ids, output_mode, depth, dtype, count_weights=None, idf_weights=None):
    """tf.keras's ``encode_categorical_inputs``: ``int`` casts; the others count ids along the last axis
    into ``depth`` bins (ids outside ``[0, depth)`` are dropped), ``one_hot`` encoding each id on its own."""
    if output_mode == INT:
        return Tensor(np.asarray(ids).astype(dtype))
    ids = np.asarray(ids)
    original_shape = ids.shape
    if ids.ndim == 0:
        ids = ids[None]
    if output_mode == ONE_HOT and ids.shape[-1] != 1:
        ids = ids[..., None]
    if ids.ndim > 2:
        raise ValueError(f"When output_mode is not `'int'`, maximum supported output rank is 2. Received "
                         f"output_mode {output_mode} and input shape {original_shape}, which would result in "
                         f"output rank {ids.ndim}.")
    if ids.size and ids.min() < 0:
        raise ValueError(f"Input values must be non-negative for output_mode={output_mode!r}. Received: "
                         f"min={ids.min()}")
    rows = ids if ids.ndim == 2 else ids[None]
    out = np.zeros((rows.shape[0], depth), dtype="float64")
    keep = rows < depth
    row_index = np.broadcast_to(np.arange(rows.shape[0])[:, None], rows.shape)
    weights = 1.0 if count_weights is None else np.broadcast_to(np.asarray(count_weights, "float64"), rows.shape)[keep]
    np.add.at(out, (row_index[keep], rows[keep]), weights)
    if output_mode in (MULTI_HOT, ONE_HOT):
        out = np.minimum(out, 1.0)
    if output_mode == TF_IDF:
        out = out * np.asarray(idf_weights, "float64")[:depth]
    if ids.ndim == 1:
        out = out[0]
    return Tensor(out.astype(dtype))


def categorical_output_shape(shape, output_mode, depth):
    """The output shape of ``encode_categorical`` for an input ``shape``."""
    shape = list(shape)
    if output_mode == INT:
        return tuple(shape)
    if not shape:
        return (depth,)
    if output_mode == ONE_HOT and shape[-1] != 1:
        return tuple(shape) + (depth,)
    return tuple(shape[:-1]) + (depth,)
