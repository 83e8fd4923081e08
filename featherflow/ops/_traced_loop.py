"""``tf.while_loop`` whose predicate is a tensor computed inside a ``tf.function``: one compiled loop step.

``cond`` and ``body`` are traced once each, on loop variables that are fresh values of the trace, into two
small programs of their own (``compiler.Program`` without planned buffers: a loop-carried value never shares
a buffer with the next iteration's). The function's program then holds one host step that runs ``while
cond(*vars): vars = body(*vars)`` over them, with the values they read from outside the loop (captures)
passed in. The trace's own recording of ``cond`` and ``body`` writes nothing: arrays bound as state and the
random generator are put back, and the first call runs the loop on real values like any later one.

When a tape records the body's ops, the loop is one node of the tape, whose backward runs the body's
backward over the kept iterations (``_traced_loop_grad.py``). A loop whose loop variables change shape is not
compiled: the function runs eagerly, with a warning, as before.

>>> import featherflow as ff
>>> @ff.function
... def collatz_steps(n):
...     step = lambda k, m: (k + 1, ff.where(m % 2 == 0, m // 2, 3 * m + 1))
...     return ff.while_loop(lambda k, m: m > 1, step, (ff.constant(0), n))[0]
>>> int(collatz_steps(ff.constant(6))), int(collatz_steps(ff.constant(27)))
(8, 111)
>>> collatz_steps.eager_fallback_reason is None
True
"""

from __future__ import annotations

import numpy as np

from featherflow import compiler
from featherflow.compiler import branches
from featherflow.compiler.regions import free_slots, new_value, part_program, record_apart, traced_value
from featherflow.core import nest
from featherflow.core.runtime import state as _runtime
from featherflow.core.tensor import Tensor
from featherflow.ops import _traced_loop_grad as _grad


class _Loop:
    """The host step: ``cond`` / ``body`` programs run on ``(*loop variables, *captures)``."""

    __slots__ = ("cond", "body", "count", "limit", "skip", "keep", "saved", "__name__")

    def __init__(self, cond, body, count: int, limit, keep: bool = False) -> None:
        self.cond, self.body, self.count, self.limit = cond, body, count, limit
        self.skip = False  # (set while the trace records the loop inside a branch its call does not take)
        self.keep = keep  # keep each iteration's loop variables in ``saved`` (for the gradient)
        self.saved: list = []
        self.__name__ = "while_loop"

    def printed_parts(self, name: str) -> str:
        """The loop's programs as ``pretty_printed_code`` shows them, under the name the program calls it by."""
        cond = self.cond.printed_source().replace("def program(", f"def {name}_cond(", 1)
        body = self.body.printed_source().replace("def program(", f"def {name}_body(", 1)
        limit = "" if self.limit is None else f", at most {self.limit} times"
        return (f"# {name}(v..., c...): while {name}_cond(v..., c...): v... = {name}_body(v..., c...){limit}\n"
                f"{cond.rstrip()}\n\n{body.rstrip()}\n")

    def __call__(self, *values):
        count = self.count
        current, captures = list(values[:count]), values[count:]
        done = 0
        saved = self.saved = []
        if not self.skip:
            while (self.limit is None or done < self.limit) and self.cond(*current, *captures)[0]:
                out = self.body(*current, *captures)
                if self.keep:  # the iteration's variables and the body values its backward reads
                    saved.append((current, out[count:]))
                current = list(out[:count])
                done += 1
        return tuple(np.array(v) for v in current) if not done else tuple(current)


def run(cond, body, state, args_of, check, limit, back_prop=True):
    """Compile the rest of a ``while_loop`` whose ``cond`` gave a traced predicate for ``state``. Returns the
    final state, or ``None`` when the loop cannot be compiled (the trace then notes why and goes on eagerly).

    Args:
        args_of: ``args_of(state)``: the arguments ``cond`` and ``body`` take.
        check: ``check(result, state)``: ``body``'s result in ``state``'s structure, checked.
        limit: the iterations left (``maximum_iterations``), or None.
    """
    tracer = compiler.current()
    flat = nest.flatten(state)
    if not all(isinstance(v, Tensor) for v in flat):
        tracer.escape(None, "tf.while_loop over TensorArray / sparse / ragged loop variables", value=None)
        return None
    marks = [(tape, len(tape._nodes)) for tape in _runtime.tapes]
    saved = branches._save_state(tracer)
    try:
        fresh = [Tensor(new_value(tracer, np.array(tracer.real(v.value)))) for v in flat]
        loop_state = nest.pack_sequence_as(state, fresh)
        pred, cond_steps, cond_written = record_apart(tracer, cond, args_of(loop_state))
        if not isinstance(pred, Tensor):
            pred = Tensor(np.asarray(pred))

        def traced_body(*args):
            result = check(body(*args), loop_state)  # (a written buffer becomes a value inside the recording)
            return nest.flatten(result), [tracer.output(v.value) for v in nest.flatten(result)]

        with _grad.Recorder(fresh) as recorder:
            (result_flat, new_flat), body_steps, body_written = record_apart(tracer, traced_body, args_of(loop_state))
    finally:
        branches._restore_state(tracer, saved)
    differentiable = False
    for tape, start in marks:  # (the loop is one node of the tapes, below)
        differentiable = differentiable or len(tape._nodes) > start
        del tape._nodes[start:]
    differentiable = differentiable and back_prop
    recording = [tape for tape in _runtime.tapes if tape._recording and not getattr(tape, "_ff_loop_recorder", 0)]
    if differentiable and (len(recording) > 1 or any(tape._persistent for tape in recording)):
        # (a gradient that may be differentiated again: the loop's backward has no second-order rule)
        tracer.escape(None, "tf.while_loop under nested or persistent GradientTapes", value=None)
        return None
    changed = [(np.shape(tracer.real(a.value)), np.shape(tracer.real(b))) for a, b in zip(fresh, new_flat)
               if np.shape(tracer.real(a.value)) != np.shape(tracer.real(b))]
    if changed:
        tracer.escape(None, f"tf.while_loop whose loop variables change shape {changed[0][0]} -> "
                            f"{changed[0][1]}", value=None)
        return None
    own = [v.value._slot for v in fresh]
    captures = free_slots(tracer, (cond_steps, body_steps), [pred.value] + new_flat, own)
    names = [f"v{i}" for i in range(len(own))] + [f"c{i}" for i in range(len(captures))]
    cond_program = part_program(tracer, cond_steps, cond_written, own + captures, [pred.value], names)
    kept = []
    if differentiable:
        tensors = [Tensor(v) if not isinstance(r, Tensor) else r for v, r in zip(new_flat, result_flat)]
        vjp = _grad.build(tracer, recorder, fresh, tensors, body_steps, body_written)
        kept = [traced_value(tracer, slot) for slot in vjp[4]]
    body_program = part_program(tracer, body_steps, body_written, own + captures, new_flat + kept, names)
    loop = _Loop(cond_program, body_program, len(own), limit, keep=differentiable)
    loop.skip = tracer.dead
    try:
        outs = compiler.host_call(loop, *[v.value for v in flat], *[traced_value(tracer, s) for s in captures])
    finally:
        loop.skip = False
    if not differentiable:
        return nest.pack_sequence_as(state, [Tensor(o) for o in outs])
    program, captured, float_vars, vjp_captures, _ = vjp
    return nest.pack_sequence_as(state, _grad.attach(tracer, loop, program, captured, float_vars, vjp_captures, flat,
                                                     outs))
