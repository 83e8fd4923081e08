"""``Tracer``: records the NumPy calls a function makes on traced arrays as the steps of a ``Program``.

A step is ``(kind, fn, args, kwargs, outs)``; in ``args`` / ``kwargs`` a traced value is a ``Slot`` and a
plain ndarray met during the trace is *captured by reference* (replay reads the same array object, so
in-place updates made outside the program are seen). ``state(array)`` binds an array the program reads
and writes in place (a variable's value, an optimizer buffer) to a slot of its own, so that code working
only on state (``m *= beta_1``) is recorded too.

While a trace is active, NumPy's conversion functions (``np.asarray``, ``np.array``...) are wrapped for the
tracing thread (``patches.py``), so that converting a traced value records a step instead of reading the value out, and its
creation functions (``np.zeros``, ``np.empty``...) hand out ``TracedBuffer`` s (``buffers.py``): once a recorded
step writes into one, its every later use is recorded too. Such a buffer is given its trace-time starting
contents again at every replay (``Program``; none for ``np.empty``), so it never accumulates across calls;
arrays that share memory with bound state are written in place, and a recorded write into any other plain
array is reported as an escape (``finish``).

>>> import numpy as np
>>> tracer = Tracer()
>>> with tracer:
...     x = tracer.input(np.arange(3.0))
...     buf = np.zeros(3)
...     np.add.at(buf, [0, 0, 2], x[:3])
>>> tracer.real(buf)
array([1., 0., 2.])
"""

from __future__ import annotations

import os
import sys

import numpy as np

from featherflow.compiler._state import TraceError, _local
from featherflow.compiler.buffers import TracedBuffer, root_of
from featherflow.compiler.errors import OperatorNotAllowedInGraphError
from featherflow.compiler.patches import install, original, uninstall  # noqa: F401 (original re-exported)
from featherflow.compiler.steps import Slot, Step  # noqa: F401 (re-exported)
from featherflow.compiler.traced import TracedArray, TracedScalar

# array functions whose result is metadata, the same for every value of the given shapes and dtypes
_STATIC_FUNCS = {np.shape, np.ndim, np.size, np.iscomplexobj, np.isrealobj, np.result_type, np.min_scalar_type,
                 np.can_cast}
# array functions whose output shape depends on the values
_DYNAMIC_FUNCS = {np.unique, np.nonzero, np.flatnonzero, np.argwhere, np.extract, np.compress, np.setdiff1d,
                  np.intersect1d, np.union1d, np.setxor1d, np.trim_zeros, np.delete, np.insert}
# array functions that write into their first argument
_WRITING_FUNCS = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis}
# where a tensor's value is converted on the user's behalf (float(t), bool(t), t.numpy()): the escape is
# reported at the caller
_CONVERSION_FILES = (os.path.join("core", "tensor.py"), os.path.join("core", "variable.py"),
                     os.path.join("backend", "arrays.py"))
_HERE = os.path.dirname(os.path.abspath(__file__))
_NUMPY = os.path.dirname(np.__file__)
_FEATHERFLOW = os.path.dirname(_HERE)




def _where() -> str:
    """``file:line in function`` of the innermost frame outside the compiler and NumPy, and the first frame
    outside featherflow (the user's line), for error messages and the printed program."""
    frame = sys._getframe(1)
    inner = outer = None
    while frame is not None:
        path = frame.f_code.co_filename
        if not path.startswith(_HERE) and not path.startswith(_NUMPY) and "<__array_function__" not in path \
                and not path.endswith(_CONVERSION_FILES):
            if inner is None:
                inner = frame
            if not path.startswith(_FEATHERFLOW):
                outer = frame
                break
        frame = frame.f_back

    def fmt(f):
        path = f.f_code.co_filename
        if path.startswith(_FEATHERFLOW):
            path = "featherflow" + path[len(_FEATHERFLOW):]
        return f"{path}:{f.f_lineno} in {f.f_code.co_name}"

    if inner is None:
        return "<unknown>"
    if outer is None or outer is inner:
        return fmt(inner)
    return f"{fmt(inner)} (called from {fmt(outer)})"




