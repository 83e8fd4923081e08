"""``Program``: the recorded steps of a trace, compiled into one Python function that replays them.

Compiling keeps only the steps that matter (those with a side effect - a write into an array, a host call -
and those whose results are used), plans the buffers (every elementwise ufunc and ``matmul`` result gets a
preallocated array of its own, reused at every call through ``out=``) and writes the whole program as Python
source: one line per NumPy call, no tape, no Tensor objects, no per-op dispatch. The same source is what
``pretty_printed_code()`` shows: graph mode you can read.

>>> import numpy as np
>>> from featherflow.compiler import Tracer
>>> tracer = Tracer()
>>> with tracer:
...     x = tracer.input(np.ones(3))
...     unused = x * 10.0
...     y = np.exp(x) + 1.0
>>> program = Program(tracer, [y], ["x"])
>>> print(program.source.strip())  # doctest: +NORMALIZE_WHITESPACE
def program(x):
    t2 = exp(x, out=b2)  # <doctest ...>
    t3 = add(t2, 1.0, out=b3)  # <doctest ...>
    return (t3.copy(),)
>>> program(np.zeros(3))[0]
array([2., 2., 2.])
"""

from __future__ import annotations

import keyword
import math
import re
from time import perf_counter as _clock

import numpy as np

from featherflow.compiler import fusion, rewrite
from featherflow.compiler.branches import select as _select
from featherflow.compiler.steps import Slot, Step, reads, slots
from featherflow.compiler.tracer import Tracer, original

_IDENT = re.compile(r"[^0-9a-zA-Z_]")


def _slots_in(value, out: set) -> set:
    out.update(slots(value, []))
    return out


def _out_slots(step: Step) -> tuple:
    outs = step.outs
    if outs is None:
        return ()
    return outs if isinstance(outs, tuple) else (outs,)


def live_steps(steps: list, outputs: set) -> list:
    """The steps a program needs: side effects, and what they and the outputs read (dead steps dropped)."""
    live = set(outputs)
    kept = []
    for step in reversed(steps):
        if step.effect or any(o in live for o in _out_slots(step)):
            kept.append(step)
            _slots_in(reads(step), live)
    kept.reverse()
    return kept


