"""``Function`` (what ``tf.function`` returns) and ``ConcreteFunction`` (one traced signature).

>>> import featherflow as tf
>>> @tf.function
... def affine(x, scale):
...     return x * scale + 1.0
>>> affine(tf.constant([1.0, 2.0]), 2.0).numpy()
array([3., 5.], dtype=float32)
>>> affine(tf.constant([3.0]), 2.0).numpy()  # a new shape: traced again
array([7.], dtype=float32)
>>> affine.experimental_get_tracing_count()
2
>>> print(affine.get_concrete_function(tf.constant([1.0, 2.0]), 2.0).pretty_printed_code())
def program(x):
    t...
"""

from __future__ import annotations

import collections
import functools
import inspect
import logging
import threading
import types
import warnings

import numpy as np

from featherflow import compiler
from featherflow.backend import random as _backend_random
from featherflow.core import variable as _variable
from featherflow.core.function._structure import flatten, is_input, key_of, pack, relaxed_key, spec_of
from featherflow.core.runtime import state as _runtime
from featherflow.core.tensor import Tensor
from featherflow.core.tensor_spec import TensorSpec

_compiler_local = compiler._state._local

_settings = {"run_functions_eagerly": False}
_TRACE_LOCK = threading.RLock()  # one trace at a time (a trace switches the live variables' classes)


class trace_turn:
    """Context manager: this thread's turn to trace, taken only if no other thread is tracing now.
    ``with trace_turn() as mine:`` gives ``mine`` False at once (never waits) when another thread holds the
    turn; a thread already tracing gets it again. For a producer thread (a dataset's prefetch) that the
    tracing thread may be waiting on: waiting for that trace to end could wait forever.

    >>> with trace_turn() as mine:
    ...     mine
    True
    """

    __slots__ = ("_mine",)

    def __enter__(self) -> bool:
        self._mine = _TRACE_LOCK.acquire(blocking=False)
        return self._mine

    def __exit__(self, *exc) -> bool:
        if self._mine:
            _TRACE_LOCK.release()
        return False