class Tracer:
    """Records a function's NumPy calls (use it as a context manager in the tracing thread).

    Args:
        on_escape: ``"error"`` raises ``TraceError`` (``OperatorNotAllowedInGraphError`` for ``bool``) where a
            traced value leaves the program; ``"eager"`` notes the first escape in ``invalid`` and goes on with
            the real value, so the call still completes with eager results; ``"auto"``: ``"eager"`` for an
            escape inside featherflow's own code (an op that is not traceable yet), ``"error"`` for the
            user's code.
    """

    def __init__(self, on_escape: str = "error") -> None:
        if on_escape not in ("error", "eager", "auto"):
            raise ValueError(f"on_escape must be 'error', 'eager' or 'auto'. Received: on_escape={on_escape!r}")
        self.on_escape = on_escape
        self.steps: list = []
        self.inputs: list = []  # slots of the program's parameters, in order
        self.states: dict = {}  # id(array) -> (slot, array, name): arrays bound as state
        self.real_values: list = []  # slot -> real value at trace time
        self.written: dict = {}  # id(root array) -> (index of its first recorded write, root, contents before)
        self.buffers: dict = {}  # id(root) -> [root, fresh]: arrays the trace created (TracedBuffer's memory)
        self.untracked: list = []  # (array, where): recorded writes into plain arrays nobody can watch
        self.captures: dict = {}  # id(written TracedBuffer) -> (buffer, its TracedArray)
        self.invalid = None  # the first escape, in "eager" mode
        self.closed = False
        self.finished = False
        self.snapshots = None  # a list: keep (array, its contents) of every array bound as state, to restore
        self.memo: dict = {}  # per-trace notes of ops (a check already recorded for these very values)
        self.guard = None  # the branch being recorded (branches.py): steps run only when it holds
        self.dead = False  # whether that branch is not the one the trace's real values take
        self.dead_slots: dict = {}  # slot made in a dead branch -> its guard (read as zeros outside it)
        self._previous = None

    # -- activation ---------------------------------------------------------------------------
    def __enter__(self):
        self._previous = (_local.tracer, _local.suspended)
        _local.tracer = self
        _local.suspended = 0
        install()
        return self

    def __exit__(self, *exc) -> bool:
        _local.tracer, _local.suspended = self._previous
        uninstall()
        self.closed = True
        return False

    # -- slots --------------------------------------------------------------------------------
    def _new(self, real) -> TracedArray:
        slot = len(self.real_values)
        self.real_values.append(real)
        if self.dead:
            self.dead_slots[slot] = self.guard
        return TracedArray(real, slot, self)

    def _live_real(self, value):
        """The real value of ``value`` as the code being recorded sees it: a value made in a dead branch reads
        as zeros outside that branch (what the program computes when the branch does not run)."""
        guard = self.dead_slots.get(value._slot)
        if guard is None or (self.guard is not None and self.guard[:len(guard)] == guard):
            return value._real
        real = value._real
        if isinstance(real, np.ndarray):
            return original("zeros")(real.shape, real.dtype)
        if isinstance(real, np.generic):
            return real.dtype.type(0)
        return type(real)(0)

    def input(self, real) -> TracedArray:
        """A new program parameter holding ``real`` at trace time."""
        traced = self._new(real)
        self.inputs.append(traced._slot)
        return traced

    def state(self, array, name: str = "state") -> TracedArray:
        """Bind ``array`` (read and written in place by the program) to a slot: the same TracedArray for the
        same array object. Replay uses the very same object."""
        entry = self.states.get(id(array))
        if entry is not None:
            return entry[3]
        traced = self._new(array)
        self.states[id(array)] = (traced._slot, array, name, traced)
        if self.snapshots is not None:
            self.snapshots.append((array, array.copy()))
        return traced

    def real(self, value):
        """``value`` with every TracedArray (also inside lists, tuples, dicts, slices) replaced by its real
        array."""
        kind = type(value)
        if kind is TracedArray or kind is TracedScalar:
            return self._live_real(value) if self.dead_slots else value._real
        if kind is TracedBuffer:
            return value.view(np.ndarray)
        if kind is tuple or kind is list:
            return kind(self.real(v) for v in value)
        if kind is dict:
            return {k: self.real(v) for k, v in value.items()}
        if kind is slice:
            return slice(self.real(value.start), self.real(value.stop), self.real(value.step))
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            return kind(*(self.real(v) for v in value))
        return value

    def _template(self, value):
        kind = type(value)
        if kind is TracedArray or kind is TracedScalar:
            if value._tracer is not self:
                raise TraceError(f"A value traced by another tf.function was used here ({_where()}): tensors "
                                 f"created inside a tf.function cannot be kept and used outside it.")
            return Slot(value._slot)
        if kind is TracedBuffer:  # the program reads the buffer's memory through a plain view
            return value.view(np.ndarray)
        if kind is tuple or kind is list:
            return kind(self._template(v) for v in value)
        if kind is dict:
            return {k: self._template(v) for k, v in value.items()}
        if kind is slice:
            return slice(self._template(value.start), self._template(value.stop), self._template(value.step))
        return value

    def _check_open(self) -> None:
        if self.closed:
            raise TraceError(f"A tensor created while tracing a tf.function was used after the function returned "
                             f"({_where()}). Tensors made inside a tf.function cannot be stored in Python objects "
                             f"and used later: return them from the function instead.")

    def _record(self, kind, fn, attr, args, kwargs, effect) -> Step:
        step = Step(kind, fn, attr, self._template(args), self._template(kwargs), effect, _where())
        step.guard = self.guard
        self.steps.append(step)
        return step

    def _new_scalar(self, real) -> TracedScalar:
        slot = len(self.real_values)
        self.real_values.append(real)
        if self.dead:
            self.dead_slots[slot] = self.guard
        return TracedScalar(real, slot, self)

    def python_op(self, op, operands):
        """Python arithmetic on traced Python numbers (``TracedScalar``): recorded, result a TracedScalar."""
        self._check_open()
        result = op(*self.real(operands))
        step = self._record("call", op, None, operands, {}, False)
        traced = self._new_scalar(result)
        step.outs = traced._slot
        return traced

    def _outputs(self, step: Step, result, what: str):
        if step.kind == "host" and isinstance(result, (tuple, list)) and result and \
                all(isinstance(r, (np.ndarray, np.generic, int, float)) for r in result) and \
                any(isinstance(r, (int, float)) for r in result):
            traced = [self._new_scalar(r) if isinstance(r, (int, float)) else self._new(r) for r in result]
            step.outs = tuple(t._slot for t in traced)
            return tuple(traced)
        if step.kind == "host" and isinstance(result, (int, float)):
            traced = self._new_scalar(result)
            step.outs = traced._slot
            return traced
        if isinstance(result, (np.ndarray, np.generic)):
            traced = self._new(result)
            step.outs = traced._slot
            return traced
        if isinstance(result, (tuple, list)) and result and all(isinstance(r, (np.ndarray, np.generic))
                                                                for r in result):
            traced = [self._new(r) for r in result]
            step.outs = tuple(t._slot for t in traced)
            if hasattr(result, "_fields"):
                return type(result)(*traced)
            return type(result)(traced) if isinstance(result, list) else tuple(traced)
        if result is None:
            step.effect = True
            return None
        self.steps.remove(step)
        return self.escape(None, f"{what} (it returned a Python {type(result).__name__})", value=result)

    def _dynamic(self, step: Step, args) -> None:
        for value in _iter_traced(args):
            if value._slot in self._dynamic_slots:
                step.dynamic = True
                return

    _dynamic_slots: set = frozenset()

    def _mark_dynamic(self, step: Step) -> None:
        if self._dynamic_slots is Tracer._dynamic_slots:
            self._dynamic_slots = set()
        outs = step.outs
        if outs is None:
            return
        self._dynamic_slots.update(outs if isinstance(outs, tuple) else (outs,))

    def _finish_step(self, step: Step, args) -> None:
        if not step.dynamic:
            self._dynamic(step, args)
        if step.dynamic:
            self._mark_dynamic(step)

    def _note_writes(self, targets) -> None:
        """Arrays about to be written by the next (recorded) step. A buffer the trace created (TracedBuffer)
        becomes *written*: its later uses are recorded. The contents before the first write are kept so the
        program gives the array the same starting contents at every call (``Program``); a plain array the
        trace did not create cannot be watched: noted, reported by ``finish`` unless it is bound state."""
        for target in targets:
            if type(target) is not np.ndarray and type(target) is not TracedBuffer:
                continue
            root = root_of(target)
            key = id(root)
            if key in self.written or key in self.states:
                continue
            buffer = self.buffers.get(key)
            before = None if buffer is not None and buffer[1] else root.copy()  # np.empty: no contents to keep
            self.written[key] = (len(self.steps), root, before)
            if buffer is None:
                self.untracked.append((root, _where()))

    def _outside(self, array) -> bool:
        """``array`` belongs to none of the trace's buffers, written arrays or bound state."""
        key = id(root_of(array))
        return key not in self.buffers and key not in self.written and key not in self.states

    # -- buffers the trace created ----------------------------------------------------------------
    def new_buffer(self, array, fresh: bool = False) -> None:
        root = root_of(array)
        if id(root) not in self.buffers:
            self.buffers[id(root)] = [root, fresh]

    def buffer_plain_write(self, target) -> None:
        """An unrecorded write into a buffer not written by the program yet: its contents must be kept."""
        if type(target) is TracedBuffer or type(target) is np.ndarray:
            buffer = self.buffers.get(id(root_of(target)))
            if buffer is not None:
                buffer[1] = False

    def note_buffer_write(self, buffer) -> None:
        self._note_writes((buffer,))

    def is_written(self, array) -> bool:
        return id(root_of(array)) in self.written

    def capture(self, buffer) -> TracedArray:
        """A written buffer as a traced value (the program reads the buffer itself, by reference)."""
        entry = self.captures.get(id(buffer))
        if entry is not None and entry[0] is buffer:
            return entry[1]
        traced = self.function(original("asarray"), (buffer.view(np.ndarray),), {})
        self.captures[id(buffer)] = (buffer, traced)
        return traced

    def output(self, value):
        """A function's output: a written buffer becomes its traced value (never a frozen constant), any other
        buffer a plain array."""
        if type(value) is TracedBuffer:
            if self.is_written(value):
                if self.closed:
                    raise TraceError("A buffer written while tracing must be turned into an output before the "
                                     "trace ends (Tracer.output inside the tracer's context).")
                return self.capture(value)
            return value.view(np.ndarray)
        return value

    def finish(self) -> None:
        """After the traced function returned: a recorded write into a plain array the trace neither created
        nor bound as state is an escape (plain NumPy reading that array later would be frozen)."""
        self.finished = True
        states = [array for _, array, _, _ in self.states.values()]
        for array, where in self.untracked:
            if any(np.may_share_memory(array, s) for s in states):
                continue
            self.escape(None, "a traced value written into a NumPy array created outside the traced function "
                              "(plain NumPy reading it later could not be replayed)", value=None, where=where)
            return

    @staticmethod
    def _run(fn, args, kwargs):
        """``fn(*args, **kwargs)`` on real values, untraced (NumPy's own Python code may create arrays)."""
        _local.suspended += 1
        try:
            return fn(*args, **kwargs)
        finally:
            _local.suspended -= 1

    # -- what NumPy hands to the TracedArray protocols ------------------------------------------
    def ufunc(self, ufunc, method, inputs, kwargs):
        if _local.suspended:
            return getattr(ufunc, method)(*self.real(inputs), **self.real(kwargs))
        self._check_open()
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        out = kwargs.get("out")
        if out is not None or method == "at":
            self._note_writes((out if isinstance(out, tuple) else (out,)) if out is not None else inputs[:1])
        result = self._run(fn, self.real(inputs), self.real(kwargs))
        step = self._record("call", ufunc, None if method == "__call__" else method, inputs, kwargs,
                            out is not None or method == "at")
        if out is not None:
            step.outs = None
            self._finish_step(step, (inputs, kwargs))
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        traced = self._outputs(step, result, f"numpy.{ufunc.__name__}")
        self._finish_step(step, (inputs, kwargs))
        return traced

    def function(self, func, args, kwargs, forced=False):
        if _local.suspended:
            return func(*self.real(args), **self.real(kwargs))
        self._check_open()
        if func in _STATIC_FUNCS:
            return func(*self.real(args), **self.real(kwargs))
        out = kwargs.get("out")
        if out is not None:
            self._note_writes(out if isinstance(out, tuple) else (out,))
        if func in _WRITING_FUNCS and args:
            self._note_writes(args[:1])
        result = self._run(func, self.real(args), self.real(kwargs))
        step = self._record("call", func, None, args, kwargs, out is not None)
        if out is not None:
            self._finish_step(step, (args, kwargs))
            return out
        traced = self._outputs(step, result, f"numpy.{getattr(func, '__name__', func)}")
        step.dynamic = func in _DYNAMIC_FUNCS
        self._finish_step(step, (args, kwargs))
        return traced

    def method(self, target: TracedArray, name: str, args, kwargs):
        if _local.suspended:
            return getattr(target._real, name)(*self.real(args), **self.real(kwargs))
        self._check_open()
        from featherflow.compiler.traced import _MUTATING_METHODS

        result = self._run(getattr(self.real(target), name), self.real(args), self.real(kwargs))
        step = self._record("method", None, name, (target,) + tuple(args), kwargs, name in _MUTATING_METHODS)
        if name in _MUTATING_METHODS:
            return None
        traced = self._outputs(step, result, f"ndarray.{name}")
        if name == "__getitem__":
            step.dynamic = any(getattr(k, "dtype", None) == np.bool_
                               for k in (args[0] if isinstance(args[0], tuple) else (args[0],)))
        self._finish_step(step, args)
        return traced

    def setitem(self, target: TracedArray, key, value) -> None:
        if _local.suspended:
            target._real[self.real(key)] = self.real(value)
            return
        self._check_open()
        target._real[self.real(key)] = self.real(value)
        self._record("setitem", None, None, (target, key, value), {}, True)

    def host(self, fn, args, kwargs, static: bool = False, name: str | None = None):
        """Run ``fn`` on real values now and record it to run again at every replay (see ``host_call``)."""
        self._check_open()
        watched, outside = [], {}
        for a in list(args) + list(kwargs.values()):
            if type(a) is TracedBuffer or (type(a) is np.ndarray and not self._outside(a)):
                watched.append(a)
            elif type(a) is np.ndarray:
                root = root_of(a)
                outside.setdefault(id(root), (root, root.copy()))
        self._note_writes(watched)
        _local.suspended += 1
        try:
            # (an effect-only call, such as tf.print's, in a branch this call does not take: recorded, not run)
            skip = self.dead and getattr(fn, "skip_when_dead", False)
            result = None if skip else fn(*self.real(args), **self.real(kwargs))
        finally:
            _local.suspended -= 1
        for key, (root, before) in outside.items():
            # an array from outside the trace that the call left as it was is an input (a constant filter, a
            # lookup table), not a write: only a changed one is noted (see ``finish``)
            if root.tobytes() != before.tobytes():
                self.written[key] = (len(self.steps), root, before)
                self.untracked.append((root, _where()))
        step = self._record("host", fn, name, args, kwargs, True)
        traced = self._outputs(step, result, f"host call {getattr(fn, '__name__', fn)}") if result is not None \
            else None
        step.effect = True
        step.dynamic = not static
        self._finish_step(step, (args, kwargs))
        return traced

    def escape(self, traced, what: str, control_flow: bool = False, **extra):
        """A value leaves the program (``what`` happened to it): an error, or, in "eager" mode, a note."""
        real = extra["value"] if "value" in extra else traced._real
        if _local.suspended:
            return real
        if self.closed and "where" not in extra:
            self._check_open()
        where = extra.get("where") or _where()
        if self.on_escape == "eager" or (self.on_escape == "auto" and where.startswith("featherflow")):
            if self.invalid is None:
                self.invalid = f"{what} at {where}"
            return real
        if control_flow:
            raise OperatorNotAllowedInGraphError(
                f"Using a symbolic `tf.Tensor` as a Python `bool` is not allowed in a tf.function (at {where}). "
                f"featherflow traces Python control flow once, so a branch or loop on a tensor's value cannot be "
                f"compiled: use tf.cond (or tf.where) for a branch and tf.while_loop for a loop, or run the function "
                f"eagerly (tf.config.run_functions_eagerly(True)).")
        raise TraceError(
            f"tf.function could not compile this function: {what} at {where} reads a tensor's value into Python, "
            f"which a compiled program cannot replay. Keep the computation in featherflow ops, use "
            f"tf.py_function / tf.numpy_function for Python code that needs the value, or run the function eagerly "
            f"(tf.config.run_functions_eagerly(True)).")


def _iter_traced(value):
    kind = type(value)
    if kind is TracedArray or kind is TracedScalar:
        yield value
    elif kind is tuple or kind is list:
        for v in value:
            yield from _iter_traced(v)
    elif kind is dict:
        for v in value.values():
            yield from _iter_traced(v)
    elif kind is slice:
        yield from _iter_traced((value.start, value.stop, value.step))
