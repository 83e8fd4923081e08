"""The parts of TensorFlow's top-level API that describe execution, as they behave in eager mode.

``group``/``no_op`` return None and ``tuple`` returns its tensors (ops already ran); ``inside_function`` and
``is_symbolic_tensor`` are False (featherflow has no graphs); ``get_static_value`` is the value itself.
Also: ``timestamp``, ``guarantee_const``, ``get_logger``, ``CriticalSection``, ``IndexedSlices``, the
``AggregationMethod`` / ``VariableAggregation`` / ``VariableSynchronization`` enumerations, ``approx_top_k``,
``accumulate_n`` and the conv2d gradient ops (computed through the tape).

>>> import featherflow as ff
>>> ff.get_static_value(ff.constant([1, 2]))
array([1, 2], dtype=int32)
"""

from __future__ import annotations

import builtins
import collections
import enum
import logging
import threading
import time

import numpy as np

from featherflow.core.tensor import Tensor, convert_to_tensor, register_tensor_conversion_function
from featherflow.ops._convert import as_tensor


def group(*inputs, **kwargs) -> None:
    """Eager execution already ran the ops: returns None (TensorFlow's eager result).

    >>> import featherflow as ff
    >>> group(ff.constant(1.0)) is None
    True
    """
    return None


def no_op(name=None) -> None:
    """Does nothing and returns None (eager).

    >>> no_op() is None
    True
    """
    return None


def tuple(tensors, control_inputs=None, name=None) -> list:  # noqa: A001 - TensorFlow's name
    """The tensors themselves, as a list (their values are already computed).

    >>> import featherflow as ff
    >>> [float(t) for t in tuple([ff.constant(1.0), ff.constant(2.0)])]
    [1.0, 2.0]
    """
    if control_inputs is not None and not isinstance(control_inputs, (list, builtins.tuple)):
        raise TypeError(f"tuple: control_inputs must be a list. Received: {control_inputs!r:.60}")
    return [t if t is None or isinstance(t, Tensor) else convert_to_tensor(t) for t in tensors]


def get_static_value(tensor, partial=False):
    """The NumPy value of a tensor (every value is known in eager execution); other values as arrays.

    >>> get_static_value(3)
    array(3)
    """
    if isinstance(tensor, Tensor):
        return tensor.numpy()
    return np.asarray(tensor)


def inside_function() -> bool:
    """False: featherflow runs eagerly and builds no graph functions.

    >>> inside_function()
    False
    """
    return False


def is_symbolic_tensor(tensor) -> bool:
    """False for every value: featherflow tensors always hold data.

    >>> import featherflow as ff
    >>> is_symbolic_tensor(ff.constant(1.0))
    False
    """
    return False


def timestamp(name=None) -> Tensor:
    """Seconds since the epoch as a float64 scalar.

    >>> float(timestamp()) > 1e9
    True
    """
    return Tensor(np.asarray(time.time(), dtype=np.float64))


