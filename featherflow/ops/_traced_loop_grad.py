"""The gradient of a compiled ``tf.while_loop`` (``_traced_loop.py``): backpropagation through its iterations.

The forward loop keeps each iteration's loop variables and the values of the body its backward reads
(activations, a branch's predicate). The backward is one more program, traced from the tape's backward of
the body: from an iteration's kept values it gives the gradients of the variables the iteration started from
and of the values the body read from outside the loop (weights, captured tensors), for the gradients of what
it returned. A host step runs it over the kept iterations, last to first, and sums the captured values'
gradients: the loop is one node of the tape, whose backward is that step. (A body whose values cannot all be
kept as values - it writes arrays it created, or runs a differentiated loop of its own - is recomputed in the
backward program instead.)

>>> import featherflow as ff
>>> w = ff.Variable(1.5)
>>> @ff.function
... def power(n):
...     with ff.GradientTape() as tape:
...         y = ff.while_loop(lambda i, p: i < n, lambda i, p: (i + 1, p * w), (0, ff.constant(1.0)))[1]
...     return y, tape.gradient(y, w)
>>> [round(float(t), 4) for t in power(ff.constant(3))], power.eager_fallback_reason is None
([3.375, 6.75], True)
"""

from __future__ import annotations

import numpy as np

from featherflow import compiler
from featherflow.compiler.regions import free_slots, new_value, part_program, record_apart, traced_value
from featherflow.compiler.steps import reads, slots
from featherflow.core.runtime import state as _runtime
from featherflow.core.tape import GradientTape, pause_all_tapes
from featherflow.core.tensor import Tensor


def _float(t) -> bool:
    return np.dtype(t.dtype).kind in "fc"


class Recorder:
    """While the body is recorded: a persistent tape that sees every op the outer tapes would (the fresh loop
    variables watched, and whatever the outer tapes watch)."""

    def __init__(self, fresh) -> None:
        self.tape = GradientTape(persistent=True)
        self.tape._ff_loop_recorder = True  # (not a user's tape: a loop recorded inside the body may compile)
        self.fresh = fresh

    def __enter__(self):
        outer = [tape for tape in _runtime.tapes if tape._recording]
        if not outer:  # nothing to differentiate: no tape needed
            return self
        self.tape.__enter__()
        for tape in outer:
            self.tape._watched |= tape._watched
        for t in self.fresh:
            if _float(t):
                self.tape.watch(t)
        return self

    def __exit__(self, *exc):
        if self.tape._recording:
            self.tape.__exit__(*exc)
        return False

    def captured(self) -> list:
        """The float tensors the body's recorded ops read that the body did not make (nor the loop variables)."""
        made = {id(t) for t in self.fresh}
        for out, *_ in self.tape._nodes:
            made.update(id(o) for o in (out if out.__class__ is tuple else (out,)))
        found, seen = [], set()
        for _, inputs, *_ in self.tape._nodes:
            for t in inputs:
                if id(t) not in made and id(t) not in seen and _float(t):
                    seen.add(id(t))
                    found.append(t)
        return found


class LoopGradient:
    """The backward host step: ``vjp`` (a Program of ``(*loop variables, *captures, *output gradients)``)
    over the iterations ``loop`` kept, last to first."""

    __slots__ = ("loop", "vjp", "float_vars", "zeros", "__name__")

    def __init__(self, loop, vjp, float_vars: list, zeros: list) -> None:
        self.loop, self.vjp, self.float_vars, self.zeros = loop, vjp, float_vars, zeros
        self.__name__ = "while_loop_gradient"

    def printed_parts(self, name: str) -> str:
        """The gradient's program as ``pretty_printed_code`` shows it."""
        vjp = self.vjp.printed_source().replace("def program(", f"def {name}_vjp(", 1)
        return (f"# {name}(g..., c...): for each kept iteration's v..., last to first: g..., dc = {name}_vjp(v..., "
                f"c..., g...); returns g... and the sums of dc\n{vjp.rstrip()}\n")

    def __call__(self, *values):
        k = len(self.float_vars)
        grads, captures = list(values[:k]), values[k:]
        totals = None
        for variables, kept in reversed(self.loop.saved):
            out = self.vjp(*variables, *captures, *grads, *kept)
            grads = list(out[:k])
            part = out[k:]
            if totals is None:
                totals = [np.array(p) for p in part]  # (our own arrays: a program may return a constant)
            else:
                for total, p in zip(totals, part):
                    np.add(total, p, out=total)
        if totals is None:  # no iteration: the loop passed its variables through, read nothing
            totals = [np.zeros(shape, dtype) for shape, dtype in self.zeros]
        return tuple(np.array(g, copy=True) for g in grads) + tuple(totals)


