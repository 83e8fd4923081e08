"""Parts of a trace recorded apart and compiled as programs of their own: what a compiled ``tf.while_loop``
(``ops/_traced_loop.py``) is made of.

* ``record_apart(tracer, fn, args)``: run ``fn`` recording its steps into a list of their own, as a branch the
  call does not take (nothing it writes or prints stays: the program's runs do that);
* ``free_slots(tracer, step_lists, outputs, own)``: the values those steps read from the rest of the trace;
* ``part_program(tracer, steps, written, inputs, outputs, names)``: the steps compiled as a ``Program`` whose
  parameters are ``inputs``;
* ``new_value(tracer, real)`` / ``traced_value(tracer, slot)``: a new parameter value; the traced value of a slot
  (to pass it to a host call).

>>> import numpy as np
>>> from featherflow.compiler import Tracer
>>> tracer = Tracer()
>>> with tracer:
...     x = tracer.input(np.array([1.0, 2.0]))
...     y, steps, written = record_apart(tracer, lambda v: v * 3.0, (x,))
>>> free_slots(tracer, [steps], [y], set()) == [x._slot]
True
>>> part_program(tracer, steps, written, [x._slot], [y], ["x"])(np.array([5.0, 1.0]))[0]
array([15.,  3.])
"""

from __future__ import annotations

import numpy as np

from featherflow.compiler.program import Program
from featherflow.compiler.steps import reads, slots
from featherflow.compiler.traced import TracedArray, TracedScalar, is_traced
from featherflow.compiler.tracer import Tracer


def new_value(tracer, real):
    """A new traced value holding ``real`` that no step makes (a loop variable, a gradient seed: a parameter of
    a part's program)."""
    return tracer._new(real)


def traced_value(tracer, slot: int):
    """The traced value of ``slot`` (a TracedScalar for a Python number)."""
    real = tracer.real_values[slot]
    cls = TracedScalar if isinstance(real, (int, float)) and not isinstance(real, bool) else TracedArray
    return cls(real, slot, tracer)


def part_program(tracer, steps, written, inputs, outputs, names) -> Program:
    """``steps`` (recorded by ``tracer`` into a list of their own, ``record_apart``) as a Program of ``inputs``
    (slots). It returns copies of its outputs, so a value it hands back never shares its buffers."""
    part = Tracer()
    part.steps, part.inputs, part.written = steps, list(inputs), written
    part.real_values, part.states = tracer.real_values, tracer.states
    part._template = tracer._template  # (the values are the outer trace's)
    part.finished = part.closed = True
    return Program(part, outputs, names)


def free_slots(tracer, step_lists, outputs, own) -> list:
    """The slots the steps or ``outputs`` read that neither the steps nor ``own`` make (values from the rest of
    the trace); arrays bound as state are read by name, not passed."""
    made = set(own)
    states = {slot for slot, *_ in tracer.states.values()}
    found = []
    for steps in step_lists:
        for step in steps:
            outs = step.outs
            made.update(() if outs is None else outs if isinstance(outs, tuple) else (outs,))
    for steps in step_lists:
        for step in steps:
            for slot in slots(reads(step), []):
                if slot not in made and slot not in states and slot not in found:
                    found.append(slot)
    for value in outputs:
        if is_traced(value) and value._slot not in made and value._slot not in states and value._slot not in found:
            found.append(value._slot)
    return found


def record_apart(tracer, fn, args):
    """Run ``fn(*args)`` recording its steps into a list of their own: ``(result, steps, written)``. The
    recording's values are not the ones its program will compute: it records as a branch the call does not take
    does (tf.print and the like are left to the program's runs)."""
    steps, memo, dead, before = tracer.steps, tracer.memo, tracer.dead, set(tracer.written)
    tracer.steps, tracer.memo = [], {}
    tracer.dead = True
    try:
        with np.errstate(all="ignore"):
            result = fn(*args)
        recorded = tracer.steps
    finally:
        tracer.steps, tracer.memo, tracer.dead = steps, memo, dead
    written = {key: tracer.written.pop(key) for key in list(tracer.written) if key not in before}
    return result, recorded, written


__all__ = ["free_slots", "new_value", "part_program", "record_apart", "traced_value"]