def guarantee_const(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The input, promised constant (deprecated in TensorFlow; an identity here).

    >>> guarantee_const([1.0]).numpy()
    array([1.], dtype=float32)
    """
    from featherflow.ops.math import identity

    return identity(input)


def get_logger() -> logging.Logger:
    """The logger featherflow writes to (``logging.getLogger("featherflow")``).

    >>> get_logger().name
    'featherflow'
    """
    return logging.getLogger("featherflow")


class AggregationMethod:
    """How gradients of a tensor used several times are summed (the tape always adds them in order)."""

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


class VariableAggregation(enum.Enum):
    """How a distributed variable's replica updates are combined."""

    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


class VariableSynchronization(enum.Enum):
    """When a distributed variable is synchronized."""

    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class CriticalSection:
    """Run functions one at a time: ``execute(fn)`` holds a lock while ``fn`` runs.

    Calling ``execute`` on the same critical section from inside ``fn`` raises ``ValueError`` (it would
    deadlock), as in TensorFlow.

    >>> cs = CriticalSection()
    >>> cs.execute(lambda: 1 + 1)
    2
    """

    def __init__(self, name=None, shared_name=None, critical_section_def=None, import_scope=None):
        self._name = name or "CriticalSection"
        self._lock = threading.Lock()
        self._owner = None

    @property
    def name(self) -> str:
        return self._name

    def execute(self, fn, exclusive_resource_access=True, name=None):
        """Call ``fn()`` while holding the section's lock; returns its result."""
        if not callable(fn):
            raise TypeError(f"CriticalSection.execute: fn must be callable. Received: {fn!r}")
        if self._owner == threading.get_ident():
            raise ValueError(f"Attempting to lock a CriticalSection ({self._name}) in which we are already running. "
                             f"This is illegal and may cause deadlocks.")
        with self._lock:
            self._owner = threading.get_ident()
            try:
                return fn()
            finally:
                self._owner = None


class IndexedSlices:
    """A sparse set of rows of a dense tensor: ``dense[indices[i]] = values[i]`` (rows not listed are zero).

    Converts to a dense tensor wherever a tensor is expected (repeated indices add up).

    >>> import featherflow as ff
    >>> rows = IndexedSlices(ff.constant([[1.0, 2.0]]), ff.constant([2]), ff.constant([3, 2]))
    >>> ff.convert_to_tensor(rows).numpy()
    array([[0., 0.],
           [0., 0.],
           [1., 2.]], dtype=float32)
    """

    def __init__(self, values, indices, dense_shape=None):
        self._values = as_tensor(values, "IndexedSlices", "values")
        self._indices = as_tensor(indices, "IndexedSlices", "indices")
        self._dense_shape = None if dense_shape is None else as_tensor(dense_shape, "IndexedSlices", "dense_shape")

    values = property(lambda self: self._values)
    indices = property(lambda self: self._indices)
    dense_shape = property(lambda self: self._dense_shape)
    dtype = property(lambda self: self._values.dtype)

    @property
    def shape(self):
        from featherflow.core.tensor import TensorShape

        if self._dense_shape is None:
            return TensorShape((None,) + self._values.value.shape[1:])
        return TensorShape(self._dense_shape.value.tolist())

    def __neg__(self) -> IndexedSlices:
        return IndexedSlices(-self._values, self._indices, self._dense_shape)

    def __repr__(self) -> str:
        return f"IndexedSlices(indices={self._indices!r}, values={self._values!r}, dense_shape={self._dense_shape!r})"


def _indexed_slices_to_dense(value, dtype=None, name=None, as_ref=False):
    from featherflow.ops.segment import unsorted_segment_sum

    if value.dense_shape is None:
        raise ValueError("Cannot convert an IndexedSlices without dense_shape to a tensor.")
    return unsorted_segment_sum(value.values, value.indices, int(value.dense_shape.value[0]))


register_tensor_conversion_function(IndexedSlices, _indexed_slices_to_dense)

ApproxTopK = collections.namedtuple("ApproxTopK", ["values", "indices"])


def approx_top_k(input, k, reduction_dimension=-1, recall_target=0.95, is_max_k=True,  # noqa: A002
                 reduction_input_size_override=-1, aggregate_to_topk=True, name=None) -> ApproxTopK:
    """The ``k`` largest (``is_max_k``) or smallest entries along ``reduction_dimension`` and their int32
    indices; featherflow computes them exactly (recall 1).

    >>> import featherflow as ff
    >>> approx_top_k(ff.constant([[1.0, 5.0, 3.0]]), 2).values.numpy()
    array([[5., 3.]], dtype=float32)
    """
    from featherflow.ops.shape import transpose
    from featherflow.ops.sort import top_k

    x = as_tensor(input, "approx_top_k", "input")
    ndim = x.value.ndim
    axis = int(reduction_dimension) % ndim
    perm = [a for a in range(ndim) if a != axis] + [axis]
    moved = transpose(x, perm) if axis != ndim - 1 else x
    values, indices = top_k(moved if is_max_k else -moved, k=int(k))
    if not is_max_k:
        values = -values
    if axis != ndim - 1:
        back = list(np.argsort(perm))
        values, indices = transpose(values, back), transpose(indices, back)
    return ApproxTopK(values, indices)


def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95, reduction_input_size_override=-1,
                 aggregate_to_topk=True, name=None) -> ApproxTopK:
    """``approx_top_k`` of the largest entries.

    >>> import featherflow as ff
    >>> approx_max_k(ff.constant([1.0, 5.0, 3.0]), 1).indices.numpy()
    array([1], dtype=int32)
    """
    return approx_top_k(operand, k, reduction_dimension, recall_target, True)