def build(tracer, recorder, fresh, new_flat_tensors, body_steps, body_written):
    """The backward of a compiled loop whose body ``recorder`` recorded: ``(vjp Program, captured tensors,
    float loop-variable indices, vjp capture slots, kept slots)``.

    The values of the body the backward reads (``kept``: activations, a branch's predicate) are outputs of the
    forward body too, kept per iteration and passed to the vjp program, which then holds the backward's steps
    only. A body that writes into arrays it created (read by reference, not by value), or that runs a loop of
    its own, is recomputed in the vjp program instead (``kept`` empty)."""
    captured = recorder.captured()
    float_vars = [i for i, t in enumerate(fresh) if _float(t)]
    targets = [new_flat_tensors[i] for i in float_vars]
    seeds = [Tensor(new_value(tracer, np.zeros(np.shape(tracer.real(t.value)), np.dtype(t.dtype)))) for t in targets]
    sources = [fresh[i] for i in float_vars] + captured

    def vjp():
        with pause_all_tapes():
            grads = recorder.tape.gradient(targets, sources, output_gradients=seeds)
        return [np.zeros(np.shape(tracer.real(source.value)), np.dtype(source.dtype)) if g is None
                else tracer.output(g.value) for g, source in zip(grads, sources)]

    outputs, vjp_steps, vjp_written = record_apart(tracer, vjp, ())
    own = [t.value._slot for t in fresh]
    seed_slots = [s.value._slot for s in seeds]
    kept = []
    # (recompute the forward inside the vjp program when the body writes arrays it created, or runs a loop that
    # keeps its iterations for its own gradient: state outside the slots)
    if body_written or any(step.kind == "host" and getattr(step.fn, "keep", False) is True for step in body_steps):
        steps, written = body_steps + vjp_steps, {**body_written, **vjp_written}
    else:
        steps, written = vjp_steps, vjp_written
        made = set()
        for step in body_steps:
            made.update(() if step.outs is None else step.outs if isinstance(step.outs, tuple) else (step.outs,))
        read = slots([reads(step) for step in vjp_steps], [])
        read += [o._slot for o in outputs if compiler.is_traced(o)]
        kept = [slot for i, slot in enumerate(read) if slot in made and slot not in read[:i]]
    captures = free_slots(tracer, (steps,), outputs, own + seed_slots + kept)
    names = [f"v{i}" for i in range(len(own))] + [f"c{i}" for i in range(len(captures))] + \
        [f"g{i}" for i in range(len(seed_slots))] + [f"k{i}" for i in range(len(kept))]
    program = part_program(tracer, steps, written, own + captures + seed_slots + kept, outputs, names)
    return program, captured, float_vars, captures, kept


def attach(tracer, loop, vjp, captured, float_vars, vjp_captures, init_flat, outs):
    """The loop's outputs as tensors, recorded on the outer tapes as one node whose backward runs ``vjp``."""
    tensors = [Tensor(o) for o in outs]
    zeros = [(np.shape(tracer.real(t.value)), np.dtype(t.dtype)) for t in captured]
    gradient = LoopGradient(loop, vjp, float_vars, zeros)
    float_outs = tuple(tensors[i] for i in float_vars)
    inputs = [init_flat[i] for i in float_vars] + captured

    def backward(grads, needs):
        seeds = [g if g is not None else np.zeros(np.shape(o.value), np.dtype(o.dtype))
                 for g, o in zip(grads, float_outs)]
        results = compiler.host_call(gradient, *seeds, *[traced_value(tracer, s) for s in vjp_captures])
        return tuple(r if need else None for r, need in zip(results, needs))

    if float_outs:
        for tape in list(_runtime.tapes):
            if tape._recording:
                tape._maybe_record("while_loop", float_outs, inputs, backward)
    return tensors