class Program:
    """A compiled trace: ``program(*inputs)`` returns the list of output values.

    Args:
        tracer: the closed ``Tracer`` whose steps to compile.
        outputs: the outputs: traced arrays (``TracedArray``) or constants returned as they are.
        input_names: names of the parameters, one per ``tracer.inputs`` slot.
        plan_buffers: give ufunc results preallocated buffers (``out=``); ``False`` allocates as NumPy does.
    """

    def __init__(self, tracer: Tracer, outputs: list, input_names=None, plan_buffers: bool = True) -> None:
        if not tracer.finished:
            tracer.finish()
        templates = [tracer._template(tracer.output(o)) for o in outputs]
        steps, templates = _localize(tracer, templates)
        self.steps = live_steps(steps, _slots_in(templates, set()))
        constants = {}
        if plan_buffers:
            self.steps, constants = rewrite.optimize(self.steps, templates, tracer.real_values)
            self.steps = live_steps(self.steps, _slots_in(templates, set()))  # what only folded steps read
            referenced = _slots_in(templates, set())
            for step in self.steps:
                _slots_in(reads(step), referenced)
            constants = {slot: value for slot, value in constants.items() if slot in referenced}
        self.recorded_steps = len(tracer.steps)
        self.namespace: dict = {"__builtins__": {}, "slice": slice, "Ellipsis": Ellipsis}  # names the source uses
        self._const_names: dict = {}
        self._buffer_names: dict = {}
        self._names: dict = {}
        used_names = {"slice", "Ellipsis", "program"}
        names = list(input_names) if input_names is not None else [f"arg{i}" for i in range(len(tracer.inputs))]
        params = []
        for slot, name in zip(tracer.inputs, names):
            name = self._unique(_identifier(name), used_names)
            self._names[slot] = name
            params.append(name)
        for slot, array, name, _ in tracer.states.values():
            name = self._unique(_identifier(name), used_names)
            self._names[slot] = name
            self.namespace[name] = array
        self._used = used_names
        for slot, value in constants.items():
            self._names[slot] = self._const(value, "const")
        lines = [f"def program({', '.join(params)}):"]
        real = tracer.real_values
        self._fills = _filled_slots(self.steps, templates)
        step_lines = {}
        for step in self.steps:
            step_lines[id(step)] = "    " + self._line(step, real, plan_buffers) + f"  # {step.where}"
            lines.append(step_lines[id(step)])
        returned = ", ".join(self._expr(t, copy=True) for t in templates)
        lines.append(f"    return ({returned}{',' if len(templates) == 1 else ''})")
        self.source = "\n".join(lines) + "\n"
        self._templates = templates  # the outputs (handover.py hands planned buffers over without a copy)
        self._input_slots = list(tracer.inputs)  # (bounds.py follows values from the inputs)
        self._constant_slots = constants
        self._fused_namespace = None
        exec(compile(self.source, "<featherflow program>", "exec"), self.namespace)  # noqa: S102 - our own code
        self._fn = self._numpy_fn = self.namespace["program"]
        self.groups: list = []
        self.fused_source = None
        self._fused = False
        if plan_buffers and fusion.available():
            self._plan_fusion(tracer, templates, step_lines, lines[0], lines[-1])
        self.input_names = params
        used = set()
        _slots_in(templates, used)
        for step in self.steps:
            _slots_in(reads(step), used)
            used.update(_out_slots(step))
        self.used_slots = used
        self.output_specs = [(tuple(np.shape(real[t.index])), np.result_type(real[t.index]))
                             if type(t) is Slot else t for t in templates]
        self._state_names = [self._names[slot] for slot, *_ in tracer.states.values() if slot in used]

    def captured_names(self) -> list:
        """The names of the state arrays (variables, optimizer buffers) the program reads or writes."""
        return list(self._state_names)

    def __call__(self, *inputs) -> tuple:
        return self._fn(*inputs)

    # -- elementwise fusion (fusion.py) ----------------------------------------------------------------
    def _plan_fusion(self, tracer, templates, step_lines, header, footer) -> None:
        real = tracer.real_values
        temporaries, last_read = set(), {}
        for position, step in enumerate(self.steps):
            temporaries.update(_out_slots(step))
            for slot in _slots_in(reads(step), set()):
                last_read[slot] = position
        for slot in _slots_in(templates, set()):
            last_read[slot] = len(self.steps)
        states = {slot for slot, *_ in tracer.states.values()}
        items = fusion.plan_groups(self.steps, lambda slot, end: last_read.get(slot, -1) > end, real, temporaries,
                                   states, self._expr)
        lines = [header]
        for item in items:
            if type(item) is not fusion.Group:
                lines.append(step_lines[id(item)])
                continue
            item.name = self._unique(f"fused_{len(self.groups) + 1}", self._used)
            self.groups.append(item)
            args = [self._expr(operand.value) for operand in item.operands]
            for slot, in_place in item.outputs:
                if in_place:
                    args.append(f"t{slot}")
                else:
                    buffer = self._buffer(slot, real)
                    args.append(f"t{slot} := {buffer}")
            lines.append(f"    {item.name}({', '.join(args)})  # {item.summary}")
        if not self.groups:
            return
        lines.append(footer)
        self.fused_source = "\n".join(lines) + "\n"
        if fusion.fusion_mode() == "on":
            self.fuse()
        else:
            self._calls, self._spent = 0, 0.0
            self._fn = self._count_calls

    def _count_calls(self, *inputs) -> tuple:
        start = _clock()
        out = self._numpy_fn(*inputs)
        self._calls += 1
        self._spent += _clock() - start
        if self._calls >= fusion.AUTO_AFTER_CALLS or self._spent >= fusion.AUTO_AFTER_SECONDS:
            self.fuse()
        return out

    def fuse(self) -> bool:
        """Compile the fused kernels now and run the fused program from the next call (``False`` when there is
        nothing to fuse, or a kernel did not compile: the NumPy program goes on, with a warning)."""
        if self.fused_source is None:
            return False
        if self._fused:
            return True
        try:
            for group in self.groups:
                self.namespace[group.name] = fusion.compile_kernel(group)
            namespace = dict(self.namespace)
            exec(compile(self.fused_source, "<featherflow fused program>", "exec"), namespace)  # noqa: S102
        except Exception as error:  # noqa: BLE001 - reported: the NumPy program keeps running
            import warnings

            warnings.warn(f"featherflow could not compile a fused kernel ({type(error).__name__}: {error}); the "
                          f"program keeps its NumPy steps.", RuntimeWarning, stacklevel=2)
            self.fused_source = None
            self._fn = self._numpy_fn
            return False
        self._fn = namespace["program"]
        self._fused_namespace = namespace
        self._fused = True
        return True

    @property
    def fused(self) -> bool:
        """Whether calls run the fused program."""
        return self._fused

    def printed_source(self) -> str:
        """The program that runs (the fused one, with its kernels, when fusion applies): ``pretty_printed_code``."""
        parts = []
        for step in self.steps:  # host steps that run programs of their own (a compiled tf.while_loop)
            printed = getattr(step.fn, "printed_parts", None)
            if step.kind == "host" and printed is not None:
                parts.append(printed(self._const_names[id(step.fn)]))
        if self.fused_source is None:
            return "\n\n".join([self.source] + parts)
        kernels = "\n\n".join(f"# {group.name}: {group.summary}\n" + fusion.kernel_module_source(group).split(
            "\n\n\n", 1)[1].replace("def kernel(", f"def {group.name}(") for group in self.groups)
        return "\n\n".join([self.fused_source, kernels] + parts)

    # -- code generation -----------------------------------------------------------------------
    @staticmethod
    def _unique(name: str, used: set) -> str:
        base, n = name, 1
        while name in used or keyword.iskeyword(name) or re.fullmatch(r"t\d+|_b\d+", name):
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        return name

    def _slot_name(self, index: int) -> str:
        return self._names.get(index) or f"t{index}"

    def _const(self, value, hint: str) -> str:
        key = id(value)
        name = self._const_names.get(key)
        if name is None:
            name = self._unique(_identifier(hint), self._used)
            self.namespace[name] = value
            self._const_names[key] = name
        return name

    def _buffer(self, slot: int, real: list) -> str:
        """The name of slot ``slot``'s preallocated result buffer (made once, shared by the NumPy and fused
        programs)."""
        name = self._buffer_names.get(slot)
        if name is None:
            name = self._buffer_names[slot] = self._const(original("empty_like")(real[slot]), f"_b{slot}")
        return name

    def _expr(self, value, copy: bool = False) -> str:
        kind = type(value)
        if kind is _Raw:
            return value.text
        if kind is Slot:
            name = self._slot_name(value.index)
            return f"{name}.copy()" if copy else name
        if value is None or kind is bool or kind is int or kind is str or value is Ellipsis:
            return repr(value)
        if kind is float:
            return repr(value) if math.isfinite(value) else self._const(value, "inf" if value > 0 else "ninf")
        if kind is tuple:
            inner = ", ".join(self._expr(v) for v in value)
            return f"({inner}{',' if len(value) == 1 else ''})"
        if kind is list:
            return "[" + ", ".join(self._expr(v) for v in value) + "]"
        if kind is dict and all(type(k) is str for k in value):
            return "{" + ", ".join(f"{k!r}: {self._expr(v)}" for k, v in value.items()) + "}"
        if kind is slice:
            return f"slice({self._expr(value.start)}, {self._expr(value.stop)}, {self._expr(value.step)})"
        if isinstance(value, np.dtype):
            return self._const(value, value.name)
        if isinstance(value, type):
            return self._const(value, value.__name__)
        if isinstance(value, np.ndarray):
            return self._const(value, "c")
        if isinstance(value, np.generic):
            return self._const(value, f"{type(value).__name__}_const")
        return self._const(value, getattr(value, "__name__", type(value).__name__.lower()))

    def _call_args(self, args, kwargs) -> str:
        parts = [self._expr(a) for a in args]
        parts += [f"{k}={self._expr(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)

    def _line(self, step: Step, real: list, plan_buffers: bool) -> str:
        line = self._statement(step, real, plan_buffers)
        if step.guard is None:
            return line
        test = " and ".join(("" if polarity else "not ") + self._slot_name(slot) for slot, polarity in step.guard)
        outs = _out_slots(step)
        if not any(o in self._fills for o in outs):
            return f"if {test}: {line}"
        lhs, rhs = line.split(" = ", 1)
        fills = [self._fill(real[o]) for o in outs]
        fill = fills[0] if type(step.outs) is int else f"({', '.join(fills)}{',' if len(fills) == 1 else ''})"
        return f"{lhs} = ({rhs}) if {test} else {fill}"

    def _fill(self, value) -> str:
        """The value a skipped branch leaves in a slot read outside it: zeros of the value's shape and dtype."""
        if isinstance(value, np.ndarray):
            return f"{self._const(original('zeros'), 'zeros')}({value.shape!r}, {self._expr(value.dtype)})"
        if isinstance(value, np.generic):
            return self._expr(value.dtype.type(0))
        return repr(type(value)(0))

    def _statement(self, step: Step, real: list, plan_buffers: bool) -> str:
        outs = step.outs
        if outs is None:
            lhs = ""
        elif isinstance(outs, tuple):
            lhs = ", ".join(f"t{o}" for o in outs) + ("," if len(outs) == 1 else "") + " = "
        else:
            lhs = f"t{outs} = "
        kwargs = step.kwargs
        if step.kind == "call":
            fn = step.fn
            if fn is _select and len(step.args) == 3 and not kwargs:
                pred, on_true, on_false = (self._expr(a) for a in step.args)
                return f"{lhs}{on_true} if {pred} else {on_false}"
            name = self._const(fn, getattr(fn, "__name__", "fn"))
            if step.attr is not None:
                name = f"{name}.{step.attr}"
            elif (plan_buffers and isinstance(fn, np.ufunc) and fn.nout == 1 and "out" not in kwargs
                  and not step.dynamic and type(outs) is int and type(real[outs]) is np.ndarray):
                buffer = self._buffer(outs, real)
                kwargs = {**kwargs, "out": _Raw(buffer)}
            return f"{lhs}{name}({self._call_args(step.args, kwargs)})"
        if step.kind == "host":
            name = self._const(step.fn, f"host_{step.attr or getattr(step.fn, '__name__', 'call')}")
            return f"{lhs}{name}({self._call_args(step.args, kwargs)})"
        if step.kind == "method":
            target, rest = step.args[0], step.args[1:]
            if step.attr == "__getitem__":
                return f"{lhs}{self._expr(target)}[{self._expr(rest[0])}]"
            return f"{lhs}{self._expr(target)}.{step.attr}({self._call_args(rest, kwargs)})"
        target, key, value = step.args  # setitem
        return f"{self._expr(target)}[{self._expr(key)}] = {self._expr(value)}"


def _filled_slots(steps: list, templates) -> set:
    """The slots a guarded step makes that are read where its guard may not hold (outside its branch, or as an
    output): the program gives them zeros when the branch does not run. ``select`` reads each of its two
    values only where that value's branch ran."""
    made = {}
    for step in steps:
        if step.guard is not None:
            for slot in _out_slots(step):
                made[slot] = step.guard
    if not made:
        return set()
    fills = {slot for slot in _slots_in(templates, set()) if slot in made}
    for step in steps:
        outer = step.guard or ()
        if step.kind == "call" and step.fn is _select and len(step.args) == 3 and type(step.args[0]) is Slot:
            pred = step.args[0].index
            uses = [(step.args[0], outer), (step.args[1], outer + ((pred, True),)),
                    (step.args[2], outer + ((pred, False),))]
        else:
            uses = [((step.args, step.kwargs), outer)]
        for value, guard in uses:
            for slot in slots(value, []):
                inner = made.get(slot)
                if inner is not None and guard[:len(inner)] != inner:
                    fills.add(slot)
    return fills


def _localize(tracer: Tracer, templates: list):
    """Give every plain array written during the trace that is not (part of) bound state its trace-time
    contents back before its first write, at each call: a buffer the function created (``np.zeros`` then
    ``np.add.at``) must not carry one call's sums into the next. The array is restored in place, so every view
    of it sees the new values. Returns the steps and output templates."""
    states = [array for _, array, _, _ in tracer.states.values()]
    starts: dict = {}
    for first, array, before in tracer.written.values():
        if before is None or any(np.may_share_memory(array, s) for s in states):
            continue  # (an np.empty buffer has no starting contents to give back)
        init = Step("call", original("copyto"), None, (array, before), {}, True,
                    "restore a buffer created while tracing (fresh contents each call)")
        starts.setdefault(first, []).append(init)
    if not starts:
        return tracer.steps, templates
    steps = []
    for index, step in enumerate(tracer.steps):
        steps.extend(starts.get(index, ()))
        steps.append(step)
    return steps, templates


class _Raw:
    """Already-generated source text inside a template."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _identifier(text: str) -> str:
    name = _IDENT.sub("_", str(text)).strip("_") or "v"
    return "_" + name if name[0].isdigit() else name
