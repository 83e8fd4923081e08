"""Branches in a traced program: what ``tf.cond`` compiles to.

A branch is a *guard*: ``((slot, polarity), ...)``, the predicate slots (outermost first) and the truth each
must have. Every step recorded inside ``under(guard)`` carries it (``Step.guard``), and the program runs the
step only when the guard holds (``Program`` writes ``if t5: ...`` on the step's line). A value a guarded step
makes and code outside the branch reads (a gradient flowing out of the branch into a sum) is zeros when the
branch does not run: the untaken branch contributes nothing, as in TensorFlow, and never NaN.

The trace runs both branches on real values, the taken one as any code and the other one *dead*: its steps
are recorded, its writes into state (variables, optimizer buffers) and its random draws are undone when it
ends, and code outside it reads its values as zeros, exactly what the program computes for that call. So the
first call's results (the trace's own) equal those of every later call.

``select(pred, a, b)`` joins the two branches' results; the program writes it as ``a if pred else b``.

>>> import numpy as np
>>> from featherflow.compiler import Program, Tracer
>>> tracer = Tracer()
>>> with tracer:
...     x = tracer.input(np.array([4.0, 9.0]))
...     p = x.sum() > 10.0
...     with under(tracer, ((p._slot, True),)):
...         a = np.sqrt(x)
...     with under(tracer, ((p._slot, False),)):
...         b = -x
...     y = tracer.function(select, (p, a, b), {})
>>> program = Program(tracer, [y], ["x"])
>>> program(np.array([4.0, 9.0]))[0], program(np.array([1.0, 2.0]))[0]
(array([2., 3.]), array([-1., -2.]))
"""

from __future__ import annotations

import numpy as np

from featherflow.backend import random as _backend_random


def select(pred, on_true, on_false):
    """``on_true`` when ``pred`` holds, else ``on_false`` (the join of a traced ``tf.cond``)."""
    return on_true if pred else on_false


def passthrough(value):
    """``value`` itself: a gradient handed into one branch (recorded under that branch's guard)."""
    return value


def is_dead(tracer, guard) -> bool:
    """Whether ``guard`` is false for the trace's real values (its steps do not run in the traced call)."""
    real = tracer.real_values
    return any(bool(real[slot]) != polarity for slot, polarity in guard)


class under:
    """Context manager: record the body's steps under ``guard`` (a tuple of ``(slot, polarity)``).

    Entering a dead branch from live code saves every array bound as state and the global random generator,
    and puts them back on exit (the body's writes happen only in the program, when the branch is taken).
    """

    __slots__ = ("tracer", "guard", "save", "previous", "saved", "errstate")

    def __init__(self, tracer, guard, save: bool = True) -> None:
        self.tracer = tracer
        self.guard = tuple(guard) or None
        self.save = save  # (False for a backward rule, which writes no state)

    def __enter__(self):
        tracer = self.tracer
        self.previous = (tracer.guard, tracer.dead)
        dead = tracer.dead or (self.guard is not None and is_dead(tracer, self.guard))  # (inside dead: dead)
        self.saved = None
        self.errstate = None
        if dead and not tracer.dead:
            self.saved = _save_state(tracer) if self.save else None
            self.errstate = np.errstate(all="ignore")  # (dead code may divide by the zeros it reads)
            self.errstate.__enter__()
        tracer.guard, tracer.dead = self.guard, dead
        return self

    def __exit__(self, *exc) -> bool:
        tracer = self.tracer
        tracer.guard, tracer.dead = self.previous
        if self.errstate is not None:
            self.errstate.__exit__(*exc)
        if self.saved is not None:
            _restore_state(tracer, self.saved)
        return False


def run_under(guard, fn, *args):
    """``fn(*args)``, its steps recorded under ``guard`` when a trace is in progress (a branch's backward rule,
    called by the tape after the branch ended)."""
    from featherflow.compiler._state import current

    tracer = current()
    if tracer is None:
        return fn(*args)
    with under(tracer, guard, save=False):
        return fn(*args)


def _save_state(tracer):
    saved = [(array, array.copy()) for _, array, _, _ in tracer.states.values()]
    outer = tracer.snapshots
    tracer.snapshots = saved  # (arrays bound as state inside the branch are saved as they are bound)
    generator = _backend_random._state["generator"]
    rng = None if generator is None else generator.bit_generator.state
    return saved, len(saved), outer, generator, rng, _backend_random._state.get("counter")


def _restore_state(tracer, saved) -> None:
    arrays, before, outer, generator, rng, counter = saved
    for array, contents in reversed(arrays):
        array[...] = contents
    if outer is not None:  # (a dry trace puts back, at its end, what the branch bound too)
        outer.extend(arrays[before:])
    tracer.snapshots = outer
    if generator is not None:
        generator.bit_generator.state = rng
    _backend_random._state["generator"] = generator
    if counter is not None:
        _backend_random._state["counter"] = counter


__all__ = ["is_dead", "passthrough", "run_under", "select", "under"]