def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95, reduction_input_size_override=-1,
                 aggregate_to_topk=True, name=None) -> ApproxTopK:
    """``approx_top_k`` of the smallest entries.

    >>> import featherflow as ff
    >>> approx_min_k(ff.constant([1.0, 5.0, 3.0]), 1).values.numpy()
    array([1.], dtype=float32)
    """
    return approx_top_k(operand, k, reduction_dimension, recall_target, False)


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None) -> Tensor:
    """The elementwise sum of a list of tensors (``add_n``), checked against ``shape``/``tensor_dtype``.

    >>> accumulate_n([[1.0, 2.0], [3.0, 4.0]]).numpy()
    array([4., 6.], dtype=float32)
    """
    from featherflow.ops.math import add_n

    result = add_n(inputs)
    if shape is not None and builtins.tuple(result.shape) != builtins.tuple(shape):
        raise ValueError(f"accumulate_n: the inputs have shape {builtins.tuple(result.shape)}, not "
                         f"shape={builtins.tuple(shape)}.")
    if tensor_dtype is not None and result.dtype != np.dtype(tensor_dtype):
        raise TypeError(f"accumulate_n: the inputs have dtype {result.dtype.name}, not "
                        f"tensor_dtype={np.dtype(tensor_dtype).name}.")
    return result


def _conv_gradient(conv, wrt, input_or_shape, filter_or_shape, out_backprop, kwargs):
    """The gradient of ``conv(input, filter, **kwargs)`` w.r.t. one argument for ``out_backprop``, via the tape."""
    from featherflow.core.tape import GradientTape

    grad = as_tensor(out_backprop, "conv_backprop", "out_backprop")

    def operand(value, arg):
        if isinstance(value, Tensor) and value.value.ndim == 1 and value.value.dtype.kind in "iu" or \
                not isinstance(value, Tensor) and np.ndim(value) == 1:
            shape = builtins.tuple(int(d) for d in np.asarray(value.value if isinstance(value, Tensor) else value))
            return Tensor(np.zeros(shape, dtype=grad.value.dtype))
        return as_tensor(value, "conv_backprop", arg)

    x, w = operand(input_or_shape, "input"), operand(filter_or_shape, "filter")
    with GradientTape() as tape:
        tape.watch(x if wrt == 0 else w)
        y = conv(x, w, **kwargs)
    return tape.gradient(y, x if wrt == 0 else w, output_gradients=grad)


def conv2d_backprop_input_v2(input, filter, out_backprop, strides, padding, data_format="NHWC",  # noqa: A002
                             dilations=None, name=None) -> Tensor:
    """The gradient of ``conv2d`` w.r.t. its input (``input`` may be the input's shape).

    >>> import featherflow as ff
    >>> conv2d_backprop_input_v2([1, 3, 3, 1], ff.ones((2, 2, 1, 1)), ff.ones((1, 2, 2, 1)), 1, "VALID").shape
    (1, 3, 3, 1)
    """
    from featherflow.ops.conv import conv2d

    return _conv_gradient(conv2d, 0, input, filter, out_backprop,
                          {"strides": strides, "padding": padding, "data_format": data_format,
                           "dilations": dilations})