_logger = logging.getLogger("featherflow")
_WARNING_THRESHOLD = 5  # TensorFlow's frequent-tracing warning: 5 traces ...
_WARNING_MAX_CALLS = 10  # ... within at most 10 calls, at most twice per function
_WARNING_MAX_COUNT = 2


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Make every ``tf.function`` run its Python function eagerly (for debugging), as in TensorFlow.

    >>> run_functions_eagerly(True); functions_run_eagerly()
    True
    >>> run_functions_eagerly(False)
    """
    _settings["run_functions_eagerly"] = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    """The value last given to ``run_functions_eagerly`` (False by default, as in TensorFlow)."""
    return _settings["run_functions_eagerly"]


def executing_eagerly() -> bool:
    """False while a ``tf.function`` is being traced, True otherwise (as in TensorFlow).

    >>> executing_eagerly()
    True
    """
    return not compiler.tracing()


def _array_key(args):
    """The cache key of positional arguments that are all NumPy arrays or ``None`` (else ``None``)."""
    key = []
    for a in args:
        if type(a) is np.ndarray:
            key.append((a.shape, a.dtype))
        elif a is None:
            key.append(None)
        else:
            return None
    return tuple(key)


class _Trace:
    """One compiled specialization (concrete shapes and dtypes) of a traced function."""

    __slots__ = ("program", "bindings", "positions", "structure", "outputs", "specs")

    def run_arrays(self, args):
        """``run`` for positional arguments that are NumPy arrays or ``None`` (each one leaf)."""
        values = iter(self.program(*[args[i] for i in self.positions]))
        leaves = [Tensor(next(values)) if kind else value for kind, value in self.outputs]
        return pack(self.structure, iter(leaves))

    def valid(self) -> bool:
        for variable, array in self.bindings:
            if variable.value is not array:
                return False
        return True

    def run(self, args, kwargs):
        flat = flatten([args, kwargs], [])
        inputs = []
        for i in self.positions:
            leaf = flat[i]
            inputs.append(leaf.value if isinstance(leaf, Tensor) else leaf)
        values = iter(self.program(*inputs))
        leaves = [Tensor(next(values)) if kind else value for kind, value in self.outputs]
        return pack(self.structure, iter(leaves))


def _output(tracer, leaf):
    """An output leaf with a buffer the trace wrote (``compiler.buffers``) turned into its traced value."""
    if isinstance(leaf, Tensor) and type(leaf.value) is compiler.TracedBuffer:
        return Tensor(tracer.output(leaf.value))
    if type(leaf) is compiler.TracedBuffer:
        return tracer.output(leaf)
    return leaf


def _to_value(leaf):
    if isinstance(leaf, TensorSpec):
        if leaf.shape is None:
            raise ValueError(f"get_concrete_function: a TensorSpec of unknown rank cannot be traced. Received: {leaf}")
        return np.zeros(tuple(1 if d is None else d for d in leaf.shape), dtype=leaf.dtype)
    return leaf.value if isinstance(leaf, Tensor) else np.asarray(leaf)


def _as_tensors(structure):
    """``structure`` with its NumPy array leaves as tensors (what a compiled call's Python function receives)."""
    flat = flatten(structure, [])
    if not any(type(leaf) is np.ndarray for leaf in flat):
        return structure
    return pack(structure, iter([Tensor(leaf) if type(leaf) is np.ndarray else leaf for leaf in flat]))


class Function:
    """A Python function compiled by tracing (``tf.function``'s result). See ``function``."""

    def __init__(self, python_function, name=None, input_signature=None, autograph=True, jit_compile=None,
                 reduce_retracing=False, _on_untraceable="auto"):
        if not callable(python_function):
            raise TypeError(f"function: expected a callable to wrap. Received: {python_function!r}")
        if _on_untraceable not in ("error", "eager", "auto"):
            raise ValueError(f"_on_untraceable must be 'error', 'eager' or 'auto'. Received: {_on_untraceable!r}")
        self._python_function = python_function
        self._name = name or getattr(python_function, "__name__", "function")
        self._input_signature = None if input_signature is None else tuple(
            _check_spec(s) for s in flatten(list(input_signature), []))
        self._signature_structure = None if input_signature is None else list(input_signature)
        self._autograph = autograph
        self._jit_compile = jit_compile
        self._reduce_retracing = bool(reduce_retracing)
        self._on_untraceable = _on_untraceable
        self._traces: dict = {}
        self._fast: dict = {}  # _array_key(args) -> trace, for calls with NumPy arrays and None only
        self._logical: set = set()
        self._relaxed_seen: set = set()
        self._tracing_count = 0
        self._created_variables = False
        self._eager_reason = None  # set when a trace escaped in "eager" mode: the function runs eagerly
        self._calls_since_trace = 0
        self._calls_per_trace: collections.deque = collections.deque(maxlen=_WARNING_THRESHOLD)
        self._warnings = 0
        self._instances: dict = {}
        functools.update_wrapper(self, python_function, updated=())

    # -- TensorFlow's attributes ---------------------------------------------------------------
    @property
    def python_function(self):
        """The wrapped Python function."""
        return self._python_function

    @property
    def input_signature(self):
        return None if self._signature_structure is None else tuple(self._signature_structure)

    @property
    def function_spec(self):
        return inspect.signature(self._python_function)

    def experimental_get_tracing_count(self) -> int:
        """How many times the function was traced (TensorFlow's count: one per new input signature)."""
        return self._tracing_count

    @property
    def eager_fallback_reason(self):
        """Why this function runs eagerly after its first trace (``_on_untraceable="eager"``), else None."""
        return self._eager_reason

    def __repr__(self) -> str:
        return f"<featherflow.function {self._name}>"

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        bound = self._instances.get(id(instance))
        if bound is None or bound[0]() is not instance:
            import weakref

            method = types.MethodType(self._python_function, instance)
            fn = Function(method, self._name, self._signature_structure, self._autograph, self._jit_compile,
                          self._reduce_retracing, self._on_untraceable)
            try:
                ref = weakref.ref(instance, lambda _, key=id(instance): self._instances.pop(key, None))
            except TypeError:
                ref = lambda: instance  # noqa: E731 - objects without weak references stay alive with the function
            bound = self._instances[id(instance)] = (ref, fn)
        return bound[1]

    # -- calling -----------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if _settings["run_functions_eagerly"] or _compiler_local.tracer is not None or _compiler_local.suspended:
            # (run_functions_eagerly, as TensorFlow's: the arguments as given; inside a trace or init_scope: plain
            # Python)
            return self._python_function(*args, **kwargs)
        if self._eager_reason is not None or _runtime.tapes:
            # (a function that could not be compiled, or a tape recording outside, which must differentiate through
            # it: eager, with NumPy arguments as tensors, as a compiled call sees them, so results stay tensors)
            return self._python_function(*_as_tensors(args), **_as_tensors(kwargs))
        if not kwargs and self._input_signature is None:
            # the hot path (a training step on NumPy batches): arrays and None only, keyed by shapes and dtypes
            fast_key = _array_key(args)
            if fast_key is not None:
                trace = self._fast.get(fast_key)
                if trace is not None and trace.valid():
                    self._calls_since_trace += 1
                    return trace.run_arrays(args)
        if self._input_signature is not None:
            args, kwargs = self._bind_signature(args, kwargs)
        key = key_of(args, kwargs)
        trace = self._traces.get(key)
        self._calls_since_trace += 1
        if trace is None or not trace.valid():
            with _TRACE_LOCK:
                result = self._trace(key, args, kwargs)
            trace = self._traces.get(key)
            if trace is not None and not kwargs and self._input_signature is None:
                fast_key = _array_key(args)
                if fast_key is not None:
                    self._fast[fast_key] = trace
            return result
        return trace.run(args, kwargs)

    def array_trace(self, *args):
        """The compiled trace a call with these positional NumPy arrays (or ``None`` s) replays, or ``None`` when
        the function has not been traced for them (or runs eagerly). Its ``program(*arrays)`` returns the
        output arrays, flattened; ``valid()`` must be true before each use (a variable's array replaced)."""
        key = _array_key(args)
        return None if key is None or self._eager_reason is not None else self._fast.get(key)

    def _bind_signature(self, args, kwargs):
        if kwargs:
            try:
                bound = inspect.signature(self._python_function).bind(*args, **kwargs)
                args = bound.args
            except TypeError:
                pass
            else:
                kwargs = {}
        leaves = flatten(list(args), [])
        specs = self._input_signature
        ok = len(leaves) == len(specs) and not kwargs
        if ok:
            for leaf, spec in zip(leaves, specs):
                if not isinstance(leaf, (Tensor, np.ndarray, float, int, list)):
                    ok = False
                    break
                arr = leaf.value if isinstance(leaf, Tensor) else np.asarray(leaf)
                if (isinstance(leaf, (Tensor, np.ndarray)) and arr.dtype != spec.dtype) or \
                        not spec._shape_compatible(arr.shape):
                    ok = False
                    break
        if not ok:
            raise TypeError(
                f"Binding inputs to tf.function failed due to `Python inputs incompatible with input_signature`. "
                f"Received args: {tuple(args)} and kwargs: {kwargs} for signature: "
                f"({', '.join(repr(s) for s in specs)}).")
        converted = [leaf if isinstance(leaf, Tensor) else Tensor(np.asarray(leaf, dtype=spec.dtype))
                     for leaf, spec in zip(leaves, specs)]
        return tuple(pack(list(args), iter(converted))), {}

    def _count_trace(self, key) -> None:
        if self._input_signature is not None:
            logical = "input_signature"
        elif self._reduce_retracing:
            relaxed = relaxed_key(key)
            logical = relaxed if relaxed in self._relaxed_seen else key
            self._relaxed_seen.add(relaxed)
        else:
            logical = key
        if logical in self._logical:
            return
        self._logical.add(logical)
        self._tracing_count += 1
        self._calls_per_trace.append(self._calls_since_trace)
        self._calls_since_trace = 0
        calls = sum(self._calls_per_trace)
        if (len(self._calls_per_trace) >= _WARNING_THRESHOLD and calls <= _WARNING_MAX_CALLS
                and self._warnings < _WARNING_MAX_COUNT):
            self._warnings += 1
            _logger.warning(
                f"{len(self._calls_per_trace)} out of the last {calls} calls to {self._python_function!r} triggered "
                f"tf.function retracing. Tracing is expensive and the excessive number of tracings could be due to (1) "
                f"creating @tf.function repeatedly in a loop, (2) passing tensors with different shapes, (3) passing "
                f"Python objects instead of tensors. For (1), please define your @tf.function outside of the loop. For "
                f"(2), @tf.function has reduce_retracing=True option that can avoid unnecessary retracing. For (3), "
                f"please refer to https://www.tensorflow.org/guide/function#controlling_retracing and "
                f"https://www.tensorflow.org/api_docs/python/tf/function for  more details.")

    def _input_names(self, args, kwargs, flat_count) -> list:
        try:
            params = list(inspect.signature(self._python_function).parameters)
        except (TypeError, ValueError):
            params = []
        names = []
        for i, arg in enumerate(args):
            base = params[i] if i < len(params) else f"arg{i}"
            leaves = flatten(arg, [])
            names += [base] if len(leaves) == 1 else [f"{base}_{j}" for j in range(len(leaves))]
        for k in sorted(kwargs, key=repr):
            leaves = flatten(kwargs[k], [])
            names += [str(k)] if len(leaves) == 1 else [f"{k}_{j}" for j in range(len(leaves))]
        return names if len(names) == flat_count else [f"arg{i}" for i in range(flat_count)]

    def _trace(self, key, args, kwargs, dry: bool = False):
        self._count_trace(key)
        tracer = compiler.Tracer(on_escape=self._on_untraceable)
        wrapped = []
        first_trace = not self._traces and not self._created_variables

        views = _variable.trace_views()

        def variable_created(v):
            if not first_trace:
                raise ValueError(
                    "tf.function only supports singleton tf.Variables created on the first call. Make sure the "
                    "tf.Variable is only created once or created outside tf.function. See "
                    "https://www.tensorflow.org/guide/function#creating_tfvariables for more information.")
            self._created_variables = True
            real = v.value
            traced = tracer.state(real, v.name)
            wrapped.append((v, real, traced))
            views.bind(v, traced)

        tracer.variable_created = variable_created
        flat = flatten([args, kwargs], [])
        positions = [i for i, leaf in enumerate(flat) if is_input(leaf)]
        names = self._input_names(args, kwargs, len(flat))
        rng_state = None
        if dry:  # every array bound as state (variables, optimizer slots, metrics) is put back afterwards
            tracer.snapshots = []
            rng_state = _backend_random.generator().bit_generator.state
        # the variables hold traced values for this thread only (trace_views): other threads keep theirs
        with tracer, views:
            try:
                for v in list(_variable._LIVE):
                    real = v.value
                    if isinstance(real, np.ndarray):
                        traced = tracer.state(real, v.name)
                        wrapped.append((v, real, traced))
                        views.bind(v, traced)
                traced_flat = list(flat)
                for i in positions:
                    traced_flat[i] = Tensor(tracer.input(_to_value(flat[i])))
                targs, tkwargs = pack([list(args), kwargs], iter(traced_flat))
                result = self._python_function(*targs, **tkwargs)
                result = pack(result, iter([_output(tracer, leaf) for leaf in flatten(result, [])]))
                tracer.finish()
            finally:
                if dry:
                    for array, saved in reversed(tracer.snapshots):  # the earliest contents win
                        array[...] = saved
                    _backend_random.generator().bit_generator.state = rng_state
        out_flat = flatten(result, [])
        outputs, traced_outputs = [], []
        for leaf in out_flat:
            value = leaf.value if isinstance(leaf, Tensor) else leaf
            if compiler.is_traced(value):
                outputs.append((True, None))
                traced_outputs.append(value)
            else:
                outputs.append((False, leaf))
        real_leaves = []
        for (kind, value), leaf in zip(outputs, out_flat):
            if kind:
                real = tracer.real(leaf.value if isinstance(leaf, Tensor) else leaf)
                real_leaves.append(Tensor(np.array(real)))
            else:
                real_leaves.append(value)
        real_result = pack(result, iter(real_leaves))
        if tracer.invalid is not None:
            self._eager_reason = tracer.invalid
            warnings.warn(f"tf.function could not compile {self._python_function!r}: {tracer.invalid}. It runs "
                          f"eagerly from now on.", stacklevel=3)
            return real_result
        program = compiler.Program(tracer, traced_outputs, [names[i] for i in positions])
        used = program.used_slots
        if any(v.value is not real for v, real, _ in wrapped):
            # a variable was given a new array during the trace (an optimizer built at the first call re-homes its
            # variables into flat buffers): code after that read the new array as a constant. This call's results
            # are right; the next call traces again, with the new arrays bound.
            return real_result
        trace = _Trace()
        trace.program = program
        trace.bindings = [(v, real) for v, real, traced in wrapped if traced._slot in used]
        trace.positions = positions
        trace.structure = result
        trace.outputs = outputs
        trace.specs = [spec_of(flat[i], names[i]) for i in positions]
        self._traces[key] = trace
        return real_result

    # -- concrete functions -----------------------------------------------------------------------
    def get_concrete_function(self, *args, **kwargs) -> ConcreteFunction:
        """The ``ConcreteFunction`` for these arguments (tensors, or ``TensorSpec`` s; none with an
        ``input_signature``), tracing it if needed.

        TensorFlow traces symbolically; featherflow traces by running the function once on real values: a
        ``TensorSpec`` argument is traced on zeros (``None`` sizes as 1). Every array the trace binds as state
        (variables, optimizer slots and step counters, metric totals) and the random generator are put back
        afterwards, so nothing is updated; Python side effects of the function (appending to a list,
        printing) happen, as they do when TensorFlow traces.
        """
        if not args and not kwargs and self._signature_structure is not None:
            args = tuple(self._signature_structure)
        if self._input_signature is not None and any(not isinstance(leaf, TensorSpec)
                                                     for leaf in flatten(list(args), [])):
            args, kwargs = self._bind_signature(args, kwargs)
        key = key_of(args, kwargs)
        trace = self._traces.get(key)
        if trace is None:
            with _TRACE_LOCK:
                self._trace(key, args, kwargs, dry=True)
                trace = self._traces.get(key)
                if trace is None and self._eager_reason is None:  # (variables re-homed during it: once more)
                    self._trace(key, args, kwargs, dry=True)
            trace = self._traces.get(key)
            if trace is None:
                raise compiler.TraceError(f"{self._python_function!r} could not be compiled: {self._eager_reason}")
        return ConcreteFunction(self, trace, args, kwargs)


def _check_spec(spec):
    if not isinstance(spec, TensorSpec):
        raise TypeError(f"input_signature must be a possibly nested sequence of TensorSpec objects. Received: "
                        f"{spec!r}")
    return spec


class ConcreteFunction:
    """One traced signature of a ``Function``: callable, with its signature, outputs and readable program."""

    def __init__(self, function: Function, trace: _Trace, args, kwargs) -> None:
        self._function = function
        self._trace = trace
        self._args = args
        self._kwargs = kwargs

    def __call__(self, *args, **kwargs):
        return self._function(*args, **kwargs)

    @property
    def structured_input_signature(self):
        """``(args, kwargs)`` with a ``TensorSpec`` for each tensor argument."""
        def spec(leaf):
            return spec_of(leaf) if is_input(leaf) else leaf

        return (tuple(pack(list(self._args), iter([spec(v) for v in flatten(list(self._args), [])]))),
                pack(self._kwargs, iter([spec(v) for v in flatten(self._kwargs, [])])))

    @property
    def structured_outputs(self):
        """The outputs' structure, with a ``TensorSpec`` for each tensor."""
        program_outputs = iter([TensorSpec(*spec) for spec in self._trace.program.output_specs])
        leaves = [next(program_outputs) if kind else value for kind, value in self._trace.outputs]
        return pack(self._trace.structure, iter(leaves))

    @property
    def python_function(self):
        return self._function.python_function

    def pretty_printed_signature(self, verbose: bool = True) -> str:
        """The signature as TensorFlow prints it (``Input Parameters`` / ``Output Type``)."""
        lines = ["Input Parameters:"]
        for name, spec in zip(self._trace.program.input_names, self._trace.specs):
            lines.append(f"  {name} (POSITIONAL_OR_KEYWORD): {spec!r}")
        lines += ["Output Type:", f"  {self.structured_outputs!r}", "Captures:"]
        captured = self._trace.program.captured_names()
        lines += [f"  {c}" for c in captured] if captured else ["  None"]
        return "\n".join(lines)

    def pretty_printed_code(self) -> str:
        """The compiled program as Python source: one line per NumPy call, commented with where it was made."""
        return self._trace.program.printed_source().rstrip("\n")

    @property
    def graph(self):
        """The compiled program (featherflow's graph)."""
        return self._trace.program

    def __repr__(self) -> str:
        return f"<ConcreteFunction {self._function._name} ({len(self._trace.program.steps)} steps)>"


def function(func=None, input_signature=None, autograph=True, jit_compile=None, reduce_retracing=False,
             experimental_implements=None, experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None, experimental_follow_type_hints=None):
    """Compile a Python function into a traced NumPy program (``tf.function``).

    Usable bare (``@function``), with arguments (``@function(reduce_retracing=True)``), as a call
    (``function(f)``) and on methods (one set of traces per instance).

    Args:
        func: the function to compile.
        input_signature: a list of ``TensorSpec`` s every call must match (``None`` sizes match any size);
            calls then trace once for TensorFlow's count (featherflow still compiles per concrete shape).
        autograph: accepted; featherflow does not convert Python control flow (a branch on a tensor value
            raises ``OperatorNotAllowedInGraphError``).
        jit_compile: accepted for compatibility.
        reduce_retracing: generalize shapes after a retrace, as TensorFlow (one more trace covers every shape).
        experimental_relax_shapes: the older name of ``reduce_retracing``.
    """
    if experimental_relax_shapes is not None:
        reduce_retracing = reduce_retracing or bool(experimental_relax_shapes)

    def wrap(f):
        return Function(f, input_signature=input_signature, autograph=autograph,
                        jit_compile=jit_compile if jit_compile is not None else experimental_compile,
                        reduce_retracing=reduce_retracing)

    return wrap if func is None else wrap(func)
