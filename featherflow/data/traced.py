"""``Dataset.map`` functions run as compiled programs, as TensorFlow runs them as graphs.

TensorFlow traces a ``map`` function into a graph once and runs the graph for every element. featherflow
does the same with ``tf.function``: the first element of each *signature* (the shapes and dtypes of its
components) runs the Python function for real while it is traced; every later element of that signature
replays the compiled NumPy program (``featherflow.compiler``) - no ``Tensor`` objects, no op dispatch, no
Python code of the function. So, as in TensorFlow, Python side effects of a map function (``print``,
appending to a list, ``time.sleep``) happen when it is traced, not for every element; ``tf.print``,
``tf.py_function`` and ``tf.numpy_function`` run for every element, and random ops draw fresh values.

Differences from TensorFlow, all in the direction of running more Python rather than less:

* a signature is concrete: a batch of another size (the smaller last batch) is traced once more;
* a function that cannot be compiled (it reads a tensor's value into Python, ``float(x)``, ``x.numpy()``,
  or branches on one) is not an error: it keeps running eagerly, element by element, from then on;
* after ``MAX_TRACES`` signatures, elements of new signatures run eagerly (elements whose shapes keep
  changing, such as sentences of different lengths, would otherwise trace again and again);
* ``num_parallel_calls`` threads each trace their own copy (a program reuses its work buffers), and an element
  that would be traced while another thread traces a function runs eagerly instead of waiting;
* ``tf.data.experimental.enable_debug_mode()`` runs every map function eagerly (as in TensorFlow).

The element spec of a mapped dataset is found by running the function on two stand-in elements (see
``infer_function_spec``): Python side effects happen then too.

>>> import featherflow as tf
>>> calls = []
>>> def scale(x):
...     calls.append(tuple(x.shape))  # Python: runs while tracing
...     return x * 2
>>> ds = tf.data.Dataset.range(7).batch(3).map(scale)
>>> [b.numpy().tolist() for b in ds]
[[0, 2, 4], [6, 8, 10], [12]]
>>> calls  # one trace per batch shape (3, and the last batch's 1), not one call per batch
[(3,), (1,)]
>>> [b.numpy().tolist() for b in ds][-1], calls  # the next pass replays the programs
([12], [(3,), (1,)])
"""

from __future__ import annotations

import collections
import warnings
import weakref

import numpy as np

from featherflow import compiler
from featherflow.core.function import Function, trace_turn
from featherflow.core.function._structure import flatten as function_flatten
from featherflow.core.function._structure import pack as function_pack
from featherflow.core.runtime import state as _runtime
from featherflow.core.tensor import Tensor
from featherflow.core.tensor_spec import TensorSpec
from featherflow.data import structure as nest
from featherflow.data.dataset import call_with_element

_TRACED = object()  # a program output's place among an output's leaves
MAX_TRACES = 4  # signatures traced per function (below tf.function's 5-traces-in-10-calls warning)
_debug = {"enabled": False}  # tf.data.experimental.enable_debug_mode()


def enable_debug_mode() -> None:
    """Run every ``Dataset.map`` function eagerly, element by element (``tf.data.experimental.enable_debug_mode``).

    Irreversible, as in TensorFlow.
    """
    _debug["enabled"] = True


def _signature(value):
    """A hashable key of an element's structure, shapes and dtypes; None when a leaf is not an array."""
    kind = type(value)
    if kind is np.ndarray:
        return value.shape, value.dtype
    if isinstance(value, tuple):
        items = tuple(_signature(v) for v in value)
        return None if None in items else (kind, items)
    if isinstance(value, dict):
        items = tuple((k, _signature(v)) for k, v in value.items())
        return None if any(s is None for _, s in items) else (dict, items)
    return None


def _fresh(constant):
    """A copy of an output the program does not compute (a constant), so each element gets its own array."""
    if isinstance(constant, Tensor):
        return np.array(constant.value, copy=True)
    return np.array(constant, copy=True) if isinstance(constant, np.ndarray) else constant


class ProvenFinite:
    """The float arrays a map function's programs made and proved finite (``compiler.finite_outputs``: integer
    inputs through steps that keep values bounded), recognised by identity: ``array in proven``. The most recent
    ``KEPT`` are remembered, weakly (an array freed and another made at its address is not taken for it)."""

    KEPT = 64

    def __init__(self):
        self._refs: dict = {}
        self._order: collections.deque = collections.deque()

    def add(self, array) -> None:
        key = id(array)
        self._refs[key] = weakref.ref(array)
        self._order.append(key)
        if len(self._order) > self.KEPT:  # (a key added twice loses its entry early: that array is checked)
            self._refs.pop(self._order.popleft(), None)

    def __contains__(self, array) -> bool:
        ref = self._refs.get(id(array))
        return ref is not None and ref() is array


class _Compiled:
    """One traced signature: the program, how its outputs form the element, and the trace's validity check."""

    __slots__ = ("program", "valid", "structure", "flat", "constants", "finite", "proven")

    def outputs(self, leaves: list):
        values = self.program(*leaves)
        if self.flat is not None:  # the common case: a tuple (or single array) of arrays
            for value in values:
                if type(value) is not np.ndarray:  # a NumPy scalar (NumPy's result of scalar arithmetic)
                    values = tuple([nest.normalize_element(v, "the output of `map_func`") for v in values])
                    break
            if self.finite:
                for i in self.finite:
                    self.proven.add(values[i])
            return values if self.flat else values[0]
        it = iter(values)  # program outputs in tf.function's leaf order, constants (fresh copies) between them
        filled = [next(it) if c is _TRACED else _fresh(c) for c in self.constants]
        return nest.normalize_output(function_pack(self.structure, iter(filled)), "the output of `map_func`")