def conv2d_backprop_filter_v2(input, filter, out_backprop, strides, padding, data_format="NHWC",  # noqa: A002
                              dilations=None, name=None) -> Tensor:
    """The gradient of ``conv2d`` w.r.t. its filter (``filter`` may be the filter's shape).

    >>> import featherflow as ff
    >>> conv2d_backprop_filter_v2(ff.ones((1, 3, 3, 1)), [2, 2, 1, 1], ff.ones((1, 2, 2, 1)), 1, "VALID").shape
    (2, 2, 1, 1)
    """
    from featherflow.ops.conv import conv2d

    return _conv_gradient(conv2d, 1, input, filter, out_backprop,
                          {"strides": strides, "padding": padding, "data_format": data_format,
                           "dilations": dilations})


def fingerprint(data, method="farmhash64", name=None) -> Tensor:
    """A 64-bit FarmHash fingerprint of each row ``data[i, ...]``, as 8 little-endian ``uint8`` bytes per row
    (``[batch, 8]``). Numeric rows are hashed by their bytes; a string row by the fingerprints of its strings.

    >>> import featherflow as ff
    >>> ff.fingerprint(ff.constant([[1, 2], [3, 4]])).numpy()[0]
    array([ 76,  18, 253, 133, 168, 204, 240,  10], dtype=uint8)
    """
    from featherflow.strings._hash import fingerprint64

    if method != "farmhash64":
        raise ValueError(f"Unsupported fingerprint method: {method!r}. Expected 'farmhash64'.")
    t = as_tensor(data, "fingerprint", "data")
    if t.value.ndim < 1:
        raise ValueError(f"fingerprint: data must have rank >= 1 (the first dimension is the batch). Received: "
                         f"shape={t.value.shape}")

    def eight(raw: bytes) -> bytes:
        return np.uint64(fingerprint64(raw)).astype("<u8").tobytes()

    rows = t.value.reshape(t.value.shape[0], -1)
    if rows.dtype == object:
        def digest(row):
            parts = [eight(s if isinstance(s, bytes) else str(s).encode()) for s in row]
            return parts[0] if len(parts) == 1 else eight(b"".join(parts))
    else:
        def digest(row):
            return eight(np.ascontiguousarray(row).tobytes())
    out = np.frombuffer(b"".join(digest(row) for row in rows), dtype=np.uint8).reshape(-1, 8)
    return Tensor(out.copy())


def ragged_fill_empty_rows(value_rowids, values, nrows, default_value, name=None) -> tuple:
    """Gives every empty row of a ragged tensor (in ``value_rowids`` form) one ``default_value``; returns
    ``(output_value_rowids, output_values, empty_row_indicator, reverse_index_map)``, ``reverse_index_map[i]``
    being where ``values[i]`` went. Differentiable w.r.t. ``values`` and ``default_value``.

    >>> import featherflow as ff
    >>> out = ff.ragged_fill_empty_rows([0, 0, 2], [1.0, 2.0, 3.0], 4, 9.0)
    >>> out.output_values.numpy(), out.empty_row_indicator.numpy()
    (array([1., 2., 9., 3., 9.], dtype=float32), array([False,  True, False,  True]))
    """
    from featherflow.ops.indexing import gather
    from featherflow.ops.shape import concat, reshape

    rowids = np.asarray(as_tensor(value_rowids, "ragged_fill_empty_rows", "value_rowids").value, np.int64)
    vals = as_tensor(values, "ragged_fill_empty_rows", "values")
    nrows = int(np.asarray(nrows.value if isinstance(nrows, Tensor) else nrows))
    default = as_tensor(default_value, "ragged_fill_empty_rows", "default_value", vals.value.dtype)
    if np.any(np.diff(rowids) < 0) or (rowids.size and (rowids[0] < 0 or rowids[-1] >= nrows)):
        raise ValueError("ragged_fill_empty_rows: value_rowids must be sorted and in [0, nrows).")
    counts = np.bincount(rowids, minlength=nrows)
    empty = counts == 0
    out_rowids = np.sort(np.concatenate([rowids, np.flatnonzero(empty)])).astype(np.int64)
    # every output position takes either value i (index i) or the default (index len(values))
    source = np.full(out_rowids.shape, rowids.size, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(np.maximum(counts, 1))[:-1]])
    reverse = starts[rowids] + (np.arange(rowids.size) - np.concatenate([[0], np.cumsum(counts)[:-1]])[rowids])
    source[reverse] = np.arange(rowids.size)
    table = concat([vals, reshape(default, (1,) + vals.value.shape[1:])], axis=0)
    output = gather(table, source)
    return RaggedFillEmptyRows(Tensor(out_rowids), output, Tensor(empty), Tensor(reverse.astype(np.int64)))