class _Replayer:
    """The traces of one function for one caller at a time (parallel ``map`` threads each take their own:
    a program reuses its work buffers, so two threads must not replay the same one at once)."""

    def __init__(self, fn, proven: ProvenFinite):
        self._fn = fn
        self._proven = proven
        self._structure = None
        self.function = Function(self._call_flat, name=getattr(fn, "__name__", "map_func"), _on_untraceable="eager")
        self.traces: dict = {}  # signature -> _Compiled (None: runs eagerly)

    def _call_flat(self, *leaves):
        # (leaves are Tensors while tracing; arrays when tf.function runs the function eagerly)
        leaves = [leaf if isinstance(leaf, Tensor) else Tensor(leaf) for leaf in leaves]
        return call_with_element(self._fn, nest.pack_as(self._structure, leaves))

    def trace(self, element, signature, leaves: list):
        """The first element of a new signature: run the function while tracing it. Returns (output, why the
        function must run eagerly from now on, or None)."""
        if len(self.traces) >= MAX_TRACES:
            self.traces[signature] = None
            return nest.normalize_output(call_with_element(self._fn, element), "the output of `map_func`"), None
        self._structure = element
        count = self.function.experimental_get_tracing_count()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = self.function(*leaves)  # arrays: tf.function keeps the trace for array_trace
        for warning in caught:  # the eager fallback's warning is not for tf.data (TensorFlow has no such case)
            if not str(warning.message).startswith("tf.function could not compile"):
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        output = nest.normalize_output(result, "the output of `map_func`")
        reason = self.function.eager_fallback_reason
        if reason is not None:
            return output, reason
        trace = self.function.array_trace(*leaves)
        if self.function.experimental_get_tracing_count() == count or trace is None:
            return output, None  # called inside a trace (or with tf.function run eagerly): it ran eagerly
        compiled = _Compiled()
        # the outputs the program computes are handed over without a copy (each call's are the caller's own)
        compiled.program = compiler.fresh_outputs(trace.program)
        compiled.valid = trace.valid  # the variables it reads still hold the arrays it was traced with
        # TensorSpecs where the program's outputs go (the trace exists: this does not trace again)
        structure = self.function.get_concrete_function(*leaves).structured_outputs
        compiled.structure = structure
        compiled.constants = [_TRACED if isinstance(leaf, TensorSpec) else leaf
                              for leaf in function_flatten(structure, [])]
        all_traced = all(c is _TRACED for c in compiled.constants)
        plain = all(type(v) is np.ndarray and v.dtype.kind not in "USO" for v in nest.flatten(output))
        compiled.flat = None  # the general case: packed and normalized at every call
        if plain and type(structure) in (tuple, list) and all(isinstance(s, TensorSpec) for s in structure):
            compiled.flat = True  # the program's tuple is the element (a returned list becomes a tuple)
        elif all_traced and plain and isinstance(structure, TensorSpec):
            compiled.flat = False
        compiled.proven = self._proven
        compiled.finite = ()  # the float outputs proven finite for any input of this signature
        if compiled.flat is not None:
            inputs = [compiler.dtype_bound(leaf.dtype) for leaf in leaves]
            if any(bound is not None for bound in inputs):
                proofs = compiler.finite_outputs(trace.program, inputs)
                compiled.finite = tuple(i for i, (proof, spec) in enumerate(zip(proofs, function_flatten(
                    structure, []))) if proof and isinstance(spec, TensorSpec) and spec.dtype.kind == "f")
        self.traces[signature] = compiled
        return output, None


class TracedFunction:
    """A ``Dataset.map`` function: ``traced(element) -> element`` (nests of NumPy arrays), compiled per
    signature; see the module docstring."""

    def __init__(self, fn):
        self._fn = fn
        self._idle: list = []  # replayers not in use (list.pop / append are atomic)
        self.proven_finite = ProvenFinite()  # outputs proven finite (fit skips its NaN/inf check for them)
        self.eager_reason = None  # why the function runs eagerly (it could not be compiled)

    def _eager(self, element):
        return nest.normalize_output(call_with_element(self._fn, element), "the output of `map_func`")

    def __call__(self, element):
        if self.eager_reason is not None or _debug["enabled"] or _runtime.tapes or compiler.tracing():
            return self._eager(element)  # (a tape recording outside differentiates through the eager ops)
        signature = None
        if type(element) is tuple:  # the common element, (x, y): its signature without the generic walk
            signature = []
            for leaf in element:
                if type(leaf) is not np.ndarray:
                    signature = None
                    break
                signature.append((leaf.shape, leaf.dtype))
            if signature is not None:
                signature = tuple(signature)
                leaves = element
        if signature is None:
            signature = _signature(element)
            if signature is None:  # datasets (the elements of `window`) or other values: not compiled
                return self._eager(element)
            leaves = nest.flatten(element)
        idle = self._idle
        try:
            replayer = idle.pop()
        except IndexError:  # every replayer is in use (parallel map threads): one more
            replayer = _Replayer(self._fn, self.proven_finite)
        try:
            compiled = replayer.traces.get(signature, False)
            if compiled:
                if compiled.valid():
                    return compiled.outputs(leaves)
            elif compiled is None:
                return self._eager(element)
            if compiler.tracing_anywhere():
                # A function is being traced (traces run one at a time): that function may be the one
                # iterating this dataset (a prefetch thread feeding a loop inside a tf.function), so waiting
                # for its trace to end could wait forever. This element runs eagerly; a later one traces.
                return self._eager(element)
            with trace_turn() as mine:  # the same rule without the race: a trace that started just now
                if not mine:
                    return self._eager(element)
                output, reason = replayer.trace(element, signature, list(leaves))
            if reason is not None:
                self.eager_reason = reason
            return output
        finally:
            idle.append(replayer)