RaggedFillEmptyRows = collections.namedtuple(
    "RaggedFillEmptyRows", ["output_value_rowids", "output_values", "empty_row_indicator", "reverse_index_map"])
RaggedFillEmptyRowsGrad = collections.namedtuple("RaggedFillEmptyRowsGrad", ["d_values", "d_default_value"])


def ragged_fill_empty_rows_grad(reverse_index_map, grad_values, name=None) -> tuple:
    """The gradient of ``ragged_fill_empty_rows``: ``(d_values, d_default_value)`` from the output gradient.

    >>> import featherflow as ff
    >>> g = ff.ragged_fill_empty_rows_grad([0, 1, 3], [1.0, 2.0, 3.0, 4.0, 5.0])
    >>> g.d_values.numpy(), float(g.d_default_value)
    (array([1., 2., 4.], dtype=float32), 8.0)
    """
    from featherflow.ops.indexing import gather
    from featherflow.ops.reduce import reduce_sum

    grad = as_tensor(grad_values, "ragged_fill_empty_rows_grad", "grad_values")
    index = as_tensor(reverse_index_map, "ragged_fill_empty_rows_grad", "reverse_index_map")
    d_values = gather(grad, index)
    return RaggedFillEmptyRowsGrad(d_values, reduce_sum(grad, axis=0) - reduce_sum(d_values, axis=0))


def nondifferentiable_batch_function(num_batch_threads, max_batch_size, batch_timeout_micros,
                                     allowed_batch_sizes=None, max_enqueued_batches=10, autograph=True,
                                     enable_large_batch_splitting=True):
    """Decorator: in TensorFlow, concurrent calls of a serving graph are gathered into one batch. featherflow
    runs each call at once (a batch of its own), so the arguments only need to be tensors; the outputs carry
    no gradient, as TensorFlow registers none.

    >>> import featherflow as ff
    >>> @ff.nondifferentiable_batch_function(1, 2, 3)
    ... def double(a):
    ...     return a * 2
    >>> double(ff.constant([1.0, 2.0])).numpy()
    array([2., 4.], dtype=float32)
    """
    import functools

    from featherflow.core.nest import map_structure
    from featherflow.ops.math import stop_gradient

    def decorator(fn):
        @functools.wraps(fn)
        def batched(*args):
            for a in args:
                if not isinstance(a, Tensor) or type(a).__name__ == "Variable":
                    raise ValueError(f"All arguments to functions decorated with `batch_function`  are supposed to "
                                     f"be Tensors; found {a!r}.")
            return map_structure(lambda o: stop_gradient(o) if isinstance(o, Tensor) else o, fn(*args))

        return batched

    return decorator


def gradients(ys, xs, grad_ys=None, name="gradients", gate_gradients=False, aggregation_method=None,
              stop_gradients=None, unconnected_gradients="none"):
    """Graph-mode symbolic gradients. featherflow always runs eagerly, where TensorFlow refuses this call too:
    use ``tf.GradientTape``."""
    raise RuntimeError("tf.gradients is not supported when eager execution is enabled. Use tf.GradientTape instead.")


def hessians(ys, xs, gate_gradients=False, aggregation_method=None, name="hessians"):
    """Graph-mode symbolic Hessians; as ``gradients``, refused when running eagerly (nest two GradientTapes)."""
    raise RuntimeError("tf.gradients is not supported when eager execution is enabled. Use tf.GradientTape instead.")
